"""
Tests for appserver.tap.webapp: options, config layers and the service tree.
"""

import os
import runpy

from twisted.application.service import IServiceMaker
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from appserver.tap import webapp
from appserver.web.resource import AppResource
from appserver.web.static import StaticFiles
from appserver.web.wsgi import WSGIApplication
from tests.support import SOURCE, assertPersists, parseOptions, tempDir
from tests.websupport import request


def wsgiHello(environ, startResponse):
    startResponse("200 OK", [("Content-Type", "text/plain")])
    return [b"wsgi hello"]


def parse(args, environ=None):
    return parseOptions(webapp.Options, args, environ)


def appDir(testCase, yaml=None, controller=None):
    root = os.path.join(tempDir(testCase), "app")
    os.makedirs(os.path.join(root, "controllers"))
    with open(os.path.join(root, "controllers", "c.py"), "w") as f:
        f.write(controller or "from appserver.web import Controller, route\n"
                "class C(Controller):\n"
                "    @route('/hi')\n"
                "    def hi(self, request):\n"
                "        return 'hi'\n")
    if yaml is not None:
        with open(os.path.join(root, "app.yaml"), "w") as f:
            f.write(yaml)
    return root


class OptionsTests(SynchronousTestCase):
    """
    Parsing and checking options.
    """

    def test_defaults(self):
        """Without options: port 8080, the demo, 10 MiB bodies, no access log."""
        options = parse([])
        self.assertEqual(options["port"], ["tcp:8080"])
        self.assertEqual(options["app"], webapp.DEMO_APP)
        self.assertEqual(options["max-body"], 10 * 1024 * 1024)
        self.assertIsNone(options["access-log"])
        self.assertFalse(options["display-tracebacks"])

    def test_values(self):
        """Every option is read and coerced."""
        options = parse(["-p", "8001", "--port", "tcp:8002:interface=127.0.0.1",
                         "--max-body", "1kb", "--timeout", "5", "--access-log", "-",
                         "--display-tracebacks", "--app", appDir(self)])
        self.assertEqual(options["port"], ["tcp:8001", "tcp:8002:interface=127.0.0.1"])
        self.assertEqual((options["max-body"], options["timeout"], options["access-log"]),
                         (1024, 5, "-"))
        self.assertTrue(options["display-tracebacks"])
        self.assertTrue(os.path.isabs(options["app"]))

    def test_debug(self):
        """--debug shows tracebacks and logs access to the log."""
        options = parse(["--debug"])
        self.assertTrue(options["display-tracebacks"])
        self.assertEqual(options["access-log"], "-")

    def test_badValues(self):
        """Bad values are usage errors of one sentence."""
        for args in (["--max-body", "lots"], ["--port", "nope:"], ["--timeout", "0"],
                     ["--wsgi", "no_such_module_q:app"], ["--static", "/no/such/dir"],
                     ["--app", "/no/such/app/dir"], ["--app", "no_such_module_q"]):
            self.assertRaises(usage.UsageError, parse, args)

    def test_wsgiAndStatic(self):
        """--wsgi and --static cannot both serve /."""
        error = self.assertRaises(usage.UsageError, parse,
                                  ["--wsgi", "tests.test_webapp_tap.wsgiHello",
                                   "--static", tempDir(self)])
        self.assertIn("only one", str(error))

    def test_syntaxError(self):
        """A controller with a syntax error is a usage error naming file and line."""
        root = appDir(self, controller="def broken(:\n    pass\n")
        error = self.assertRaises(usage.UsageError, parse, ["--app", root])
        self.assertIn(os.path.join(root, "controllers", "c.py") + ", line 1", str(error))

    def test_appYamlLayer(self):
        """app.yaml sits above the defaults and below --config, env and command line."""
        root = appDir(self, yaml="max-body: 2kb\ntimeout: 7\naccess-log: app.log\n")
        options = parse(["--app", root])
        self.assertEqual((options["max-body"], options["timeout"]), (2048, 7))
        config = os.path.join(tempDir(self), "c.yaml")
        with open(config, "w") as f:
            f.write("timeout: 9\n")
        options = parse(["--app", root, "--config", config],
                        environ={"APPSERVER_ACCESS_LOG": "env.log"})
        self.assertEqual((options["max-body"], options["timeout"], options["access-log"]),
                         (2048, 9, "env.log"))
        options = parse(["--app", root, "--max-body", "3kb"])
        self.assertEqual(options["max-body"], 3072)

    def test_appFromEnvironment(self):
        """The app may come from the environment, and its app.yaml still applies."""
        root = appDir(self, yaml="timeout: 11\n")
        options = parse([], environ={"APPSERVER_APP": root})
        self.assertEqual(options["timeout"], 11)

    def test_badAppYaml(self):
        """An app.yaml with an unknown key is a usage error naming the file."""
        root = appDir(self, yaml="colour: blue\n")
        error = self.assertRaises(usage.UsageError, parse, ["--app", root])
        self.assertIn("app.yaml", str(error))


