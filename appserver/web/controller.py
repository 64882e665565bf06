"""
Controllers: classes whose methods, decorated with L{route}, handle
requests.
"""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from appserver.web.router import parsePattern
from appserver.web.templates import TemplateElement, TemplateLoader

__all__ = ["Controller", "route"]

_ROUTES = "_appserverRoutes"


_Function = TypeVar("_Function", bound=Callable[..., Any])


def route(pattern: str, methods: Iterable[str] = ("GET",)) -> Callable[[_Function], _Function]:
    """
    Declare that the decorated controller method handles C{pattern} for
    C{methods} (default GET; HEAD is answered from GET). The method is
    called as C{method(request, **parameters)}. A method may carry several
    C{@route} decorators.

    @raise appserver.web.router.RouteError: at once, for a malformed
        pattern.
    """
    if pattern:
        parsePattern(pattern)
    methods = tuple(m.upper() for m in methods)

    def decorate(function: _Function) -> _Function:
        function.__dict__.setdefault(_ROUTES, []).append((pattern, methods))
        return function

    return decorate


def joinPrefix(prefix: str, pattern: str) -> str:
    """
    The full pattern of C{pattern} under a controller's C{prefix}: the
    prefix without its trailing slash, then the pattern (so C{"/api"} and
    C{"/items"} give C{"/api/items"}, and C{"/"} gives C{"/api/"}).
    """
    return prefix.rstrip("/") + pattern if prefix else pattern


class Controller:
    """
    Base class of controllers. An app directory's controller files are
    searched for subclasses, each instantiated once (without arguments).

    @cvar prefix: prepended to every route of the class, such as C{"/api"}.
    @ivar app: the L{appserver.web.appdir.App} the controller belongs to,
        set when the app is loaded.
    @ivar templates: the app's L{appserver.web.templates.TemplateLoader},
        or L{None} when the app has no templates.
    """

    prefix: str = ""
    app: Any = None
    templates: TemplateLoader | None = None

    def routes(self) -> list[tuple[str, tuple[str, ...], Callable[..., Any]]]:
        """
        The routes of this controller as C{(full pattern, methods, bound
        method)} triples, in the order the methods are defined.
        """
        found = []
        for name in _definitionOrder(type(self)):
            function: Any = getattr(type(self), name, None)
            for pattern, methods in getattr(function, _ROUTES, ()):
                found.append((joinPrefix(self.prefix, pattern), methods,
                              function.__get__(self, type(self))))
        return found

    def template(self, name: str, **data: Any) -> TemplateElement:
        """
        Render template C{name} of the app with C{data}: a renderable result.
        See L{appserver.web.templates.TemplateElement}.
        """
        if self.templates is None:
            raise LookupError(f"{type(self).__name__} has no templates directory")
        return self.templates.element(name, **data)


def _definitionOrder(cls):
    names = []
    for klass in reversed(cls.__mro__):
        for name in vars(klass):
            if name not in names:
                names.append(name)
    return names
