"""
Loading an application: an app directory or a dotted Python name.

An app directory::

    DIR/controllers/*.py   every Controller subclass defined in a file is
                           instantiated once and its routes registered
    DIR/templates/         templates, looked up by file name
    DIR/static/            served under /static/
    DIR/app.yaml           option values, a configuration layer

A dotted name is C{package.module} or C{package.module:attribute}. The
attribute (without one: the module's C{app} attribute if it has one, else
the module itself) may be an L{App}, a L{Controller} subclass or instance,
a list of those, or a module, whose own Controller subclasses are used. A
package whose directory has a C{controllers} folder is an app directory.
For modules, C{templates} and C{static} folders next to the module are used.

L{AppService} loads the app when the service tree starts, installs its
router in an L{AppResource}, and can load it again (L{AppService.load}).
"""

import importlib
import importlib.util
import itertools
import os
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twisted.python.filepath import FilePath
from zope.interface import implementer

from appserver.web.controller import Controller
from appserver.web.resource import AppResource
from appserver.web.router import RouteError, Router
from appserver.web.static import StaticFiles
from appserver.web.templates import TemplateLoader
from services.errors import StartupError
from services.figures import IServiceFigures
from services.persistence import PersistentService

__all__ = ["App", "AppError", "AppService", "loadApp", "checkApp", "appConfigPath", "appHome",
           "watchedDirectory"]

_loads = itertools.count()


class AppError(StartupError):
    """
    An application cannot be loaded; the message is one sentence naming the
    file (and line) or name at fault.
    """


@dataclass
class App:
    """
    A loaded application.

    @ivar name: the spec it was loaded from (directory or dotted name).
    @ivar controllers: the controller instances.
    @ivar templates: a L{TemplateLoader}, or L{None}.
    @ivar staticPath: the L{FilePath} of the static directory, or L{None}.
    @ivar path: the app directory as a L{FilePath}, or L{None} for a
        module (what a reloader watches).
    """

    name: str
    controllers: list[Controller] = field(default_factory=list)
    templates: TemplateLoader | None = None
    staticPath: FilePath[str] | None = None
    path: FilePath[str] | None = None

    def buildRouter(self, dotfiles: bool = False, followSymlinks: bool = False) -> Router:
        """
        A new L{Router} with every controller's routes and the static files
        mounted on C{static}.

        @param dotfiles: serve static files whose names start with a dot.
        @param followSymlinks: follow links out of the static folder.
        @raise AppError: if a route is malformed or two routes conflict.
        """
        router = Router()
        for controller in self.controllers:
            for pattern, methods, handler in controller.routes():
                try:
                    router.add(pattern, methods, handler)
                except RouteError as e:
                    raise AppError(f"In {type(controller).__qualname__}: {e}") from None
        if self.staticPath is not None:
            router.mount("static", StaticFiles(self.staticPath.path, dotfiles=dotfiles,
                                               followSymlinks=followSymlinks))
        return router


def _isDirectorySpec(spec):
    return os.sep in spec or "/" in spec or os.path.isdir(spec)


def appConfigPath(spec: str) -> str | None:
    """
    The C{app.yaml} of the app directory C{spec}, or L{None}.
    """
    if spec and _isDirectorySpec(spec):
        path = os.path.join(spec, "app.yaml")
        if os.path.isfile(path):
            return path
    return None


def appHome(spec):
    """
    The directory of the app C{spec}: the directory itself, or for a
    dotted name the package's directory (a module's folder); L{None}
    without an app. The dotted name is found, not imported.
    """
    if not spec:
        return None
    if os.path.isdir(spec):
        return os.path.abspath(spec)
    found = importlib.util.find_spec(spec.partition(":")[0])
    if found.submodule_search_locations:
        return os.path.abspath(list(found.submodule_search_locations)[0])
    return os.path.dirname(os.path.abspath(found.origin)) if found.origin else None


