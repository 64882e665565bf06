"""
Tests for loading apps from directories and dotted names, and AppService.
"""

import json
import os
import sys
import textwrap

from twisted.trial.unittest import SynchronousTestCase

from appserver.web import AppError, AppResource, AppService, loadApp
from appserver.web.appdir import appConfigPath, checkApp
from tests.support import assertPersists, tempDir
from tests.websupport import request

CONTROLLER = '''
from appserver.web import Controller, route
from helper import GREETING

class Hello(Controller):
    def __init__(self):
        self.made = getattr(self, "db", None)

    @route("/hello")
    def hello(self, request):
        return GREETING

    @route("/page")
    def page(self, request):
        return self.template("page.xml", who="you")

    @route("/db")
    def showDb(self, request):
        return {"db": self.made}

class Imported(Controller):
    prefix = "/imp"

    @route("/x")
    def x(self, request):
        return "x"
'''


def writeApp(root, files):
    for name, text in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
    return root


def makeApp(testCase, **extra):
    files = {
        "controllers/hello.py": CONTROLLER,
        "controllers/other.py": "from appserver.web import Controller\nfrom helper import Base\n",
        "helper.py": "from appserver.web import Controller\nGREETING = 'hi there'\nclass Base(Controller):\n    pass\n",
        "templates/page.xml": '<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.'
                              'template/0.1">Hello <t:slot name="who"/></p>',
        "static/a.txt": "static text",
        "app.yaml": "max-body: 1kb\n",
    }
    files.update(extra)
    root = writeApp(os.path.join(tempDir(testCase), "app"), files)
    testCase.addCleanup(lambda: root in sys.path and sys.path.remove(root))
    testCase.addCleanup(lambda: sys.modules.pop("helper", None))
    return root


class DirectoryTests(SynchronousTestCase):
    """
    Loading an app directory.
    """

    def test_load(self):
        """Controllers, templates and static files of a directory are served."""
        root = makeApp(self)
        app = loadApp(root)
        self.assertEqual([type(c).__name__ for c in app.controllers], ["Hello", "Imported"])
        resource = AppResource(app.buildRouter())
        self.assertEqual(request(resource, path=b"/hello").body, b"hi there")
        self.assertEqual(request(resource, path=b"/imp/x").body, b"x")
        self.assertIn(b"<p>Hello you</p>", request(resource, path=b"/page").body)
        self.assertEqual(app.path.path, os.path.abspath(root))

    def test_attributes(self):
        """Attributes given to loadApp are set before a controller's __init__ runs."""
        app = loadApp(makeApp(self), {"db": "the pool"})
        resource = AppResource(app.buildRouter())
        self.assertEqual(json.loads(request(resource, path=b"/db").body), {"db": "the pool"})
        self.assertIs(app.controllers[0].app, app)

    def test_freshLoads(self):
        """Each load runs the controller files again, seeing changed code."""
        root = makeApp(self)
        first = loadApp(root)
        with open(os.path.join(root, "controllers", "hello.py"), "a") as f:
            f.write("\nclass Late(Controller):\n    pass\n")
        second = loadApp(root)
        self.assertEqual(len(second.controllers), len(first.controllers) + 1)

    def test_syntaxError(self):
        """A syntax error names the file and the line, when checking and when loading."""
        root = makeApp(self, **{"controllers/bad.py": "x = 1\ndef broken(:\n"})
        path = os.path.join(os.path.abspath(root), "controllers", "bad.py")
        for attempt in (checkApp, loadApp):
            error = self.assertRaises(AppError, attempt, root)
            self.assertIn(f"Syntax error in controller file {path}, line 2", str(error))

    def test_importError(self):
        """An exception while running a controller file names the file and line."""
        root = makeApp(self, **{"controllers/bad.py": "x = 1\nimport no_such_module_here\n"})
        error = self.assertRaises(AppError, loadApp, root)
        self.assertIn("bad.py, line 2 failed: ModuleNotFoundError", str(error))

    def test_conflict(self):
        """Conflicting routes are an AppError naming the routes."""
        root = makeApp(self, **{"controllers/dup.py": (
            "from appserver.web import Controller, route\n"
            "class Dup(Controller):\n"
            "    @route('/hello')\n"
            "    def again(self, request):\n"
            "        return ''\n")})
        error = self.assertRaises(AppError, lambda: loadApp(root).buildRouter())
        self.assertIn("'/hello'", str(error))

    def test_missing(self):
        """A missing directory is an AppError."""
        missing = os.path.join(tempDir(self), "nope")
        self.assertRaises(AppError, checkApp, missing)
        self.assertRaises(AppError, loadApp, missing)

    def test_configPath(self):
        """The app.yaml of a directory is found; modules have none."""
        root = makeApp(self)
        self.assertEqual(appConfigPath(root), os.path.join(root, "app.yaml"))
        self.assertIsNone(appConfigPath("appserver.web.demo"))


