"""
C{twistd web-app}: serve a web application.

What is served at C{/}:
 - C{--app DIR} or C{--app package.module[:attribute]}: the app's routes,
   its C{static/} folder under C{/static/};
 - C{--wsgi module:callable}: a WSGI application on a bounded thread pool;
 - C{--static DIR}: the files of a directory;
 - none of these: the built-in quotes demo (C{appserver.web.demo}).

C{--app} combines with one of C{--wsgi} or C{--static}, which then serves
every path the app does not route.

The tree, in start order: C{db} (the database pool, C{--db}; controllers
reach it as C{self.db}; the app's C{migrations/} apply at start), C{sessions},
C{wsgi} (with C{--wsgi}), C{app}, C{web}, C{reloader} (with C{--reload}: see
L{appserver.web.reloading}) and C{qotd} (with C{--qotd-port}: Quote of the
Day from the demo's C{demo_quotes} table, through
L{appserver.web.demo.quoter.DatabaseQuoter}, served by the installed C{qotd}
plugin (L{appserver.web.demo.quoter.qotdService}); with another app, the
demo's migration is applied too, so that table exists and QOTD serves the
demo's quotes). A request failing because the database or the session store is
unavailable gets 503; one whose text the database cannot store (a NUL
character for PostgreSQL) gets 400 (see L{ERROR_STATUSES}).
C{GET /_appserver/services} describes the tree (L{appserver.web.status}).

Option values are layered (see L{appserver.config}); an app directory's
C{app.yaml} is one more layer, between the defaults and C{--config}.
"""

import os
import pwd
from typing import Any

from twisted.python import usage

from appserver.config import LayeredOptions, byteSize, loadYAML, nonNegativeInt, positiveInt
from appserver.errors import CommandService
from services.ports import parsePort
from appserver.web.reloading import appReloaderService, webLimits
from appserver.sessions import (
    SessionResource, checkStoreSpec, makeSessionsService, secretValue,
)
from appserver.sessions.manager import SessionStoreUnavailable
from appserver.web.appdir import (
    AppError, AppService, appConfigPath, appHome, checkApp,
)
from appserver.web.demo.quoter import QOTD_COMMAND, qotdMaker, qotdService
from appserver.web.resource import AppResource
from appserver.web.served import checkServed, usesDatabase
from appserver.web.static import StaticFiles
from appserver.web.status import PATH as STATUS_PATH, ServicesPage, StatusGate, statusAccess
from appserver.web.wsgi import WSGIApplication, resolveApplication
from services.db import DatabaseService, DatabaseUnavailable, UnstorableText
from services.db.url import databaseURL
from services.threadpool import ThreadPoolService
from services.web import (
    DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_TIMEOUT, WebService,
)

__all__ = ["Options", "makeService", "DEMO_APP"]

DEMO_APP = "appserver.web.demo"
DEFAULT_DB = "sqlite:///appserver.sqlite3"
DEFAULT_SESSION_MAX_MEMORY = 64 * 1024 * 1024
DB_UNAVAILABLE = b"Service Unavailable: the database cannot be reached; try again shortly."
UNSTORABLE_TEXT = b"Bad Request: the database cannot store text holding a NUL character."
SESSIONS_UNAVAILABLE = (b"Service Unavailable: the session store cannot be reached; "
                        b"try again shortly.")
ERROR_STATUSES = {
    DatabaseUnavailable: (503, DB_UNAVAILABLE),
    UnstorableText: (400, UNSTORABLE_TEXT),
    SessionStoreUnavailable: (503, SESSIONS_UNAVAILABLE),
}
"""
The answers of the app's resource to handlers failing with these errors.
"""

def _accessLog(value):
    if not str(value).strip():
        raise ValueError("the access log needs a file name, or - for the log")
    return str(value)


_accessLog.coerceDoc = "A file name, or - for the Twisted log."  # type: ignore[attr-defined]