def watchedDirectory(spec: str | None) -> str | None:
    """
    The directory to watch for changes of the app C{spec}: the app
    directory, or the directory of a package app that has C{controllers/};
    else L{None}.
    """
    if not spec:
        return None
    if os.path.isdir(spec):
        return os.path.abspath(spec)
    home = appHome(spec)
    if ":" not in spec and home and os.path.isdir(os.path.join(home, "controllers")):
        return home
    return None


def _controllerFiles(directory):
    folder = FilePath(directory).child("controllers")
    if not folder.isdir():
        return []
    return sorted(
        (p for p in folder.globChildren("*.py") if not p.basename().startswith("_")),
        key=lambda p: p.basename(),
    )


def checkApp(spec: str) -> None:
    """
    Check, without running any of its code, that C{spec} names an app: the
    directory exists and its controller files compile, or the module can be
    found.

    @raise AppError: naming the directory, file and line, or module.
    """
    if _isDirectorySpec(spec):
        if not os.path.isdir(spec):
            raise AppError(f"The app directory {spec} does not exist.")
        for path in _controllerFiles(spec):
            _compile(path)
        return
    moduleName = spec.partition(":")[0]
    try:
        found = importlib.util.find_spec(moduleName)
    except (ImportError, ValueError) as e:
        raise AppError(f"Cannot find app module {moduleName!r}: {e}.") from None
    if found is None:
        raise AppError(f"No app module named {moduleName!r}.")


def _compile(path):
    source = path.getContent()
    try:
        return compile(source, path.path, "exec")
    except SyntaxError as e:
        raise AppError(
            f"Syntax error in controller file {path.path}, line {e.lineno}: {e.msg}."
        ) from None


def _failureLine(path, error):
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == path]
    return f", line {frames[-1].lineno}" if frames else ""


def _runControllerFile(path):
    code = _compile(path)
    name = f"_appserver_app{next(_loads)}_{path.basename()[:-3]}"
    spec = importlib.util.spec_from_loader(name, loader=None, origin=path.path)
    module = importlib.util.module_from_spec(spec)
    module.__file__ = path.path
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except Exception as e:
        del sys.modules[name]
        raise AppError(
            f"Loading controller file {path.path}{_failureLine(path.path, e)} "
            f"failed: {type(e).__name__}: {e}."
        ) from None
    return module


def _definedControllers(module):
    found = []
    for value in vars(module).values():
        if (isinstance(value, type) and issubclass(value, Controller)
                and value.__module__ == module.__name__ and value not in found):
            found.append(value)
    return found


def _instantiate(cls, common):
    controller = cls.__new__(cls)
    controller.__dict__.update(common)
    try:
        controller.__init__()
    except Exception as e:
        raise AppError(f"Creating controller {cls.__qualname__} failed: "
                       f"{type(e).__name__}: {e}.") from None
    return controller


def _folder(directory, name):
    path = FilePath(directory).child(name)
    return path if path.isdir() else None


def _assemble(name, directory, classes, instances, attributes, path=None):
    templates = _folder(directory, "templates") if directory else None
    app = App(name=name, templates=TemplateLoader(templates) if templates else None,
              staticPath=_folder(directory, "static") if directory else None, path=path)
    common = dict(attributes or {}, app=app, templates=app.templates)
    app.controllers = [_instantiate(cls, common) for cls in classes]
    for controller in instances:
        controller.__dict__.update(common)
        app.controllers.append(controller)
    return app


def _loadDirectory(spec, attributes):
    directory = os.path.abspath(spec)
    if not os.path.isdir(directory):
        raise AppError(f"The app directory {spec} does not exist.")
    if directory not in sys.path:
        sys.path.insert(0, directory)
    classes = []
    for path in _controllerFiles(directory):
        classes.extend(_definedControllers(_runControllerFile(path)))
    return _assemble(spec, directory, classes, [], attributes, FilePath(directory))


def _importTarget(spec):
    moduleName, colon, attribute = spec.partition(":")
    try:
        module = importlib.import_module(moduleName)
    except SyntaxError as e:
        raise AppError(f"Syntax error in {e.filename}, line {e.lineno}: {e.msg}.") from None
    except Exception as e:
        raise AppError(f"Cannot import app module {moduleName!r}: "
                       f"{type(e).__name__}: {e}.") from None
    if colon:
        try:
            return module, getattr(module, attribute)
        except AttributeError:
            raise AppError(f"App module {moduleName!r} has no attribute {attribute!r}.") from None
    return module, getattr(module, "app", module)


