"""
What C{twistd web-app --reload} does when files of the app directory change.

L{classify} sorts the changed paths (relative to the app directory, C{/}
separators) into kinds:

 - L{CODE}: anything under C{controllers/}, and any other C{.py} file (a
   helper module the controllers import);
 - L{TEMPLATES}: anything under C{templates/};
 - L{CONFIG}: C{app.yaml};
 - L{MIGRATIONS}: anything under C{migrations/} (applied at start-up only);
 - everything else (C{static/} files are read from disk on each request,
   the SQLite database file, notes) needs nothing.

L{AppReloader.reload}, the reloader service's C{onChange}, then:

 - for code or templates, loads the app afresh (L{AppService.load}): the
   new router replaces the old one in one assignment, so removed routes
   disappear, and a syntax or import error keeps the last good router
   serving, logs the error with its file and line (once: the reloader
   does not log it again), and (with C{--debug})
   shows it in a banner on every HTML page until a later reload succeeds.
   For an app directory given as a path, the helper modules imported from
   it are forgotten first, so they are imported afresh too; a package app
   (C{--app package}) reloads its C{controllers/} files only;
 - for C{app.yaml}, reads it again and applies the options that can change
   at run time (L{RUNTIME}); for any other option that changed it logs that
   it "needs restart", naming it. An option also set on the command line,
   in the environment or in C{--config} is not governed by C{app.yaml} and
   is left alone;
 - for migrations, logs that they apply at the next start.
"""

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from twisted.logger import Logger
from twisted.python import usage

from appserver.config import loadYAML
from appserver.web.appdir import AppError, watchedDirectory
from services.reloader import ChangeFailed, ReloaderService

__all__ = ["classify", "AppReloader", "appReloaderService", "CODE", "TEMPLATES", "CONFIG",
           "MIGRATIONS", "RUNTIME", "WEB_LIMITS", "webLimits"]

CODE = "code"
TEMPLATES = "templates"
CONFIG = "config"
MIGRATIONS = "migrations"

WEB_LIMITS = {"max-body": "maxBody", "timeout": "timeout", "header-timeout": "headerTimeout",
              "body-timeout": "bodyTimeout", "max-connections": "maxConnections"}
"""The options that are limits of the C{web} service, and their keywords
for L{services.web.WebService.setLimits}."""

RUNTIME = ("display-tracebacks", "db-min-threads", "db-max-threads", "session-idle-timeout",
           "session-absolute-timeout", *WEB_LIMITS)

_log = Logger()


def webLimits(values: Mapping[str, Any]) -> dict[str, Any]:
    """
    The keyword arguments of L{services.web.WebService.setLimits} for the
    limit options among C{values} (a mapping of option names to values).
    """
    return {keyword: values[name] for name, keyword in WEB_LIMITS.items() if name in values}


def classify(paths: Iterable[str]) -> set[str]:
    """
    The kinds of change among C{paths}: a set of L{CODE}, L{TEMPLATES},
    L{CONFIG} and L{MIGRATIONS}.
    """
    kinds = set()
    for path in paths:
        top = path.split("/", 1)[0]
        if path == "app.yaml":
            kinds.add(CONFIG)
        elif top == "templates":
            kinds.add(TEMPLATES)
        elif top == "migrations":
            kinds.add(MIGRATIONS)
        elif top == "controllers" or (path.endswith(".py") and top != "static"):
            kinds.add(CODE)
    return kinds


def forgetModules(directory: str) -> list[str]:
    """
    Remove from C{sys.modules} every module loaded from a file under
    C{directory}, so the next import runs its current code.

    @return: the names removed.
    """
    prefix = os.path.join(os.path.abspath(directory), "")
    names = [name for name, module in list(sys.modules.items())
             if (getattr(module, "__file__", None) or "").startswith(prefix)]
    for name in names:
        del sys.modules[name]
    return names


