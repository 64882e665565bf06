"""
Tests for the whole web-app tree: the db/reload/qotd/status options, the
service tree they build, the reload classifier and handler, the 503 for an
unavailable database, the debug banner and the status page.
"""

import json
import os
import sys

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.server import Site

from appserver.tap import webapp
from appserver.web import Controller, reloading, route
from appserver.web.appdir import appHome, watchedDirectory
from appserver.web.resource import AppResource
from appserver.web.router import Router
from appserver.web.status import PATH, ServicesPage, StatusGate, describeTree, statusAccess
from services.db import DatabaseService, DatabaseUnavailable
from services.reloader import ReloaderService
from tests.support import assertPersists, captureLog, parseOptions, tempDir
from tests.websupport import answerOf, request

CONTROLLER = ("from appserver.web import Controller, route\n"
              "class C(Controller):\n"
              "    @route('/hi')\n"
              "    def hi(self, request):\n"
              "        return 'hi'\n"
              "    @route('/db')\n"
              "    async def db(self, request):\n"
              "        rows = await self.db.runQuery('SELECT 1')\n"
              "        return {'rows': rows}\n")


def parse(args, environ=None):
    return parseOptions(webapp.Options, args, environ)


def appDir(testCase, controller=CONTROLLER, yaml=None):
    root = os.path.join(tempDir(testCase), "app")
    os.makedirs(os.path.join(root, "controllers"))
    os.makedirs(os.path.join(root, "templates"))
    writeFile(os.path.join(root, "controllers", "c.py"), controller)
    if yaml is not None:
        writeFile(os.path.join(root, "app.yaml"), yaml)
    return root


def writeFile(path, text):
    with open(path, "w") as f:
        f.write(text)


def localRequest(resource, path, peer=None, method=b"GET", headers=None):
    """
    One request from C{peer} (loopback by default), answered in memory.
    """
    site = Site(resource, reactor=MemoryReactorClock())
    transport = StringTransport(peerAddress=peer or IPv4Address("TCP", "127.0.0.1", 40000))
    channel = site.buildProtocol(None)
    channel.makeConnection(transport)
    head = b"%s %s HTTP/1.1\r\nHost: example.com\r\n" % (method, path)
    head += b"".join(b"%s: %s\r\n" % item for item in (headers or {}).items())
    channel.dataReceived(head + b"\r\n")
    return answerOf(transport)




def logText(events):
    from twisted.logger import formatEvent

    return "\n".join(formatEvent(e) for e in events)


class OptionsTests(SynchronousTestCase):
    """
    The options the whole tree adds.
    """

    def test_defaults(self):
        """SQLite in the working directory, 3-10 threads, no reload, no QOTD, loopback page."""
        options = parse([])
        self.assertEqual(str(options["db"]), webapp.DEFAULT_DB)
        self.assertEqual((options["db-min-threads"], options["db-max-threads"]), (3, 10))
        self.assertFalse(options["reload"])
        self.assertEqual(options["qotd-port"], [])
        self.assertEqual(options["status-page"], "loopback")

    def test_values(self):
        """Every option is read and coerced; --qotd-port repeats."""
        options = parse(["--db", "postgresql://u:secret@db:5433/app", "--db-min-threads", "0",
                         "--db-max-threads", "4", "--reload", "--qotd-port", "8007",
                         "--qotd-port", "tcp:8017:interface=127.0.0.1", "--status-page", "any"])
        self.assertEqual(options["db"].backend, "postgresql")
        self.assertEqual((options["db-min-threads"], options["db-max-threads"]), (0, 4))
        self.assertTrue(options["reload"])
        self.assertEqual(options["qotd-port"], ["tcp:8007", "tcp:8017:interface=127.0.0.1"])
        self.assertEqual(options["status-page"], "any")

    def test_badValues(self):
        """Bad values are usage errors of one sentence."""
        for args in (["--db", "mysql://x"], ["--db-min-threads", "-1"],
                     ["--db-max-threads", "0"], ["--db-min-threads", "5", "--db-max-threads", "2"],
                     ["--status-page", "everyone"], ["--qotd-port", "nope:"]):
            with self.assertRaises(webapp.usage.UsageError, msg=args) as caught:
                parse(args)
            self.assertEqual(len(str(caught.exception).strip().split("\n")), 1)

    def test_environmentAndYaml(self):
        """--db and the thread counts come from APPSERVER_* and app.yaml too."""
        root = appDir(self, yaml="db-max-threads: 7\nreload: true\n")
        options = parse(["--app", root], {"APPSERVER_DB": "sqlite://:memory:"})
        self.assertTrue(options["db"].inMemory)
        self.assertEqual(options["db-max-threads"], 7)
        self.assertTrue(options["reload"])
        self.assertEqual(options.appConfigKeys(), {"db-max-threads", "reload"})
        self.assertIn("db", options.pinnedKeys())
        self.assertIn("app", options.pinnedKeys())

    def test_statusAccess(self):
        """The status page setting is one of three words."""
        self.assertEqual(statusAccess(" Loopback "), "loopback")
        self.assertRaises(ValueError, statusAccess, "public")


