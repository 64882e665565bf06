"""
The app resource: dispatches requests through a L{Router} and renders what
handlers return.

Order of dispatch for a request path:
 0. a resource pinned to that exact path (L{AppResource.pin}: the status
    page), whatever the router holds;
 1. a route with the request's method (HEAD falls back to the GET route);
 2. a route with the path but another method: OPTIONS answers 204 with an
    C{Allow} header, any other method gets 405 with C{Allow};
 3. the trailing-slash policy: when the path with its trailing slash added
    or removed matches a route, a 308 Permanent Redirect to that canonical
    form (query kept, method and body kept by clients);
 4. a resource mounted on the first segment (the app's C{static} files);
 5. the fallback resource, if any (C{--static DIR} or a WSGI app);
 6. 404.

Results (possibly through a Deferred or coroutine): bytes (as is), str
(C{text/html; charset=utf-8}), dict/list (C{application/json}), a
L{Response}, an L{IResource} (rendered with the rest of the path), an
L{IRenderable} or L{Tag} (flattened, C{text/html}), L{None} (204, unless the handler
wrote the response itself) or C{NOT_DONE_YET} (the handler finishes the
request itself). Hooks registered with L{beforeResponse} run when the result
is ready, before anything is written.

Failures: a raised L{HTTPError} is its own response; an exception of a type
listed in C{errorStatuses} (such as the database pool's
C{DatabaseUnavailable}, mapped to 503 by C{twistd web-app}) gets that status
and short body, logged in one line; anything else is a 500.

Reload errors: while L{AppResource.setReloadError} holds a message (the app's
code failed to reload, and the last good router keeps serving) and C{debug}
is on, every response this resource writes carries an
C{X-Appserver-Reload-Error} header, and HTML bodies get a banner with the
message just after their C{<body>} tag (or at their start).
"""

import html
import re
from collections.abc import Iterable
from typing import Any

from types import CoroutineType

from twisted.internet.defer import CancelledError, Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import resource as _resource
from twisted.web.iweb import IRenderable
from twisted.web.resource import IResource
from twisted.web.server import NOT_DONE_YET, Request
from twisted.web.template import Tag, flattenString
from zope.interface import implementer

from appserver.web.eager import runEagerly
from appserver.web.hooks import (
    discardBeforeResponse, hasBeforeResponse, runBeforeResponseEagerly,
)
from appserver.web.responses import HTML, TEXT, HTTPError, NotFound, Response, encodeBody
from appserver.web.router import Router
from services.persistence import PersistentObject

__all__ = ["AppResource"]

_JSON = b"application/json"
_NO_BODY = frozenset({204, 304})
_DOCTYPE = b"<!DOCTYPE html>\n"
_BODY_TAG = re.compile(rb"<body\b[^>]*>", re.I)
_BANNER = (b'<div id="appserver-reload-error" style="background:#b00020;color:#fff;'
           b'padding:.6em 1em;font:14px/1.4 monospace;white-space:pre-wrap">'
           b'Reload failed; the last good code is serving. %s</div>')


