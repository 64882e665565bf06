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

Option values are layered (see L{appserver.config}); an app directory's
C{app.yaml} is one more layer, between the defaults and C{--config}.
"""

import os

from twisted.python import usage

from appserver.config import LayeredOptions, byteSize, loadYAML, positiveInt
from appserver.persisted import PersistentMultiService
from appserver.ports import parsePort
from appserver.sessions import SessionResource, SessionsService, checkStoreSpec, secretValue
from appserver.web.appdir import AppError, AppService, appConfigPath, checkApp
from appserver.web.resource import AppResource
from appserver.web.static import StaticFiles
from appserver.web.wsgi import WSGIApplication, resolveApplication
from services.threadpool import ThreadPoolService
from services.web import DEFAULT_MAX_BODY, DEFAULT_TIMEOUT, WebService

__all__ = ["Options", "makeService", "DEMO_APP"]

DEMO_APP = "appserver.web.demo"


def _accessLog(value):
    if not str(value).strip():
        raise ValueError("the access log needs a file name, or - for the log")
    return str(value)


_accessLog.coerceDoc = "A file name, or - for the Twisted log."


class Options(LayeredOptions):
    """
    Options of C{twistd web-app}.
    """

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
    ]
    optParameters = [
        ["app", "a", None, "App directory, or package.module[:attribute]."],
        ["wsgi", None, None, "A WSGI application to host, as module:callable."],
        ["wsgi-threads", None, 10, "Most threads running the WSGI application.",
         positiveInt],
        ["static", None, None, "A directory of files to serve at /."],
        ["access-log", None, None, "Access log file (combined format); - for the log.",
         _accessLog],
        ["max-body", None, DEFAULT_MAX_BODY, "Largest request body accepted.", byteSize],
        ["timeout", None, DEFAULT_TIMEOUT, "Seconds before an idle connection is closed.",
         positiveInt],
        ["sessions", None, "memory", "Session store: memory, file:DIR or "
                                     "redis://[:password@]host:port/db.", checkStoreSpec],
        ["session-port", None, None, "Also serve the memory session store over the "
                                     "Redis protocol on this port, for other processes.",
         parsePort],
        ["session-port-password", None, None, "Password clients of --session-port must give."],
        ["session-idle-timeout", None, 1800, "Seconds of inactivity that end a session.",
         positiveInt],
        ["session-absolute-timeout", None, 43200, "Seconds after which a session ends "
                                                  "however active it is.", positiveInt],
        ["session-cookie-name", None, "sid", "Name of the session cookie."],
    ]
    optFlags = [
        ["display-tracebacks", None, "Send tracebacks of failed requests to clients."],
        ["debug", None, "Development mode: --display-tracebacks, and the access "
                        "log goes to the log unless --access-log says otherwise."],
    ]

    def configLayers(self, argv):
        """
        The app directory's C{app.yaml}, then the usual layers.
        """
        layers = LayeredOptions.configLayers(self, argv)
        spec = _appFromArgv(argv) or self._appFromLayers(layers)
        path = appConfigPath(spec)
        if path:
            values = dict(loadYAML(path))
            values.pop("app", None)
            layers.insert(0, (values, f"app config {path}"))
        return layers

    def _appFromLayers(self, layers):
        for values, source in reversed(layers):
            if values.get("app"):
                return str(values["app"])
        return None

    def postOptions(self):
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


def _checkedApp(spec):
    try:
        checkApp(spec)
    except AppError as e:
        raise usage.UsageError(str(e)) from None
    if os.path.isdir(spec):
        return os.path.abspath(spec)
    return spec


def _appFromArgv(argv):
    for index, argument in enumerate(argv):
        if argument == "--":
            break
        for prefix in ("--app=", "-a"):
            if argument.startswith(prefix) and len(argument) > len(prefix):
                return argument[len(prefix):]
        if argument in ("--app", "-a") and index + 1 < len(argv):
            return argv[index + 1]
    return None


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
        return StaticFiles(options["static"])
    return None


def _sessions(options):
    """
    The C{sessions} service: the session store and the cookie manager.
    """
    return SessionsService(
        options["sessions"], secrets=options["secret"], secretFiles=options["secret-file"],
        idleTimeout=options["session-idle-timeout"],
        absoluteTimeout=options["session-absolute-timeout"],
        cookieName=options["session-cookie-name"], port=options["session-port"],
        portPassword=options["session-port-password"])


def makeService(options):
    """
    Assemble the C{web-app} tree from parsed L{Options}: a service named
    C{web-app} with children, in start order, C{sessions}, C{wsgi} (with
    --wsgi), C{app} (loads the app at start) and C{web} (serves the root
    resource).
    """
    root = PersistentMultiService()
    root.setName("web-app")
    sessions = _child(root, "sessions", _sessions(options))
    resource = _fallback(options, root)
    if options["app"]:
        resource = AppResource(fallback=resource,
                               displayTracebacks=bool(options["display-tracebacks"]))
        _child(root, "app", AppService(options["app"], resource))
    resource = SessionResource(resource, sessions.manager)
    web = WebService(resource, options["port"], maxBody=options["max-body"],
                     timeout=options["timeout"], accessLog=options["access-log"],
                     displayTracebacks=bool(options["display-tracebacks"]))
    _child(root, "web", web)
    return root