class TreeTests(SynchronousTestCase):
    """
    The service tree makeService builds.
    """

    def test_order(self):
        """Children in start order: db, sessions, app, web, reloader, qotd."""
        root = appDir(self)
        service = webapp.makeService(parse(["--app", root, "--reload", "--qotd-port", "0"]))
        self.assertEqual([s.name for s in service],
                         ["db", "sessions", "app", "web", "reloader", "qotd"])
        self.assertEqual(service.getServiceNamed("reloader").path, root)

    def test_wsgiOrder(self):
        """With --wsgi, its pool comes before the app."""
        service = webapp.makeService(parse(["--app", appDir(self), "--wsgi",
                                            "tests.test_webapp_tap:wsgiHello"]))
        self.assertEqual([s.name for s in service], ["db", "sessions", "wsgi", "app", "web"])

    def test_database(self):
        """The db service has the options' URL, threads and the app's migrations."""
        root = appDir(self)
        service = webapp.makeService(parse(["--app", root, "--db", "sqlite://:memory:",
                                            "--db-min-threads", "1", "--db-max-threads", "2"]))
        db = service.getServiceNamed("db")
        self.assertIsInstance(db, DatabaseService)
        self.assertTrue(db.url.inMemory)
        self.assertEqual((db.minThreads, db.maxThreads), (1, 2))
        self.assertEqual(db.migrationDirs, (os.path.join(root, "migrations"),))

    def test_controllersGetDb(self):
        """Controllers reach the pool as self.db."""
        service = webapp.makeService(parse(["--app", appDir(self)]))
        app = service.getServiceNamed("app").load()
        self.assertIs(app.controllers[0].db, service.getServiceNamed("db"))

    def test_demoMigrations(self):
        """The demo app's migrations are its package's migrations folder."""
        service = webapp.makeService(parse([]))
        demo = appHome(webapp.DEMO_APP)
        self.assertEqual(service.getServiceNamed("db").migrationDirs,
                         (os.path.join(demo, "migrations"),))
        self.assertEqual(watchedDirectory(webapp.DEMO_APP), demo)

    def test_qotdWithOtherApp(self):
        """QOTD with another app: the demo's migration runs first, for its table."""
        root = appDir(self)
        service = webapp.makeService(parse(["--app", root, "--qotd-port", "0"]))
        demo = os.path.join(appHome(webapp.DEMO_APP), "migrations")
        self.assertEqual(service.getServiceNamed("db").migrationDirs,
                         (demo, os.path.join(root, "migrations")))

    def test_qotdQuoter(self):
        """The qotd service reads quotes from the tree's database."""
        service = webapp.makeService(parse(["--qotd-port", "0", "--qotd-port", "1"]))
        qotd = service.getServiceNamed("qotd")
        listeners = list(qotd)
        self.assertEqual([l.description for l in listeners], ["tcp:0", "tcp:1"])
        self.assertIs(listeners[0].factory.quoter.db, service.getServiceNamed("db"))

    def test_reloadWithoutDirectory(self):
        """--reload with nothing to watch adds no reloader and says so."""
        events = captureLog(self)
        service = webapp.makeService(parse(["--static", tempDir(self), "--reload"]))
        self.assertNotIn("reloader", service.namedServices)
        self.assertIn("--reload watches nothing", logText(events))

    def test_statusPageOff(self):
        """--status-page off leaves the page out of the resource tree."""
        service = webapp.makeService(parse(["--status-page", "off"]))
        self.assertNotIsInstance(service.getServiceNamed("web").resource, StatusGate)
        self.assertIsNone(service.getServiceNamed("app").resource.pinned)

    def test_statusPageWithoutApp(self):
        """Without an app, the status page is served by a gate in front of the fallback."""
        service = webapp.makeService(parse(["--static", appDir(self)]))
        self.assertIsInstance(service.getServiceNamed("web").resource, StatusGate)

    def test_persists(self):
        """The full tree pickles and comes back wired to itself."""
        args = ["--app", appDir(self), "--reload", "--qotd-port", "0", "--debug",
                "--db", "sqlite://:memory:"]
        service = webapp.makeService(parse(args))

        def check(restored):
            self.assertEqual([s.name for s in restored],
                             ["db", "sessions", "app", "web", "reloader", "qotd"])
            reloader = restored.getServiceNamed("reloader").onChange.__self__
            self.assertIs(reloader.root, restored)
            app = restored.getServiceNamed("app")
            self.assertIs(app.attributes["db"], restored.getServiceNamed("db"))
            self.assertIs(restored.getServiceNamed("web").resource.wrapped, app.resource)
            self.assertIs(app.resource.pinned[tuple(PATH)].root, restored)
            self.assertEqual(app.resource.errorStatuses, webapp.ERROR_STATUSES)
            self.assertTrue(app.resource.debug)
        assertPersists(self, service, check)


