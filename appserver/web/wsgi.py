"""
Hosting a WSGI application on a bounded thread pool.
"""

from twisted.python import reflect
from twisted.web.resource import IResource
from twisted.web.wsgi import WSGIResource
from zope.interface import implementer

from appserver.persisted import keepAlive

__all__ = ["WSGIApplication", "resolveApplication"]


def resolveApplication(name):
    """
    Import the WSGI callable named C{module:callable} (or
    C{module.callable}).

    @raise ValueError: with one sentence naming C{name}, if it cannot be
        imported or is not callable.
    """
    dotted = name.replace(":", ".")
    try:
        application = reflect.namedAny(dotted)
    except Exception as e:
        raise ValueError(f"cannot import WSGI application {name!r}: {e}") from None
    if not callable(application):
        raise ValueError(f"WSGI application {name!r} is not callable")
    return application


@implementer(IResource)
class WSGIApplication:
    """
    A leaf resource running the WSGI application C{name} on the thread pool
    of a running L{services.threadpool.ThreadPoolService}. Only the name
    and the pool service are pickled.
    """

    isLeaf = True

    def __init__(self, name, pool, reactor=None):
        self.name = name
        self.pool = pool
        self._application = resolveApplication(name)
        self._reactor = reactor
        self._resource = None

    def __getstate__(self):
        return keepAlive(self, {"name": self.name, "pool": self.pool})

    def __setstate__(self, state):
        self.__init__(state["name"], state["pool"])

    def _wsgiResource(self):
        if self._resource is None or self._resource._threadpool is not self.pool.threadpool:
            reactor = self._reactor
            if reactor is None:
                from twisted.internet import reactor
            self._resource = WSGIResource(reactor, self.pool.threadpool, self._application)
        return self._resource

    def render(self, request):
        """
        Hand the request to the application on a pool thread.
        """
        return self._wsgiResource().render(request)

    def getChildWithDefault(self, name, request):
        """
        Never called: this resource is a leaf.
        """
        raise NotImplementedError("WSGIApplication is a leaf resource")

    def putChild(self, path, child):
        """
        Not supported: the WSGI application owns every path below it.
        """
        raise NotImplementedError("WSGIApplication is a leaf resource")