class Options(LayeredOptions):
    """
    Options of C{twistd web-app}.
    """

    command = "web-app"
    synopsis = "[options]"
    longdesc = (
        "Serve a web application: an app directory or module (--app), a WSGI "
        "application (--wsgi) or a directory of files (--static); without any, "
        "the built-in quotes demo. An app directory's app.yaml sets defaults."
    )
    optRepeatable = [
        ["port", "p", ["8080"], "Port number or endpoint description to listen on.",
         parsePort],
        ["secret", None, [], "A secret signing session cookies (the first signs, "
                             "all are accepted: add the new one first to rotate).",
         secretValue],
        ["secret-file", None, [], "A file holding a session secret (as --secret)."],
        ["qotd-port", None, [], "Also serve Quote of the Day (the demo's quotes, from "
                                "the database) on this port.", parsePort],
    ]
    optParameters = [
        ["app", "a", None, "App directory, or package.module[:attribute]."],
        ["wsgi", None, None, "A WSGI application to host, as module:callable."],
        ["wsgi-threads", None, 10, "Most threads running the WSGI application.",
         positiveInt],
        ["static", None, None, "A directory of files to serve at /."],
        ["access-log", None, None, "Access log file (combined format)",
         _accessLog],
        ["max-body", None, DEFAULT_MAX_BODY, "Largest request body accepted.", byteSize],
        ["timeout", None, DEFAULT_TIMEOUT, "Seconds before an idle connection is closed.",
         positiveInt],
        ["header-timeout", None, DEFAULT_HEADER_TIMEOUT, "Seconds for a request's whole head "
         "to arrive, from the connection's start or the previous response.", positiveInt],
        ["body-timeout", None, DEFAULT_BODY_TIMEOUT, "Seconds for a request's whole body to "
         "arrive, from the end of its head.", positiveInt],
        ["max-connections", None, DEFAULT_MAX_CONNECTIONS, "Most connections open at once; "
         "more are answered 503 and closed.", positiveInt],
        ["sessions", None, "memory", "Session store.", checkStoreSpec],
        ["session-port", None, None, "Also serve the memory session store over the "
                                     "Redis protocol on this port, for other processes",
         parsePort],
        ["session-port-password", None, None, "Password clients of --session-port must give."],
        ["session-idle-timeout", None, 1800, "Seconds of inactivity that end a session.",
         positiveInt],
        ["session-absolute-timeout", None, 43200, "Seconds after which a session ends "
                                                  "however active it is.", positiveInt],
        ["session-cookie-name", None, "sid", "Name of the session cookie."],
        ["session-max-memory", None, DEFAULT_SESSION_MAX_MEMORY, "Most memory the memory "
         "session store may use (0: no bound); least recently used sessions are evicted.",
         byteSize],
        ["session-max-per-user", None, 0, "Most sessions one user may have at once (0: no "
         "limit); a login beyond it ends that user's oldest session.", nonNegativeInt],
        ["db", None, DEFAULT_DB, "Database URL.", databaseURL],
        ["db-min-threads", None, 3, "Fewest database pool threads kept.", nonNegativeInt],
        ["db-max-threads", None, 10, "Most database pool threads (and connections).",
         positiveInt],
        ["status-page", None, "loopback", "Who may GET /_appserver/services.",
         statusAccess],
    ]
    optFlags = [
        ["display-tracebacks", None, "Send tracebacks of failed requests to clients."],
        ["debug", None, "Development mode: --display-tracebacks, the access log "
                        "goes to the log unless --access-log says otherwise, and "
                        "pages show a banner while a reload has failed."],
        ["reload", None, "Watch the app directory: reload code and templates, "
                         "apply app.yaml changes."],
        ["static-dotfiles", None, "Serve files whose names start with a dot (.env, "
                                  ".git/) from --static and the app's static/."],
        ["static-follow-symlinks", None, "Follow links leading out of --static and "
                                         "the app's static/."],
    ]

    def configLayers(self) -> list[tuple[dict[str, Any], str]]:
        """
        The app directory's C{app.yaml}, then the usual layers.
        """
        layers = LayeredOptions.configLayers(self)
        spec = self.commandLine.get("app") or self._appFromLayers(layers)
        path = appConfigPath(spec)
        if path:
            values = dict(loadYAML(path))
            values.pop("app", None)
            layers.insert(0, (values, f"app config {path}"))
        return layers

    def _appFromLayers(self, layers):
        for values, _source in reversed(layers):
            if values.get("app"):
                return str(values["app"])
        return None

    def postOptions(self) -> None:
        """
        Check the app, the WSGI application and the static directory.
        """
        if self["wsgi"] and self["static"]:
            raise usage.UsageError("--wsgi and --static both serve /; give only one.")
        if not (self["app"] or self["wsgi"] or self["static"]):
            self["app"] = DEMO_APP
        if self["app"]:
            self["app"] = _checkedApp(self["app"])
        if self["wsgi"]:
            try:
                resolveApplication(self["wsgi"])
            except ValueError as e:
                raise usage.UsageError(f"Bad --wsgi: {e}.") from None
        if self["static"]:
            if not os.path.isdir(self["static"]):
                raise usage.UsageError(f"--static {self['static']} is not a directory.")
            self["static"] = os.path.abspath(self["static"])
        if self["session-port"] and self["sessions"] != "memory":
            raise usage.UsageError("--session-port serves the memory store only; "
                                   "drop it or use --sessions memory.")
        if self["debug"]:
            self["display-tracebacks"] = 1
            if self["access-log"] is None:
                self["access-log"] = "-"
        if self["db-min-threads"] > self["db-max-threads"]:
            raise usage.UsageError(f"--db-min-threads {self['db-min-threads']} is more than "
                                   f"--db-max-threads {self['db-max-threads']}.")
        if self["qotd-port"] and qotdMaker() is None:
            raise usage.UsageError(f"--qotd-port needs the {QOTD_COMMAND} plugin "
                                   f"(twistd {QOTD_COMMAND}), which is not installed.")
        try:
            checkServed(self)
        except ValueError as e:
            raise usage.UsageError(f"{e}.") from None

    def pinnedKeys(self) -> set[str]:
        """
        The options set above the app directory's C{app.yaml}: on the
        command line, in the environment or in C{--config}; C{app.yaml}
        cannot change them on reload.
        """
        fromLayers = {key for key, source in self.sources.items()
                      if not source.startswith("app config ")}
        return fromLayers | set(self.commandLine)

    def appConfigKeys(self) -> set[str]:
        """
        The options the app directory's C{app.yaml} gives.
        """
        return {key for key, source in self.sources.items()
                if source.startswith("app config ")}