class DottedTests(SynchronousTestCase):
    """
    Loading an app by dotted name.
    """

    def setUp(self):
        root = tempDir(self)
        writeApp(root, {"dottedapp_mod.py": '''
            from appserver.web import Controller, route

            class One(Controller):
                @route("/one")
                def one(self, request):
                    return "one"

            class Two(Controller):
                @route("/two")
                def two(self, request):
                    return "two"

            only = One
            both = [One, Two()]
            nothing = 42
        '''})
        sys.path.insert(0, root)
        self.addCleanup(sys.path.remove, root)
        self.addCleanup(sys.modules.pop, "dottedapp_mod", None)

    def paths(self, app):
        return sorted(pattern for c in app.controllers for pattern, _, _ in c.routes())

    def test_module(self):
        """A module without 'app' gives all its controllers."""
        self.assertEqual(self.paths(loadApp("dottedapp_mod")), ["/one", "/two"])

    def test_attribute(self):
        """module:attribute names a controller class or a list."""
        self.assertEqual(self.paths(loadApp("dottedapp_mod:only")), ["/one"])
        self.assertEqual(self.paths(loadApp("dottedapp_mod:both")), ["/one", "/two"])

    def test_bad(self):
        """Unknown modules, attributes and kinds are AppErrors."""
        self.assertRaises(AppError, loadApp, "dottedapp_mod:missing")
        self.assertRaises(AppError, loadApp, "dottedapp_mod:nothing")
        self.assertRaises(AppError, loadApp, "no_such_module_xyz")
        self.assertRaises(AppError, checkApp, "no_such_module_xyz")

    def test_packageDirectory(self):
        """A package with a controllers folder (the demo) is an app directory."""
        app = loadApp("appserver.web.demo")
        self.assertIsNotNone(app.templates)
        self.assertIn("/api/quotes/<int:quoteId>", self.paths(app))


class AppServiceTests(SynchronousTestCase):
    """
    The app service loads at start and pickles without the loaded app.
    """

    def test_startLoads(self):
        """Starting loads the app into the resource; load() swaps in a new router."""
        resource = AppResource()
        service = AppService(makeApp(self), resource)
        service.privilegedStartService()
        service.startService()
        first = resource.router
        self.assertEqual(request(resource, path=b"/hello").body, b"hi there")
        service.load()
        self.assertIsNot(resource.router, first)

    def test_startFails(self):
        """A broken app stops the start with AppError."""
        root = makeApp(self, **{"controllers/bad.py": "def (\n"})
        service = AppService(root, AppResource())
        self.assertRaises(AppError, service.privilegedStartService)

    def test_persists(self):
        """The service pickles with its spec and resource, not the loaded app."""
        service = AppService("appserver.web.demo", AppResource(), {"x": 1})
        service.startService()
        service.stopService()

        def check(restored):
            self.assertEqual(restored.spec, "appserver.web.demo")
            self.assertIsNone(restored.app)
            restored.startService()
            self.assertEqual(request(restored.resource, path=b"/static/style.css").code, 200)
        assertPersists(self, service, check)


class StaticFolderTests(SynchronousTestCase):
    """
    The app's static/ folder keeps dotfiles and links out unless allowed.
    """

    def setUp(self):
        self.root = makeApp(self, **{"static/.env": "SECRET=1"})
        outside = os.path.join(tempDir(self), "private.txt")
        with open(outside, "w") as f:
            f.write("private")
        os.symlink(outside, os.path.join(self.root, "static", "out.txt"))

    def answers(self, service):
        service.startService()
        return [request(service.resource, path=path).code
                for path in (b"/static/a.txt", b"/static/.env", b"/static/out.txt",
                             b"/static/x%00")]

    def test_hidden(self):
        """By default dotfiles and links out of static/ are 404, as is a NUL byte."""
        self.assertEqual(self.answers(AppService(self.root, AppResource())),
                         [200, 404, 404, 404])

    def test_allowed(self):
        """staticOptions allow each; they persist with the service."""
        service = AppService(self.root, AppResource(),
                             staticOptions={"dotfiles": True, "followSymlinks": True})
        self.assertEqual(self.answers(service), [200, 200, 200, 404])

        def check(restored):
            self.assertEqual(self.answers(restored), [200, 200, 200, 404])
        assertPersists(self, service, check)