class ClassifyTests(SynchronousTestCase):
    """
    Sorting changed paths into kinds of reload.
    """

    def test_kinds(self):
        """Controllers and other Python files are code; templates, app.yaml, migrations."""
        cases = {
            "controllers/c.py": {reloading.CODE},
            "controllers/sub/x.txt": {reloading.CODE},
            "models.py": {reloading.CODE},
            "lib/helpers.py": {reloading.CODE},
            "templates/home.xml": {reloading.TEMPLATES},
            "app.yaml": {reloading.CONFIG},
            "migrations/002_x.sql": {reloading.MIGRATIONS},
            "static/app.js": set(),
            "static/gen.py": set(),
            "appserver.sqlite3": set(),
            "README": set(),
            "sub/app.yaml": set(),
        }
        for path, kinds in cases.items():
            self.assertEqual(reloading.classify([path]), kinds, path)

    def test_several(self):
        """A burst of changes gives every kind it touches."""
        self.assertEqual(reloading.classify({"app.yaml", "templates/a.xml", "static/x.css"}),
                         {reloading.CONFIG, reloading.TEMPLATES})


class ReloadTests(SynchronousTestCase):
    """
    What the reloader's onChange does to a tree.
    """

    def setUp(self):
        self.events = captureLog(self)

    def tree(self, args=(), yaml=None):
        self.root = appDir(self, yaml=yaml)
        self.options = parse(["--app", self.root, "--reload", "--db", "sqlite://:memory:",
                              *args])
        self.service = webapp.makeService(self.options)
        self.app = self.service.getServiceNamed("app")
        self.app.load()
        self.resource = self.service.getServiceNamed("web").resource
        self.reload = self.service.getServiceNamed("reloader").onChange
        return self.service

    def get(self, path):
        return request(self.resource, path=path)

    def controller(self, text):
        writeFile(os.path.join(self.root, "controllers", "c.py"), text)

    def test_newCode(self):
        """A controller change swaps in the new routes; removed routes disappear."""
        self.tree()
        self.controller("from appserver.web import Controller, route\n"
                        "class C(Controller):\n"
                        "    @route('/new')\n"
                        "    def new(self, request):\n"
                        "        return 'new'\n")
        result = self.reload(frozenset({"controllers/c.py"}))
        self.assertEqual(result["routes"], 1)
        self.assertEqual(self.get(b"/new").body, b"new")
        self.assertEqual(self.get(b"/hi").code, 404)

    def test_helperModule(self):
        """A helper module of an app directory is imported afresh."""
        self.tree()
        self.addCleanup(sys.modules.pop, "treehelper", None)
        self.addCleanup(lambda: self.root in sys.path and sys.path.remove(self.root))
        writeFile(os.path.join(self.root, "treehelper.py"), "WORD = 'one'\n")
        self.controller("from appserver.web import Controller, route\n"
                        "import treehelper\n"
                        "class C(Controller):\n"
                        "    @route('/word')\n"
                        "    def word(self, request):\n"
                        "        return treehelper.WORD\n")
        self.reload(frozenset({"controllers/c.py"}))
        self.assertEqual(self.get(b"/word").body, b"one")
        writeFile(os.path.join(self.root, "treehelper.py"), "WORD = 'two'\n")
        self.reload(frozenset({"treehelper.py"}))
        self.assertEqual(self.get(b"/word").body, b"two")

    def test_brokenKeepsOld(self):
        """A syntax error keeps the last good router and names the file and line."""
        self.tree()
        self.controller("def broken(:\n")
        error = self.assertRaises(Exception, self.reload, frozenset({"controllers/c.py"}))
        self.assertIn("c.py, line 1", str(error))
        self.assertEqual(self.get(b"/hi").body, b"hi")
        self.assertIn("c.py, line 1", self.app.resource.reloadError)
        self.assertIn("Reload failed", logText(self.events))
        self.controller(CONTROLLER.replace("'hi'\n", "'fixed'\n"))
        self.reload(frozenset({"controllers/c.py"}))
        self.assertIsNone(self.app.resource.reloadError)
        self.assertEqual(self.get(b"/hi").body, b"fixed")

    def test_importErrorKeepsOld(self):
        """An exception while importing keeps the old code too."""
        self.tree()
        self.controller("import nosuchmodule_xyz\n")
        self.assertRaises(Exception, self.reload, frozenset({"controllers/c.py"}))
        self.assertEqual(self.get(b"/hi").body, b"hi")

    def test_bannerWithDebug(self):
        """With --debug a failed reload shows a banner on HTML pages until fixed."""
        self.tree(["--debug"])
        self.controller("def broken(:\n")
        self.assertRaises(Exception, self.reload, frozenset({"controllers/c.py"}))
        answer = self.get(b"/hi")
        self.assertEqual(answer.code, 200)
        self.assertTrue(answer.body.startswith(b'<div id="appserver-reload-error"'))
        self.assertIn(b"line 1", answer.body)
        self.assertIn(b"line 1", answer.header("x-appserver-reload-error"))
        self.assertTrue(answer.body.endswith(b"</div>hi"))
        self.controller(CONTROLLER)
        self.reload(frozenset({"controllers/c.py"}))
        answer = self.get(b"/hi")
        self.assertEqual(answer.body, b"hi")
        self.assertIsNone(answer.header("x-appserver-reload-error"))

    def test_noBannerWithoutDebug(self):
        """Without --debug pages stay as they are."""
        self.tree()
        self.controller("def broken(:\n")
        self.assertRaises(Exception, self.reload, frozenset({"controllers/c.py"}))
        self.assertEqual(self.get(b"/hi").body, b"hi")

    def test_templates(self):
        """A template change is seen by the next render."""
        self.tree()
        template = os.path.join(self.root, "templates", "page.xml")
        page = ('<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">'
                '%s <t:slot name="x"/></p>')
        writeFile(template, page % "one")
        self.controller(CONTROLLER + "    @route('/page')\n"
                                     "    def page(self, request):\n"
                                     "        return self.template('page.xml', x='!')\n")
        self.reload(frozenset({"controllers/c.py"}))
        self.assertIn(b"one !", self.get(b"/page").body)
        writeFile(template, page % "two")
        self.reload(frozenset({"templates/page.xml"}))
        self.assertIn(b"two !", self.get(b"/page").body)

    def test_config(self):
        """app.yaml changes apply where they can and log "needs restart" otherwise."""
        self.tree(yaml="db-max-threads: 4\n")
        writeFile(os.path.join(self.root, "app.yaml"),
                  "db-max-threads: 6\ndb-min-threads: 2\ndisplay-tracebacks: true\n"
                  "session-idle-timeout: 60\nmax-body: 1kb\ntimeout: 9\n"
                  "port: 9999\naccess-log: '-'\n")
        result = self.reload(frozenset({"app.yaml"}))
        self.assertEqual(result["needsRestart"], ["access-log", "port"])
        db = self.service.getServiceNamed("db")
        self.assertEqual((db.minThreads, db.maxThreads), (2, 6))
        self.assertTrue(self.app.resource.displayTracebacks)
        self.assertEqual(self.service.getServiceNamed("sessions").manager.idleTimeout, 60)
        web = self.service.getServiceNamed("web")
        self.assertEqual((web.maxBody, web.timeout), (1024, 9))
        self.assertIn("needs restart", logText(self.events))
        self.assertIn("access-log, port", logText(self.events))

    def test_configRemovedKeyFallsBack(self):
        """An option app.yaml no longer names goes back to its default."""
        self.tree(yaml="db-max-threads: 4\n")
        writeFile(os.path.join(self.root, "app.yaml"), "{}\n")
        result = self.reload(frozenset({"app.yaml"}))
        self.assertEqual(result["applied"], ["db-max-threads"])
        self.assertEqual(self.service.getServiceNamed("db").maxThreads, 10)

    def test_configPinned(self):
        """An option given on the command line is not changed by app.yaml."""
        self.tree(["--db-max-threads", "5"], yaml="db-max-threads: 4\n")
        writeFile(os.path.join(self.root, "app.yaml"), "db-max-threads: 8\n")
        result = self.reload(frozenset({"app.yaml"}))
        self.assertEqual(result["applied"], [])
        self.assertEqual(self.service.getServiceNamed("db").maxThreads, 5)

    def test_badConfig(self):
        """A bad app.yaml is reported and changes nothing."""
        self.tree(yaml="db-max-threads: 4\n")
        writeFile(os.path.join(self.root, "app.yaml"), "db-max-threads: many\n")
        error = self.assertRaises(Exception, self.reload, frozenset({"app.yaml"}))
        self.assertIn("db-max-threads", str(error))
        self.assertEqual(self.service.getServiceNamed("db").maxThreads, 4)

    def test_migrations(self):
        """Changed migrations are logged as needing a restart."""
        self.tree()
        self.assertEqual(self.reload(frozenset({"migrations/002_x.sql"}))["kinds"],
                         ["migrations"])
        self.assertIn("needs restart", logText(self.events))


