"""
Attaching a session manager to the requests of a resource tree, so that
L{appserver.sessions.getSession} finds it while the web framework stays
unaware of sessions.
"""

from typing import Any

from twisted.web.resource import IResource
from twisted.web.server import Request
from zope.interface import implementer

from appserver.sessions.interfaces import ISessionManager

__all__ = ["SessionResource"]


@implementer(IResource)
class SessionResource:
    """
    Wrap a resource, giving every request that passes through it a session
    manager (as the request's L{ISessionManager} component). Nothing is
    loaded until a controller asks for the session.

    @ivar wrapped: the wrapped L{IResource}.
    @ivar manager: the L{ISessionManager}.
    """

    def __init__(self, wrapped: IResource, manager: ISessionManager) -> None:
        # Any: mypy reads zope interfaces' methods as taking no self.
        self.wrapped: Any = wrapped
        self.manager = manager

    @property
    def isLeaf(self) -> bool:
        """
        Whether the wrapped resource is a leaf.
        """
        return self.wrapped.isLeaf

    def _attach(self, request):
        request.setComponent(ISessionManager, self.manager)

    def getChildWithDefault(self, name: bytes, request: Request) -> IResource:
        """
        Attach the manager and let the wrapped resource find the child.
        """
        self._attach(request)
        return self.wrapped.getChildWithDefault(name, request)

    def putChild(self, path: bytes, child: IResource) -> None:
        """
        Add a child to the wrapped resource.
        """
        self.wrapped.putChild(path, child)

    def render(self, request: Request) -> Any:
        """
        Attach the manager and let the wrapped resource render.
        """
        self._attach(request)
        return self.wrapped.render(request)
