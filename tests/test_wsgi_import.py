"""
Tests for L{appserver.web.wsgi.resolveApplication}: importing a WSGI
application from the working directory, and the sentence naming what is
missing; and C{twistd web-app --wsgi} run from the module's own directory.
"""

import http.client
import os
import sys

from twisted.trial.unittest import SynchronousTestCase

from appserver.web.wsgi import resolveApplication
from tests.support import TWISTD, freePort, run, startTwistd, tempDir

HELLO = """\
def app(environ, startResponse):
    startResponse("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from the working directory"]

notCallable = 7
"""


class ResolveTests(SynchronousTestCase):
    """
    A module in the working directory is found; a missing module, a missing
    attribute and a failing import are told apart.
    """

    def setUp(self):
        self.directory = tempDir(self)
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.directory)
        self.addCleanup(sys.path.__setitem__, slice(None), list(sys.path))
        self.module = f"hello_wsgi_{id(self)}"
        self.addCleanup(sys.modules.pop, self.module, None)
        self.write(self.module, HELLO)

    def write(self, module, text):
        with open(os.path.join(self.directory, module + ".py"), "w") as f:
            f.write(text)

    def error(self, name):
        return str(self.assertRaises(ValueError, resolveApplication, name))

    def test_fromWorkingDirectory(self):
        """module:callable is imported from the working directory, as gunicorn does."""
        application = resolveApplication(f"{self.module}:app")
        self.assertEqual(application.__module__, self.module)

    def test_missingModule(self):
        """A missing module is named as the missing part."""
        self.assertEqual(self.error("no_such_wsgi_module:app"),
                         "cannot import WSGI application 'no_such_wsgi_module:app': "
                         f"No module named 'no_such_wsgi_module' (looked in "
                         f"{os.getcwd()} and the Python path)")

    def test_missingAttribute(self):
        """A module without the attribute is told apart from a missing module."""
        self.assertEqual(self.error(f"{self.module}:application"),
                         f"cannot import WSGI application '{self.module}:application': "
                         f"module '{self.module}' has no attribute 'application'")

    def test_failingImport(self):
        """A module whose own import fails says so, naming what it lacks."""
        self.addCleanup(sys.modules.pop, "needs_dependency_wsgi", None)
        self.write("needs_dependency_wsgi", "import no_such_dependency_wsgi\n")
        self.assertEqual(self.error("needs_dependency_wsgi:app"),
                         "cannot import WSGI application 'needs_dependency_wsgi:app': "
                         "importing 'needs_dependency_wsgi' failed: ModuleNotFoundError: "
                         "No module named 'no_such_dependency_wsgi'")

    def test_notCallable(self):
        """An attribute that is not callable is refused."""
        self.assertEqual(self.error(f"{self.module}:notCallable"),
                         f"WSGI application '{self.module}:notCallable' is not callable")

    def test_noAttribute(self):
        """A bare module name asks for module:callable."""
        self.assertEqual(self.error(self.module),
                         f"cannot import WSGI application '{self.module}': give it as "
                         "module:callable")


class WorkingDirectoryIntegrationTests(SynchronousTestCase):
    """
    C{twistd -n web-app --wsgi hello_wsgi:app} from the module's directory.
    """

    def setUp(self):
        self.directory = tempDir(self)
        with open(os.path.join(self.directory, "hello_wsgi.py"), "w") as f:
            f.write(HELLO)

    def test_serves(self):
        """The module next to the working directory is served."""
        port = freePort()
        startTwistd(self, ["web-app", "--port", f"tcp:{port}:interface=127.0.0.1",
                           "--wsgi", "hello_wsgi:app"], self.directory, port)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.addCleanup(connection.close)
        connection.request("GET", "/")
        self.assertEqual(connection.getresponse().read(), b"hello from the working directory")

    def test_missingAttribute(self):
        """A wrong attribute is named as such, in one sentence."""
        code, output = run([TWISTD, "-n", "--pidfile=", "web-app", "--wsgi", "hello_wsgi:ap"],
                           self.directory)
        self.assertNotEqual(code, 0)
        self.assertIn("module 'hello_wsgi' has no attribute 'ap'", output)
        self.assertNotIn("Traceback", output)