def _splitTarget(target, spec):
    items = target if isinstance(target, (list, tuple)) else [target]
    classes, instances = [], []
    for item in items:
        if isinstance(item, type) and issubclass(item, Controller):
            classes.append(item)
        elif isinstance(item, Controller):
            instances.append(item)
        elif type(item) is type(sys):
            classes.extend(_definedControllers(item))
        else:
            raise AppError(f"App {spec!r} names a {type(item).__name__}, "
                           "not controllers or an App.")
    return classes, instances


def _loadDotted(spec, attributes):
    module, target = _importTarget(spec)
    directory = os.path.dirname(os.path.abspath(module.__file__))
    if isinstance(target, App):
        return target
    if target is module and hasattr(module, "__path__") and _folder(directory, "controllers"):
        app = _loadDirectory(directory, attributes)
        app.name = spec
        return app
    classes, instances = _splitTarget(target, spec)
    return _assemble(spec, directory, classes, instances, attributes)


def loadApp(spec: str, attributes: Mapping[str, Any] | None = None) -> App:
    """
    Load the app C{spec} (a directory or dotted name), running its code.
    Every call loads controller files afresh (a reload sees new code).

    @param attributes: a mapping set as attributes on every controller
        before its C{__init__} runs (such as C{{"db": pool}}), in addition
        to C{app} and C{templates}.
    @return: an L{App}.
    @raise AppError: naming the file and line, or module, at fault.
    """
    if _isDirectorySpec(spec):
        return _loadDirectory(spec, attributes)
    return _loadDotted(spec, attributes)


@implementer(IServiceFigures)
class AppService(PersistentService):
    """
    Load the app C{spec} when the service tree starts (before the web
    service binds its ports) and serve it through C{resource}.

    @ivar spec: the app directory or dotted name.
    @ivar resource: the L{appserver.web.resource.AppResource} to serve it.
    @ivar attributes: a mapping set on every controller (see L{loadApp}).
    @ivar staticOptions: keyword arguments of L{App.buildRouter} for the
        app's static folder (C{dotfiles}, C{followSymlinks}).
    @ivar app: the loaded L{App}, or L{None} before loading; not pickled.
    """

    _volatile = ("app",)
    staticOptions = None

    def __init__(self, spec: str, resource: AppResource,
                 attributes: Mapping[str, Any] | None = None,
                 staticOptions: Mapping[str, bool] | None = None) -> None:
        self.spec = spec
        self.resource = resource
        self.attributes = dict(attributes or {})
        self.staticOptions = dict(staticOptions or {})
        self._volatileInit()

    def load(self) -> App:
        """
        Load the app (afresh, so this is also how to reload it) and swap its
        router in at once. On failure the old router keeps serving.

        @return: the new L{App}.
        @raise AppError: if the app cannot be loaded.
        """
        app = loadApp(self.spec, self.attributes)
        self.resource.setRouter(app.buildRouter(**(self.staticOptions or {})))
        self.app = app
        return app

    def privilegedStartService(self) -> None:
        """
        Load the app, raising L{AppError} to stop the start-up if it fails.
        """
        PersistentService.privilegedStartService(self)
        if self.app is None:
            self.load()

    def startService(self) -> None:
        """
        Start, loading the app if C{privilegedStartService} did not.
        """
        PersistentService.startService(self)
        if self.app is None:
            self.load()

    def figures(self) -> dict[str, Any]:
        """
        The app's spec, its controller and route counts (0 before it
        loads), and the last reload's error, or L{None}.
        """
        app = self.app
        return {
            "app": self.spec,
            "controllers": len(app.controllers) if app is not None else 0,
            "routes": sum(len(c.routes()) for c in app.controllers) if app is not None else 0,
            "reloadError": getattr(self.resource, "reloadError", None),
        }