class MakeServiceTests(SynchronousTestCase):
    """
    The service tree.
    """

    def test_demoTree(self):
        """The default tree: web-app with app then web; the app serves the demo."""
        service = webapp.makeService(parse(["--port", "0"]))
        self.assertEqual(service.name, "web-app")
        self.assertEqual([s.name for s in service], ["db", "sessions", "app", "web"])
        web = service.getServiceNamed("web")
        self.assertIsInstance(web.resource.wrapped, AppResource)
        self.assertIs(service.getServiceNamed("app").resource, web.resource.wrapped)
        self.assertEqual(web.ports, ["tcp:0"])
        service.getServiceNamed("app").load()
        # The demo's route is reached; its database is not started here: 503.
        self.assertEqual(request(web.resource, path=b"/api/quotes/1").code, 503)

    def test_wsgiOnly(self):
        """With --wsgi alone, the WSGI app is the root, with its thread pool service
        and no database or sessions."""
        service = webapp.makeService(parse(["--wsgi", "tests.test_webapp_tap:wsgiHello",
                                            "--wsgi-threads", "3"]))
        self.assertEqual([s.name for s in service], ["wsgi", "web"])
        self.assertIsInstance(service.getServiceNamed("web").resource.resource, WSGIApplication)
        self.assertEqual(service.getServiceNamed("wsgi").maxThreads, 3)

    def test_appWithStatic(self):
        """--app with --static: the files serve what the app does not route."""
        service = webapp.makeService(parse(["--app", appDir(self), "--static", tempDir(self)]))
        resource = service.getServiceNamed("web").resource.wrapped
        self.assertIsInstance(resource.fallback, StaticFiles)

    def test_staticOnly(self):
        """--static alone serves the directory at the root, with no database or sessions."""
        service = webapp.makeService(parse(["--static", tempDir(self)]))
        self.assertEqual([s.name for s in service], ["web"])
        self.assertIsInstance(service.getServiceNamed("web").resource.resource, StaticFiles)

    def test_persists(self):
        """Every web-app tree pickles and comes back with its children."""
        for args in ([], ["--app", appDir(self), "--wsgi", "tests.test_webapp_tap:wsgiHello",
                          "--display-tracebacks", "--access-log", "-"]):
            service = webapp.makeService(parse(args))

            def check(restored, names=[s.name for s in service]):
                self.assertEqual([s.name for s in restored], names)
                self.assertIs(restored.getServiceNamed("web").resource.wrapped,
                              restored.getServiceNamed("app").resource)
            assertPersists(self, service, check)

    def test_plugin(self):
        """The drop-in declares web-app, naming this module."""
        dropin = runpy.run_path(os.path.join(SOURCE, "twisted", "plugins",
                                             "appserver_plugins.py"))
        makers = {m.tapname: m for m in dropin.values() if IServiceMaker.providedBy(m)}
        self.assertEqual(makers["web-app"].module, "appserver.tap.webapp")
        self.assertIsInstance(makers["web-app"].options(), webapp.Options)