class Failing(Controller):
    """
    Handlers that fail in various ways.
    """

    @route("/gone")
    def gone(self, request):
        raise DatabaseUnavailable("Database sqlite:///x is unavailable: locked")

    @route("/later")
    async def later(self, request):
        raise DatabaseUnavailable("gone")

    @route("/bug")
    def bug(self, request):
        raise KeyError("bug")


class UnavailableTests(SynchronousTestCase):
    """
    A request failing because the database is unavailable gets a 503.
    """

    def resource(self):
        router = Router()
        for pattern, methods, handler in Failing().routes():
            router.add(pattern, methods, handler)
        return AppResource(router, errorStatuses={DatabaseUnavailable: (503, b"down")})

    def test_503(self):
        """Raised at once or through a coroutine: 503 with the short body."""
        resource = self.resource()
        for path in (b"/gone", b"/later"):
            answer = request(resource, path=path)
            self.assertEqual((answer.code, answer.body), (503, b"down"))

    def test_othersStill500(self):
        """Other exceptions are still a 500."""
        self.assertEqual(request(self.resource(), path=b"/bug").code, 500)
        self.flushLoggedErrors(KeyError)

    def test_treeDatabaseStopped(self):
        """In the web-app tree, a route using a stopped database answers 503."""
        service = webapp.makeService(parse(["--app", appDir(self), "--db",
                                            "sqlite://:memory:"]))
        service.getServiceNamed("app").load()
        resource = service.getServiceNamed("web").resource
        answer = request(resource, path=b"/db")
        self.assertEqual((answer.code, answer.body), (503, webapp.DB_UNAVAILABLE))
        self.assertEqual(request(resource, path=b"/hi").body, b"hi")


