"""
Integration tests: a web-app that cannot start ends twistd (foreground or
daemonized) and twist with a non-zero code and one sentence, no traceback.
"""

import os
import socket

from twisted.trial.unittest import SynchronousTestCase

from tests.support import BIN, TWISTD, run, tempDir

TWIST = os.path.join(BIN, "twist")
DEADLINE = 60

BROKEN_IMPORT = "import nosuchmodule_for_startup\n"

BAD_CONVERTER = """\
from appserver.web import Controller, route

class Items(Controller):
    @route("/items/<colour:item>")
    def item(self, request, item):
        return item
"""

CONFLICT = """\
from appserver.web import Controller, route

class One(Controller):
    @route("/same")
    def one(self, request):
        return "one"

class Two(Controller):
    @route("/same")
    def two(self, request):
        return "two"
"""


def appDirectory(parent, source, name="app"):
    """
    An app directory under C{parent} whose only controller file holds
    C{source}.
    """
    controllers = os.path.join(parent, name, "controllers")
    os.makedirs(controllers)
    with open(os.path.join(controllers, "a.py"), "w") as f:
        f.write(source)
    return os.path.join(parent, name)


def takenPort(testCase):
    """
    A loopback port something already listens on, for the test's duration.
    """
    taken = socket.socket()
    testCase.addCleanup(taken.close)
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    return taken.getsockname()[1]


def loopback(port):
    return f"tcp:{port}:interface=127.0.0.1"


class FailureMixin:
    """
    Run a command that must fail at start-up and check its output.
    """

    def assertOneSentence(self, code, output, expected):
        """
        C{output} ends a failed run (C{code} not 0) with the sentence
        C{expected}: on one line, no traceback.
        """
        self.assertNotEqual(code, 0, output)
        lines = [line for line in output.splitlines() if "cannot start" in line]
        self.assertEqual(len(lines), 1, output)
        self.assertIn(expected, lines[0])
        self.assertNotIn("Traceback", output)

    def startFails(self, args, expected, cwd=None):
        """
        Run the command with C{args} in C{cwd} (a new directory by default),
        check that it fails with the sentence C{expected}, and return the
        directory and the output.
        """
        directory = cwd or tempDir(self)
        code, output = run(self.command + list(args), directory, timeout=DEADLINE)
        self.assertOneSentence(code, output, expected)
        return directory, output

    def checkPortInUse(self):
        """
        A port already in use is named; return the run's directory.
        """
        port = takenPort(self)
        directory, _ = self.startFails(
            ["--port", loopback(port)],
            f"web-app cannot start: Address already in use: cannot listen on {loopback(port)}")
        return directory

    def checkBrokenImport(self, name="app"):
        """
        A controller file that fails to import (in an app directory called
        C{name}) is named with its line; return the directory, the
        sentence and the output.
        """
        directory = tempDir(self)
        app = appDirectory(directory, BROKEN_IMPORT, name)
        reason = (f"web-app cannot start: Loading controller file {app}/controllers/a.py, "
                  "line 1 failed: ModuleNotFoundError: No module named "
                  "'nosuchmodule_for_startup'.")
        _, output = self.startFails(["--app", app, "--port", "tcp:0:interface=127.0.0.1"],
                                    reason, directory)
        return directory, reason, output


class TwistdForegroundTests(FailureMixin, SynchronousTestCase):
    """
    C{twistd -n web-app}: each start-up failure is one sentence.
    """

    command = [TWISTD, "-n", "--pidfile=", "web-app", "--db", "sqlite://:memory:"]

    def test_portInUse(self):
        """A port already in use is named, no traceback."""
        self.checkPortInUse()

    def test_controllerImportError(self):
        """A controller file that fails to import is named with its line."""
        self.checkBrokenImport()

    def test_routeConflict(self):
        """Two controllers claiming one route are named."""
        directory = tempDir(self)
        app = appDirectory(directory, CONFLICT)
        self.startFails(["--app", app, "--port", "tcp:0:interface=127.0.0.1"],
                  "In Two:", directory)

    def test_badConverter(self):
        """An unknown converter is named with its route and line."""
        directory = tempDir(self)
        app = appDirectory(directory, BAD_CONVERTER)
        self.startFails(["--app", app, "--port", "tcp:0:interface=127.0.0.1"],
                  "line 4 failed: RouteError: Unknown converter 'colour'", directory)

    def test_unreachableDatabase(self):
        """A database that cannot be opened is named."""
        self.startFails(["--db", "sqlite:///no/such/directory/app.sqlite3",
                   "--port", "tcp:0:interface=127.0.0.1"],
                  "web-app cannot start: Cannot connect to database "
                  "sqlite:///no/such/directory/app.sqlite3")


class TwistTests(FailureMixin, SynchronousTestCase):
    """
    C{twist web-app} exits non-zero after a start-up failure instead of
    running on, listening on nothing.
    """

    command = [TWIST, "web-app"]

    def test_portInUse(self):
        """A port in use ends twist with the sentence."""
        self.checkPortInUse()

    def test_controllerImportError(self):
        """A broken controller ends twist, after the database pool had started."""
        self.checkBrokenImport()


class TwistdDaemonTests(FailureMixin, SynchronousTestCase):
    """
    Daemonized C{twistd web-app}: the shell that started it is shown the
    whole reason, however long, and no pidfile is left.
    """

    command = [TWISTD, "--pidfile", "web.pid", "--logfile", "web.log", "web-app"]

    def test_longReasonInFull(self):
        """A reason longer than twistd's 100-byte status pipe arrives whole."""
        directory, reason, output = self.checkBrokenImport("an-app-directory-" + "x" * 60)
        self.assertGreater(len(reason), 200)
        self.assertIn(reason + "\n", output)
        self.assertFalse(os.path.exists(os.path.join(directory, "web.pid")))
        with open(os.path.join(directory, "web.log")) as f:
            self.assertIn(reason, f.read())

    def test_portInUse(self):
        """A port in use is reported to the shell, and no pidfile is left."""
        directory = self.checkPortInUse()
        self.assertFalse(os.path.exists(os.path.join(directory, "web.pid")))