@implementer(IResource)
class AppResource(PersistentObject):
    """
    The root resource of an app.

    @ivar router: the L{Router} in use. Replace it with L{setRouter}: one
        attribute assignment, so a request sees either the old or the new
        routes, never a mix. It is not pickled; whoever owns the app (the
        C{app} service) installs it again after loading.
    @ivar fallback: an L{IResource} for paths no route or mount claims.
    @ivar displayTracebacks: send tracebacks of failed handlers to clients.
    @ivar errorStatuses: maps exception types to C{(code, body)}: a handler
        failing with one of them gets that response instead of a 500.
    @ivar debug: show the reload error banner (see the module docstring).
    @ivar reloadError: the message of the last failed reload, or L{None};
        not pickled.
    @ivar pinned: maps tuples of path segments to the resources L{pin}ned
        there, or L{None} when there are none.
    """

    isLeaf = True
    _log = Logger()
    _volatile = ("router", "reloadError")
    # Defaults for resources pickled before these attributes existed.
    errorStatuses: dict[type[BaseException], tuple[int, bytes]] = {}
    debug = False
    reloadError: str | None = None
    pinned: dict[tuple[bytes, ...], Any] | None = None

    def __init__(self, router: Router | None = None, fallback: IResource | None = None,
                 displayTracebacks: bool = False,
                 errorStatuses: dict[type[BaseException], tuple[int, bytes]] | None = None,
                 debug: bool = False) -> None:
        self.fallback = fallback
        self.displayTracebacks = displayTracebacks
        self.errorStatuses = dict(errorStatuses or {})
        self.debug = debug
        self._volatileInit()
        if router is not None:
            self.router = router

    def _volatileInit(self):
        PersistentObject._volatileInit(self)
        self.router = Router()

    def setRouter(self, router: Router) -> None:
        """
        Serve C{router} from the next request on.
        """
        self.router = router

    def setReloadError(self, message: str | None) -> None:
        """
        Record why the app's code failed to reload (L{None}: it reloaded),
        for the C{debug} banner.
        """
        self.reloadError = message

    def getChildWithDefault(self, name: bytes, request: Request) -> _resource.Resource:
        """
        Never called by twisted.web: this resource is a leaf.
        """
        return _resource.NoResource()

    def pin(self, segments: Iterable[bytes], resource: IResource) -> None:
        """
        Serve C{resource} (a leaf) at exactly the path C{segments} (a list of
        bytes), before any route, mount or fallback, and whichever router
        is in use: what a wrapper resource checking the path would do,
        without a wrapper's cost on every other request.
        """
        pinned = dict(self.pinned or {})
        pinned[tuple(segments)] = resource
        self.pinned = pinned

    def putChild(self, path: str | bytes, child: IResource) -> None:
        """
        Mount C{child} on the current router; see L{Router.mount}.
        """
        self.router.mount(path, child)

    def render(self, request: Request) -> Any:
        """
        Dispatch C{request}; the response is always written asynchronously
        or already written, so this returns C{NOT_DONE_YET}.
        """
        path = request.postpath or ()
        if self.pinned is not None:
            pinned = self.pinned.get(tuple(path))
            if pinned is not None:
                return pinned.render(request)
        match = self.router.lookup(request.method, path)
        if match is None or match.endpoint is None:
            self._unmatched(request, match)
            return NOT_DONE_YET
        self._call(request, match)
        return NOT_DONE_YET

    def _call(self, request, match):
        endpoint = match.endpoint
        try:
            result = endpoint.handler(request, **match.parameters)
        except Exception:
            self._failed(Failure(), request)
            return
        self._respond(result, request, endpoint)

    def _respond(self, result, request, endpoint):
        kind = type(result)
        if kind is str:
            self._send(request, 200, None, result.encode("utf-8"), HTML)
        elif kind is bytes:
            self._send(request, 200, None, result, None)
        elif kind is dict or kind is list:
            self._send(request, 200, None, *encodeBody(result))
        else:
            self._respondOther(result, request, endpoint)

    def _respondOther(self, result, request, endpoint):
        if isinstance(result, CoroutineType):
            self._runCoroutine(result, request, endpoint)
        elif isinstance(result, Deferred):
            self._waitFor(result, request, endpoint)
        elif isinstance(result, Response):
            self._sendResponse(request, result)
        elif isinstance(result, (str, bytes, dict, list)):
            self._send(request, 200, None, *encodeBody(result))
        elif IResource.providedBy(result):
            self._afterHooks(request, self._renderResource, request, result, endpoint)
        elif IRenderable.providedBy(result) or isinstance(result, Tag):
            self._flatten(request, result)
        elif result is None:
            self._noResult(request)
        elif result is not NOT_DONE_YET:
            self._failed(Failure(TypeError(
                f"{endpoint.pattern} returned an unsupported {type(result).__name__}"
            )), request)

    def _runCoroutine(self, coroutine, request, endpoint):
        try:
            result = runEagerly(coroutine)
        except BaseException:
            self._failed(Failure(), request)
            return
        self._respond(result, request, endpoint)

    def _waitFor(self, deferred, request, endpoint):
        request.notifyFinish().addErrback(lambda reason: deferred.cancel())
        deferred.addCallback(self._respond, request, endpoint)
        deferred.addErrback(self._failed, request)

    def _noResult(self, request):
        if request.startedWriting:
            if not request.finished:
                request.finish()
        else:
            self._send(request, 204, None, b"", None)

    def _flatten(self, request, renderable):
        flattening = flattenString(request, renderable)
        flattening.addCallback(
            lambda body: self._send(request, 200, None, _DOCTYPE + body, HTML)
        )
        flattening.addErrback(self._failed, request)

    def _sendResponse(self, request, response):
        body, contentType = response.encode()
        self._send(request, response.code, response.headers, body, contentType)

    def _send(self, request, code, headers, body, contentType):
        if hasBeforeResponse(request):
            self._afterHooks(request, self._write, request, code, headers, body, contentType)
        else:
            self._write(request, code, headers, body, contentType)

    def _afterHooks(self, request, then, *args):
        running = runBeforeResponseEagerly(request)
        if running is None:
            try:
                then(*args)
            except Exception:
                self._failed(Failure(), request)
            return
        running.addCallback(lambda ignored: then(*args))
        running.addErrback(self._failed, request)

    def _write(self, request, code, headers, body, contentType):
        if request._disconnected:
            return
        if code != 200:
            request.setResponseCode(code)
        responseHeaders = request.responseHeaders
        if contentType is not None:
            responseHeaders.setRawHeaders(b"content-type", [contentType])
        if headers:
            for name, values in headers.items():
                responseHeaders.setRawHeaders(name, values)
        if self.reloadError is not None and self.debug:
            body = self._withBanner(responseHeaders, contentType, body)
        if code not in _NO_BODY:
            responseHeaders.setRawHeaders(b"content-length", [b"%d" % len(body)])
            if body:
                request.write(body)
        request.finish()

    def _withBanner(self, responseHeaders, contentType, body):
        message = " ".join(self.reloadError.split())
        responseHeaders.setRawHeaders(
            b"x-appserver-reload-error",
            [message.encode("ascii", "backslashreplace")[:1000]])
        contentType = contentType or (responseHeaders.getRawHeaders(b"content-type") or [b""])[0]
        if not contentType.startswith(b"text/html"):
            return body
        banner = _BANNER % html.escape(message).encode("utf-8")
        found = _BODY_TAG.search(body)
        if found is not None:
            return body[:found.end()] + banner + body[found.end():]
        if body.startswith(_DOCTYPE):
            return _DOCTYPE + banner + body[len(_DOCTYPE):]
        return banner + body

    def _renderResource(self, request, resource, endpoint=None):
        if endpoint is not None:
            index = endpoint.pathIndex
            cut = len(request.postpath) if index is None else index
            _consume(request, cut)
        request.render(_resource.getChildForRequest(resource, request))

    def _failed(self, failure, request):
        if failure.check(HTTPError):
            self._sendResponse(request, failure.value)
            return None
        if request._disconnected and failure.check(CancelledError):
            return None
        status = self._errorStatus(failure)
        if status is not None:
            self._answerError(failure, request, *status)
            return None
        self._log.failure("Handler for {method} {uri} failed", failure,
                          method=request.method, uri=request.uri)
        if request._disconnected:
            return None
        if request.startedWriting:
            request.loseConnection()
            return None
        body = b"Internal Server Error"
        if self.displayTracebacks:
            body = failure.getTraceback().encode("utf-8", "replace")
        discardBeforeResponse(request)
        self._write(request, 500, None, body, TEXT)
        return None

    def _errorStatus(self, failure):
        for kind, status in self.errorStatuses.items():
            if failure.check(kind):
                return status
        return None

    def _answerError(self, failure, request, code, body):
        self._log.warn("{method} {uri} answered {code}: {error}", method=request.method,
                       uri=request.uri, code=code, error=failure.getErrorMessage())
        if request._disconnected:
            return
        if request.startedWriting:
            request.loseConnection()
            return
        discardBeforeResponse(request)
        self._write(request, code, None, body, TEXT)

    def _unmatched(self, request, match):
        method = request.method
        router = self.router
        segments = request.postpath
        if method == b"HEAD" and match is not None and b"GET" in match.allowed:
            self._call(request, router.lookup(b"GET", segments))
        elif match is not None:
            self._answerAllowed(request, match.allowed)
        else:
            self._unrouted(request, router, segments)

    def _answerAllowed(self, request, allowed):
        methods = set(allowed) | {b"OPTIONS"}
        if b"GET" in methods:
            methods.add(b"HEAD")
        headers = {b"allow": [b", ".join(sorted(methods))]}
        if request.method == b"OPTIONS":
            self._write(request, 204, headers, b"", None)
        else:
            self._write(request, 405, headers, b"Method Not Allowed", TEXT)

    def _unrouted(self, request, router, segments):
        location = _canonicalLocation(request, router, segments)
        if location is not None:
            self._write(request, 308, {b"location": [location]},
                        b"Permanent Redirect", TEXT)
            return
        mounted = router.mounts.get(segments[0]) if segments else None
        if mounted is not None:
            _consume(request, 1)
            self._renderResource(request, mounted)
        elif self.fallback is not None:
            self._renderResource(request, self.fallback)
        else:
            self._sendResponse(request, NotFound())


def _consume(request, count):
    """
    Move the first C{count} segments of C{request.postpath} to its prepath.
    """
    request.prepath.extend(request.postpath[:count])
    del request.postpath[:count]


def _canonicalLocation(request, router, segments):
    """
    The URL of the canonical (trailing slash added or removed) form of the
    request path, if a route has that form; else L{None}.
    """
    if not segments or segments == [b""]:
        return None
    if segments[-1] == b"":
        alternative = segments[:-1]
    else:
        alternative = segments + [b""]
    if not router.allowed(alternative):
        return None
    path, question, query = request.uri.partition(b"?")
    path = path[:-1] if path.endswith(b"/") else path + b"/"
    if path.startswith(b"//") or not path.startswith(b"/"):
        return None
    return path + question + query