class StatusPageTests(SynchronousTestCase):
    """
    GET /_appserver/services.
    """

    def tree(self, args=()):
        self.service = webapp.makeService(parse(["--app", appDir(self), "--reload",
                                                 "--db", "sqlite://:memory:", *args]))
        self.service.getServiceNamed("app").load()
        return self.service.getServiceNamed("web").resource

    def test_loopback(self):
        """A loopback client gets the tree as JSON, with each service's figures."""
        answer = localRequest(self.tree(), b"/_appserver/services")
        self.assertEqual(answer.code, 200)
        self.assertEqual(answer.header("content-type"), b"application/json")
        tree = json.loads(answer.body)["services"][0]
        self.assertEqual(tree["name"], "web-app")
        children = {c["name"]: c for c in tree["children"]}
        self.assertEqual(list(children), ["db", "sessions", "app", "web", "reloader"])
        self.assertEqual(children["db"]["class"], "services.db.service.DatabaseService")
        self.assertEqual(children["db"]["figures"]["maxThreads"], 10)
        self.assertIn("busy", children["db"]["figures"])
        self.assertEqual(children["sessions"]["figures"]["sessions"], 0)
        self.assertEqual(children["app"]["figures"]["routes"], 2)
        self.assertIn("lastReload", children["reloader"]["figures"])
        self.assertEqual(children["web"]["figures"]["configuredPorts"], ["tcp:8080"])
        self.assertFalse(children["web"]["running"])

    def test_ipv6AndUnix(self):
        """::1 and UNIX sockets are local too."""
        resource = self.tree()
        for peer in (IPv6Address("TCP", "::1", 1), UNIXAddress(b"/tmp/s")):
            self.assertEqual(localRequest(resource, b"/_appserver/services", peer).code, 200)

    def test_remote404(self):
        """Other clients, and proxied requests, get a plain 404."""
        resource = self.tree()
        remote = localRequest(resource, b"/_appserver/services",
                              IPv4Address("TCP", "10.1.2.3", 1))
        proxied = localRequest(resource, b"/_appserver/services",
                               headers={b"X-Forwarded-For": b"10.1.2.3"})
        for answer in (remote, proxied):
            self.assertEqual((answer.code, answer.body), (404, b"Not Found"))

    def test_any(self):
        """--status-page any answers every client."""
        resource = self.tree(["--status-page", "any"])
        answer = localRequest(resource, b"/_appserver/services",
                              IPv4Address("TCP", "10.1.2.3", 1))
        self.assertEqual(answer.code, 200)

    def test_methods(self):
        """Only GET and HEAD."""
        answer = localRequest(self.tree(), b"/_appserver/services", method=b"POST")
        self.assertEqual(answer.code, 405)

    def test_otherPathsPassThrough(self):
        """Every other path, near ones included, goes to the app."""
        resource = self.tree()
        self.assertEqual(localRequest(resource, b"/hi").body, b"hi")
        self.assertEqual(localRequest(resource, b"/_appserver/services/x").code, 404)
        self.assertEqual(localRequest(resource, b"/_appserver").code, 404)

    def test_runningFigures(self):
        """Bound ports are reported from the listening port."""

        class Port:
            def getHost(self):
                return IPv4Address("TCP", "127.0.0.1", 4321)

        class Listener:
            port = Port()
            description = "tcp:0"

        self.tree()
        web = self.service.getServiceNamed("web")
        web.listeners = [Listener()]
        self.assertEqual(describeTree(web)["figures"]["ports"], ["tcp:127.0.0.1:4321"])

    def test_reloaderStatus(self):
        """The reloader's status() is its figures."""
        reloader = ReloaderService("/x", print)
        self.assertEqual(describeTree(reloader)["figures"]["path"], "/x")

    def test_page(self):
        """ServicesPage alone describes the tree it is given."""
        self.tree()
        page = StatusGate(AppResource(), ServicesPage(self.service, "any"))
        answer = localRequest(page, b"/_appserver/services")
        self.assertEqual(json.loads(answer.body)["services"][0]["name"], "web-app")
