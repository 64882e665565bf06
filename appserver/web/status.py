"""
The status page: C{GET /_appserver/services} lists the running service
tree as JSON.

Each entry has the service's C{name}, C{class} (dotted), C{running}, its
C{children} when it has any, and C{figures}: what the service reports
through L{services.figures.IServiceFigures} (the database pool's URL,
thread settings, threads started and busy; the reloader's mode, last reload
time, duration, paths and error), the addresses its ports are actually
bound to, the web service's open connections and those answered 503 for
being over its limit, the session store and what it reports (the memory
store: how many sessions it holds, the bytes they use and may use, how
many were evicted to stay under that bound), and the app's route count and
last reload error. Every URL in them is shown with its password masked
(C{redis://:***@host:6379/0}).

Who may see it (C{access}): C{"loopback"} (the default of C{twistd
web-app}) answers only clients connecting from 127.0.0.0/8, C{::1} or a
UNIX socket, and only requests without proxy headers (C{Forwarded},
C{X-Forwarded-For}, C{X-Real-IP}), since a reverse proxy on the same
machine makes every client look local; others get the same 404 as an
unknown path. C{"any"} answers everyone. With C{"off"}, C{twistd web-app}
does not install the page at all.
"""

import ipaddress
import json
from typing import Any

from twisted.application.service import IService
from twisted.internet.address import UNIXAddress
from twisted.web.resource import IResource, getChildForRequest
from twisted.web.server import Request
from zope.interface import implementer

from appserver.config import choice
from services.db.url import maskURL
from services.figures import IServiceFigures

__all__ = ["StatusGate", "ServicesPage", "describeTree", "isLocalRequest", "ACCESS_CHOICES", "PATH",
           "statusAccess"]

ACCESS_CHOICES = ("off", "loopback", "any")
PATH = [b"_appserver", b"services"]
_PROXY_HEADERS = (b"forwarded", b"x-forwarded-for", b"x-real-ip")
_JSON = b"application/json"
_TEXT = b"text/plain; charset=utf-8"


statusAccess = choice(*ACCESS_CHOICES)
"""
Coerce an option value to one of L{ACCESS_CHOICES}.
"""


def isLocalRequest(request: Request) -> bool:
    """
    Whether C{request} came straight from this machine: a loopback address
    or a UNIX socket, and no proxy header.
    """
    headers = request.requestHeaders
    if any(headers.hasHeader(name) for name in _PROXY_HEADERS):
        return False
    address = request.getClientAddress()
    if isinstance(address, UNIXAddress):
        return True
    try:
        return ipaddress.ip_address(getattr(address, "host", "")).is_loopback
    except ValueError:
        return False


def _className(obj):
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def serviceFigures(service: IService) -> Any:
    """
    The key figures of one service, a JSON-ready dict (see the module
    docstring), with the password of every URL in them masked.
    """
    return _masked(_figures(service))


def _masked(value):
    """
    C{value} with every string in it (however deep in dicts and lists)
    passed through L{maskURL}: figures come from any service's C{stats()},
    a session store spec or an error message, and a URL in any of them may
    carry a password.
    """
    if isinstance(value, str):
        return maskURL(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(item) for item in value]
    return value


def _figures(service):
    """
    What C{service} reports through L{IServiceFigures}; nothing for a
    service that does not provide it.
    """
    reporter = IServiceFigures(service, None)
    return dict(reporter.figures()) if reporter is not None else {}


def describeTree(service: Any) -> dict[str, Any]:
    """
    Describe C{service} and, recursively, its children.
    """
    entry = {
        "name": service.name,
        "class": _className(service),
        "running": bool(service.running),
        "figures": serviceFigures(service),
    }
    children = list(service) if hasattr(service, "namedServices") else []
    if children:
        entry["children"] = [describeTree(child) for child in children]
    return entry


@implementer(IResource)
class ServicesPage:
    """
    The JSON page describing C{root}, shown according to C{access}.

    @ivar root: the service tree to describe (the C{web-app} service).
    @ivar access: C{"loopback"} or C{"any"}.
    """

    isLeaf = True

    def __init__(self, root: IService, access: str = "loopback") -> None:
        self.root = root
        self.access = access

    def getChildWithDefault(self, name: bytes, request: Request) -> IResource:
        """
        Never called: this resource is a leaf.
        """
        raise NotImplementedError("ServicesPage is a leaf")

    def putChild(self, path: bytes, child: IResource) -> None:
        """
        Children are not supported.
        """
        raise NotImplementedError("ServicesPage is a leaf")

    def render(self, request: Request) -> bytes:
        """
        The tree as JSON for GET and HEAD by an allowed client; 404 for a
        client that is not, 405 for other methods.
        """
        if self.access != "any" and not isLocalRequest(request):
            return _plain(request, 404, b"Not Found")
        if request.method not in (b"GET", b"HEAD"):
            request.setHeader(b"allow", b"GET, HEAD")
            return _plain(request, 405, b"Method Not Allowed")
        body = json.dumps({"services": [describeTree(self.root)]}, indent=2,
                          default=str).encode("utf-8")
        request.setHeader(b"content-type", _JSON)
        request.setHeader(b"cache-control", b"no-store")
        return body


def _plain(request, code, body):
    request.setResponseCode(code)
    request.setHeader(b"content-type", _TEXT)
    return body


@implementer(IResource)
class StatusGate:
    """
    Serve C{page} at C{/_appserver/services} and everything else from
    C{resource}: a leaf wrapper, so the check costs one comparison per
    request and survives the app's router being replaced on reload.

    @ivar resource: the site's real root resource.
    @ivar page: the L{ServicesPage}.
    """

    isLeaf = True

    def __init__(self, resource: IResource, page: ServicesPage) -> None:
        # Any: mypy reads the methods of zope interfaces as taking no self.
        self.resource: Any = resource
        self.page = page

    def getChildWithDefault(self, name: bytes, request: Request) -> IResource:
        """
        Never called: this resource is a leaf.
        """
        raise NotImplementedError("StatusGate is a leaf")

    def putChild(self, path: bytes, child: IResource) -> None:
        """
        Add a child to the wrapped resource.
        """
        self.resource.putChild(path, child)

    def render(self, request):
        """
        Render the page for its path, else what C{resource} finds.
        """
        if request.postpath[:2] == PATH and len(request.postpath) == 2:
            return self.page.render(request)
        return getChildForRequest(self.resource, request).render(request)
