"""
Hosting a WSGI application on a bounded thread pool.

The application is named C{module:callable} (or C{module.callable}) and
imported, as gunicorn does, with the working directory first on the path:
C{twistd web-app --wsgi hello:app} run from C{hello.py}'s own directory
finds it.
"""

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from twisted.web.resource import IResource
from twisted.web.server import Request
from twisted.web.wsgi import WSGIResource
from zope.interface import implementer

from services.persistence import PersistentObject
from services.threadpool import ThreadPoolService

__all__ = ["WSGIApplication", "resolveApplication"]


def _splitName(name):
    """
    The module and attribute path of C{module:callable} or
    C{module.callable}.
    """
    if ":" in name:
        moduleName, _, attribute = name.partition(":")
    else:
        moduleName, _, attribute = name.rpartition(".")
    if not (moduleName and attribute):
        raise ValueError("give it as module:callable")
    return moduleName, attribute


def _importModule(moduleName):
    """
    Import C{moduleName} with the working directory first on the path.

    @raise ValueError: naming the module if it is missing, else the
        error its import raised.
    """
    directory = os.getcwd()
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        return importlib.import_module(moduleName)
    except Exception as e:
        if _isMissing(e, moduleName):
            raise ValueError(f"No module named {e.name!r} (looked in {directory} "
                             "and the Python path)") from None
        raise ValueError(f"importing {moduleName!r} failed: {type(e).__name__}: {e}") from None


def _isMissing(error, moduleName):
    """
    Whether C{error} says C{moduleName} itself (or a package holding it)
    does not exist, rather than that something it imports is missing.
    """
    return (isinstance(error, ModuleNotFoundError) and bool(error.name)
            and (moduleName + ".").startswith(error.name + "."))


def resolveApplication(name: str) -> Callable[..., Any]:
    """
    Import the WSGI callable named C{module:callable} (or
    C{module.callable}), the working directory first on the path.

    @raise ValueError: with one sentence naming C{name} and what is
        missing (the module, or the attribute of the module), if it cannot
        be imported or is not callable.
    """
    try:
        moduleName, attribute = _splitName(name)
        application = _importModule(moduleName)
    except ValueError as e:
        raise ValueError(f"cannot import WSGI application {name!r}: {e}") from None
    for part in attribute.split("."):
        if not hasattr(application, part):
            raise ValueError(f"cannot import WSGI application {name!r}: "
                             f"{_describe(application)} has no attribute {part!r}")
        application = getattr(application, part)
    if not callable(application):
        raise ValueError(f"WSGI application {name!r} is not callable")
    return application


def _describe(owner):
    if type(owner) is type(sys):
        return f"module {owner.__name__!r}"
    return f"{type(owner).__name__} object"


@implementer(IResource)
class WSGIApplication(PersistentObject):
    """
    A leaf resource running the WSGI application C{name} on the thread pool
    of a running L{services.threadpool.ThreadPoolService}. Only the name
    and the pool service are pickled.
    """

    isLeaf = True
    _volatile = ("_application", "_resource")

    def __init__(self, name: str, pool: ThreadPoolService, reactor: Any = None) -> None:
        self.name = name
        self.pool = pool
        self._reactor = reactor
        self._volatileInit()

    def _volatileInit(self):
        PersistentObject._volatileInit(self)
        self._application = resolveApplication(self.name)

    def _wsgiResource(self):
        if self._resource is None or self._resource._threadpool is not self.pool.threadpool:
            self._resource = WSGIResource(self._getReactor(), self.pool.threadpool,
                                          self._application)
        return self._resource

    def render(self, request: Request) -> Any:
        """
        Hand the request to the application on a pool thread.
        """
        return self._wsgiResource().render(request)

    def getChildWithDefault(self, name: bytes, request: Request) -> IResource:
        """
        Never called: this resource is a leaf.
        """
        raise NotImplementedError("WSGIApplication is a leaf resource")

    def putChild(self, path: bytes, child: IResource) -> None:
        """
        Not supported: the WSGI application owns every path below it.
        """
        raise NotImplementedError("WSGIApplication is a leaf resource")