class AppReloader:
    """
    Apply changes of an app directory to a running C{web-app} tree; see the
    module docstring. Picklable: it keeps the tree and the configuration.

    @ivar root: the C{web-app} service, whose named children (C{app},
        C{db}, C{sessions}, C{web}) are looked up when a change comes.
    @ivar directory: the watched app directory.
    @ivar forget: whether to forget the modules loaded from C{directory}
        before loading the code again (true for an app given as a path).
    @ivar config: the option values in use, as a dict.
    @ivar yamlKeys: the options C{app.yaml} named when it was last read.
    @ivar pinned: the option names set above C{app.yaml} (command line,
        environment, C{--config}), which C{app.yaml} cannot change.
    @ivar optionsFactory: makes an empty options object (the command's
        C{Options}) to read C{app.yaml} values with.
    """

    def __init__(self, root: Any, directory: str, forget: bool, config: Mapping[str, Any],
                 yamlKeys: Iterable[str], pinned: Iterable[str],
                 optionsFactory: Callable[[], usage.Options]) -> None:
        self.root = root
        self.directory = directory
        self.forget = forget
        self.config = dict(config)
        self.yamlKeys = tuple(sorted(yamlKeys))
        # Sorted tuples, not sets: AOT source cannot hold a set.
        self.pinned = tuple(sorted(pinned))
        self.optionsFactory = optionsFactory

    def reload(self, paths: Iterable[str]) -> dict[str, Any]:
        """
        Act on C{paths}, the changed files; return a summary dict.

        @raise Exception: the first error (after every kind was tried), so
            the reloader records it: an unexpected one first, for the
            reloader to log, else a L{ChangeFailed} already logged here.
        """
        kinds = classify(paths)
        summary: dict[str, Any] = {"kinds": sorted(kinds)}
        errors: list[Exception] = []
        if CONFIG in kinds:
            self._attempt(errors, self._reloadConfig, summary)
        if MIGRATIONS in kinds:
            _log.warn("Migrations changed in {directory}/migrations: they apply at the "
                      "next start (needs restart)", directory=self.directory)
        if kinds & {CODE, TEMPLATES}:
            self._attempt(errors, self._reloadApp, summary)
        if errors:
            errors.sort(key=lambda error: isinstance(error, ChangeFailed))
            raise errors[0]
        return summary

    def _attempt(self, errors, step, summary):
        try:
            step(summary)
        except Exception as e:
            errors.append(e)

    def _reloadApp(self, summary):
        appService = self.root.getServiceNamed("app")
        if self.forget:
            forgetModules(self.directory)
        try:
            app = appService.load()
        except Exception as e:
            appService.resource.setReloadError(str(e))
            if not isinstance(e, AppError):
                raise
            _log.error("Reload failed; the last good code keeps serving: {error}", error=e)
            raise ChangeFailed(str(e)) from e
        appService.resource.setReloadError(None)
        routes = sum(len(controller.routes()) for controller in app.controllers)
        _log.info("Reloaded {app}: {routes} routes", app=app.name, routes=routes)
        summary["routes"] = routes

    def _reloadConfig(self, summary):
        try:
            wanted, self.yamlKeys = self._readConfig()
        except usage.UsageError as e:
            _log.error("app.yaml not applied: {error}", error=e)
            raise ChangeFailed(f"app.yaml not applied: {e}") from e
        changed = {k: v for k, v in wanted.items() if self.config.get(k) != v}
        applied = [k for k in sorted(changed) if k in RUNTIME]
        restart = [k for k in sorted(changed) if k not in RUNTIME]
        self._apply({k: changed[k] for k in applied})
        self.config.update({k: changed[k] for k in applied})
        if applied:
            _log.info("app.yaml applied: {options}", options=", ".join(applied))
        if restart:
            _log.warn("app.yaml changed {options}: needs restart", options=", ".join(restart))
        summary.update(applied=applied, needsRestart=restart)

    def _readConfig(self):
        """
        The values C{app.yaml} now gives the options it governs (its own
        values, and the defaults of those it no longer names), and the
        names it gives.
        """
        path = os.path.join(self.directory, "app.yaml")
        values = dict(loadYAML(path)) if os.path.isfile(path) else {}
        values.pop("app", None)
        options = self.optionsFactory()
        defaults = dict(options)
        options.applyLayer(values, f"app config {path}")
        governed = (set(values) | set(self.yamlKeys)) - set(self.pinned)
        wanted = {k: options[k] if k in values else defaults[k] for k in governed
                  if k in defaults}
        return wanted, tuple(sorted(values))

    def _apply(self, values):
        for name, value in values.items():
            _log.info("Applying {name} = {value!r}", name=name, value=value)
        if "display-tracebacks" in values:
            self._setTracebacks(bool(values["display-tracebacks"]))
        if {"db-min-threads", "db-max-threads"} & set(values):
            low = values.get("db-min-threads", self.config.get("db-min-threads"))
            high = values.get("db-max-threads", self.config.get("db-max-threads"))
            self.root.getServiceNamed("db").setThreads(low, high)
        manager = self.root.getServiceNamed("sessions").manager
        if "session-idle-timeout" in values:
            manager.idleTimeout = values["session-idle-timeout"]
        if "session-absolute-timeout" in values:
            manager.absoluteTimeout = values["session-absolute-timeout"]
        self._setLimits(values)

    def _setTracebacks(self, display):
        if "app" in self.root.namedServices:
            self.root.getServiceNamed("app").resource.displayTracebacks = display
        web = self.root.getServiceNamed("web")
        web.displayTracebacks = display
        if web.site is not None:
            web.site.displayTracebacks = display

    def _setLimits(self, values):
        limits = webLimits(values)
        if limits:
            self.root.getServiceNamed("web").setLimits(**limits)


def appReloaderService(root: Any, options: Any) -> ReloaderService | None:
    """
    The C{reloader} service of the C{web-app} tree C{root}: it watches the
    app's directory (see L{watchedDirectory}) and applies its changes with
    an L{AppReloader}; L{None}, saying so in the log, when there is nothing
    to watch.

    @param options: the parsed C{web-app} options (their class reads
        C{app.yaml} again on a change).
    """
    directory = watchedDirectory(options["app"])
    if directory is None:
        _log.warn("--reload watches nothing: {what} is not an app directory or a "
                  "package with controllers/", what=options["app"] or "--wsgi/--static")
        return None
    reloader = AppReloader(root, directory, forget=os.path.isdir(options["app"]),
                           config=dict(options), yamlKeys=options.appConfigKeys(),
                           pinned=options.pinnedKeys(), optionsFactory=type(options))
    return ReloaderService(directory, reloader.reload)