def _checkedApp(spec):
    try:
        checkApp(spec)
    except AppError as e:
        raise usage.UsageError(str(e)) from None
    if os.path.isdir(spec):
        return os.path.abspath(spec)
    return spec


def _child(parent, name, child):
    child.setName(name)
    child.setServiceParent(parent)
    return child


def _fallback(options, parent):
    """
    The resource for paths the app does not route: the WSGI application
    (adding its thread pool service, C{wsgi}) or the static directory.
    """
    if options["wsgi"]:
        pool = _child(parent, "wsgi", ThreadPoolService(0, options["wsgi-threads"], "wsgi"))
        return WSGIApplication(options["wsgi"], pool)
    if options["static"]:
        return StaticFiles(options["static"], **_staticOptions(options))
    return None


def _staticOptions(options):
    return {"dotfiles": bool(options["static-dotfiles"]),
            "followSymlinks": bool(options["static-follow-symlinks"])}


def _sessions(options):
    """
    The C{sessions} service: the session store and the cookie manager,
    which signs cookies only for an app (C{--session-port} alone serves
    the store to other processes).
    """
    return makeSessionsService(
        options["sessions"], secrets=options["secret"], secretFiles=options["secret-file"],
        idleTimeout=options["session-idle-timeout"],
        absoluteTimeout=options["session-absolute-timeout"],
        cookieName=options["session-cookie-name"], port=options["session-port"],
        portPassword=options["session-port-password"], signing=bool(options["app"]),
        maxMemory=options["session-max-memory"], maxPerUser=options["session-max-per-user"])


def _migrationDirs(options):
    directories = []
    home = appHome(options["app"])
    if home:
        directories.append(os.path.join(home, "migrations"))
    demo = os.path.join(appHome(DEMO_APP), "migrations")
    if options["qotd-port"] and demo not in directories:
        directories.insert(0, demo)
    return directories


def _database(options):
    """
    The C{db} service: the pool, with the app's migrations, prepared as the
    user C{twistd --uid} runs as.
    """
    return DatabaseService(options["db"], options["db-min-threads"],
                           options["db-max-threads"], migrationDirs=_migrationDirs(options),
                           owner=_runAs(options))


def _runAs(options):
    """
    The C{(uid, gid)} that C{twistd --uid} switches to after binding, as
    twistd's own options (the parent of ours) say, or L{None}.
    """
    parent = getattr(options, "parent", None)
    uid = parent.get("uid") if parent is not None else None
    if uid is None:
        return None
    gid = parent.get("gid")
    return (uid, pwd.getpwuid(uid).pw_gid if gid is None else gid)


def _appResource(options, fallback, db, root):
    resource = AppResource(fallback=fallback,
                           displayTracebacks=bool(options["display-tracebacks"]),
                           errorStatuses=ERROR_STATUSES,
                           debug=bool(options["debug"]))
    _child(root, "app", AppService(options["app"], resource, attributes={"db": db},
                                   staticOptions=_staticOptions(options)))
    return resource


def _statusPage(options, root, app, resource):
    """
    Add the status page: pinned to its path in the C{app}'s resource (which
    costs other requests nothing) or, without an app, in a L{StatusGate}
    in front of C{resource}, which is returned.
    """
    if options["status-page"] == "off":
        return resource
    page = ServicesPage(root, options["status-page"])
    if app is None:
        return StatusGate(resource, page)
    app.pin(STATUS_PATH, page)
    return resource


def makeService(options):
    """
    Assemble the C{web-app} tree from parsed L{Options}: a service named
    C{web-app} with children, in start order, C{db} (when an app or QOTD
    reads it), C{sessions} (with an app or --session-port), C{wsgi} (with
    --wsgi), C{app} (loads the app at start), C{web} (serves the root
    resource), C{reloader} (with --reload) and C{qotd} (with --qotd-port).
    A run of --wsgi or --static alone thus creates no database and no secret.
    """
    root = CommandService()
    root.setName("web-app")
    db = _child(root, "db", _database(options)) if usesDatabase(options) else None
    sessions = None
    if options["app"] or options["session-port"]:
        sessions = _child(root, "sessions", _sessions(options))
    resource = _fallback(options, root)
    app = _appResource(options, resource, db, root) if options["app"] else None
    if app is not None:
        resource = SessionResource(app, sessions.manager)
    resource = _statusPage(options, root, app, resource)
    web = WebService(resource, options["port"], accessLog=options["access-log"],
                     displayTracebacks=bool(options["display-tracebacks"]),
                     **webLimits(options))
    _child(root, "web", web)
    reloader = appReloaderService(root, options) if options["reload"] else None
    if reloader is not None:
        _child(root, "reloader", reloader)
    if options["qotd-port"]:
        qotdService(db, options["qotd-port"]).setServiceParent(root)
    return root
