"""
Integration tests: a web-app, session-server or qotd that cannot start ends
twistd (foreground or daemonized, from the command line or from a .tap file
mktap saved) and twist with a non-zero code and one sentence, no traceback.
"""

import os
import socket

from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver.journalfile import HEADER, encodeRecord
from tests.support import BIN, MKTAP, TWISTD, eventually, run, tempDir

TWIST = os.path.join(BIN, "twist")
DEADLINE = 60
FOREGROUND = [TWISTD, "-n", "--pidfile="]
DAEMON = [TWISTD, "--pidfile", "server.pid", "--logfile", "server.log"]
ANY_PORT = "tcp:0:interface=127.0.0.1"

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


def readText(path):
    with open(path) as f:
        return f.read()


def loopback(port):
    return f"tcp:{port}:interface=127.0.0.1"


def corruptJournal(directory):
    """
    Write a journal of three records whose second has a changed byte into
    C{directory}, and return its path, its bytes and the changed record's
    offset.
    """
    records = [encodeRecord(b"SET", b"k%d" % i, b"v%d" % i) for i in range(3)]
    data = (HEADER + b"".join(records)).replace(b"v1", b"V1")
    path = os.path.join(directory, "j.aof")
    with open(path, "wb") as f:
        f.write(data)
    return path, data, len(HEADER) + len(records[0])


class FailureMixin:
    """
    Run a command that must fail at start-up and check its output.

    @cvar launcher: what runs the command (twistd in the foreground or
        daemonized, twist).
    @cvar name: the command.
    @cvar options: options every run of the command is given.
    """

    launcher = FOREGROUND
    name = "web-app"
    options = ()

    def assertOneSentence(self, code, output, *expected):
        """
        C{output} ends a failed run (C{code} not 0) with one sentence
        holding each of C{expected}: on one line, no traceback.

        @return: the sentence.
        """
        self.assertNotEqual(code, 0, output)
        lines = [line for line in output.splitlines() if "cannot start" in line]
        self.assertEqual(len(lines), 1, output)
        for part in expected:
            self.assertIn(part, lines[0])
        self.assertNotIn("Traceback", output)
        return lines[0]

    def commandLine(self, args, directory):
        """
        The command line that runs the command with C{args} in C{directory}.
        """
        return self.launcher + [self.name] + list(self.options) + list(args)

    def startFails(self, args, *expected, cwd=None):
        """
        Run the command with C{args} in C{cwd} (a new directory by default),
        check that it fails with one sentence holding each of C{expected},
        and return the directory and the sentence.
        """
        directory = cwd or tempDir(self)
        code, output = run(self.commandLine(args, directory), directory, timeout=DEADLINE)
        return directory, self.assertOneSentence(code, output, *expected)

    def checkPortInUse(self):
        """
        A port already in use is named; return the run's directory.
        """
        port = takenPort(self)
        directory, _ = self.startFails(
            ["--port", loopback(port)],
            f"{self.name} cannot start: Address already in use: cannot listen on "
            f"{loopback(port)}")
        return directory

    def checkCorruptJournal(self):
        """
        A session-server journal with a bad record in the middle is named
        with the byte and the repair command, and left untouched; return the
        directory and the sentence.
        """
        directory = tempDir(self)
        path, data, offset = corruptJournal(directory)
        _, sentence = self.startFails(
            ["--journal", path, "--port", ANY_PORT],
            f"session-server cannot start: The journal {path} is corrupt at byte {offset} ",
            f"run 'appserver-check-journal --fix {path}'", cwd=directory)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)
        return directory, sentence

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
        _, sentence = self.startFails(["--app", app, "--port", ANY_PORT], reason,
                                      cwd=directory)
        return directory, reason, sentence


class DaemonMixin(FailureMixin):
    """
    Daemonized C{twistd}: the shell that started it is shown the whole
    reason, however long, the log has it, and no pidfile is left.
    """

    launcher = DAEMON

    def assertPidfileRemoved(self, directory):
        """
        The daemon run in C{directory} removes its pidfile.
        """
        path = os.path.join(directory, "server.pid")
        self.assertTrue(eventually(lambda: not os.path.exists(path), DEADLINE),
                        f"{path} was left behind")

    def assertDaemonEnded(self, directory, reason):
        """
        The daemon run in C{directory} left no pidfile and logged C{reason}.
        """
        self.assertPidfileRemoved(directory)
        path = os.path.join(directory, "server.log")
        self.assertTrue(eventually(lambda: reason in readText(path), DEADLINE),
                        f"{reason!r} not in {readText(path)!r}")

    def checkPortInUse(self):
        """
        A port already in use is named, and no pidfile is left.
        """
        directory = FailureMixin.checkPortInUse(self)
        self.assertPidfileRemoved(directory)
        return directory


class SavedMixin(FailureMixin):
    """
    Run the command from the C{.tap} file C{mktap} saves with the same
    arguments.

    @cvar first: the C{mktap} arguments of a command saved first, to whose
        file the command is appended (C{mktap --append}), or L{None}.
    """

    first = None

    def commandLine(self, args, directory):
        path = f"{self.name}.tap"
        command = [self.name] + list(self.options) + list(args)
        if self.first:
            self.mktap(self.first, directory)
            path = f"{self.first[0]}.tap"
            command = ["--append", path] + command
        self.mktap(command, directory)
        return self.launcher + ["-f", path]

    def mktap(self, args, directory):
        """
        Run C{mktap ARGS} in C{directory}, which must succeed.
        """
        code, output = run([MKTAP] + list(args), directory)
        self.assertEqual(code, 0, output)


class TwistdForegroundTests(FailureMixin, SynchronousTestCase):
    """
    C{twistd -n web-app}: each start-up failure is one sentence.
    """

    options = ("--db", "sqlite://:memory:")

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
        self.startFails(["--app", app, "--port", ANY_PORT], "In Two:", cwd=directory)

    def test_badConverter(self):
        """An unknown converter is named with its route and line."""
        directory = tempDir(self)
        app = appDirectory(directory, BAD_CONVERTER)
        self.startFails(["--app", app, "--port", ANY_PORT],
                        "line 4 failed: RouteError: Unknown converter 'colour'", cwd=directory)

    def test_unreachableDatabase(self):
        """A database that cannot be opened is named."""
        self.startFails(["--db", "sqlite:///no/such/directory/app.sqlite3", "--port", ANY_PORT],
                        "web-app cannot start: Cannot connect to database "
                        "sqlite:///no/such/directory/app.sqlite3")


class TwistTests(FailureMixin, SynchronousTestCase):
    """
    C{twist web-app} exits non-zero after a start-up failure instead of
    running on, listening on nothing.
    """

    launcher = [TWIST]

    def test_portInUse(self):
        """A port in use ends twist with the sentence."""
        self.checkPortInUse()

    def test_controllerImportError(self):
        """A broken controller ends twist, after the database pool had started."""
        self.checkBrokenImport()


class TwistdDaemonTests(DaemonMixin, SynchronousTestCase):
    """
    Daemonized C{twistd web-app}: the shell that started it is shown the
    whole reason, however long, and no pidfile is left.
    """

    def test_longReasonInFull(self):
        """A reason longer than twistd's 100-byte status pipe arrives whole."""
        directory, reason, sentence = self.checkBrokenImport("an-app-directory-" + "x" * 60)
        self.assertGreater(len(reason), 200)
        self.assertEqual(sentence, reason)
        self.assertDaemonEnded(directory, reason)

    def test_portInUse(self):
        """A port in use is reported to the shell, and no pidfile is left."""
        self.checkPortInUse()


class SessionServerForegroundTests(FailureMixin, SynchronousTestCase):
    """
    C{twistd -n session-server}: each start-up failure is one sentence.
    """

    name = "session-server"

    def test_portInUse(self):
        """A port already in use is named, no traceback."""
        self.checkPortInUse()

    def test_corruptJournal(self):
        """A corrupt journal is named with its byte and the repair command."""
        self.checkCorruptJournal()

    def test_unusableJournal(self):
        """A journal path that cannot be opened is named with the reason."""
        directory = tempDir(self)
        path = os.path.join(directory, "a-file", "j.aof")
        open(os.path.join(directory, "a-file"), "w").close()
        self.startFails(["--journal", path, "--port", ANY_PORT],
                        f"session-server cannot start: Cannot open the journal {path}: "
                        "Not a directory.", cwd=directory)


class SessionServerTwistTests(FailureMixin, SynchronousTestCase):
    """
    C{twist session-server} ends with the sentence too.
    """

    launcher = [TWIST]
    name = "session-server"
    options = ("--journal", "j.aof")

    def test_portInUse(self):
        """A port in use ends twist, which had opened the journal, with the sentence."""
        self.checkPortInUse()


class SessionServerDaemonTests(DaemonMixin, SynchronousTestCase):
    """
    Daemonized C{twistd session-server}: the shell is shown the whole reason.
    """

    name = "session-server"

    def test_portInUse(self):
        """A port in use is reported to the shell, and no pidfile is left."""
        self.checkPortInUse()

    def test_corruptJournal(self):
        """The corrupt journal's sentence, past 100 bytes, arrives whole."""
        directory, sentence = self.checkCorruptJournal()
        self.assertGreater(len(sentence), 200)
        self.assertDaemonEnded(directory, sentence)


class SessionServerSavedTests(SavedMixin, SynchronousTestCase):
    """
    C{twistd -n -f session-server.tap}: the saved server fails the same way.
    """

    name = "session-server"

    def test_corruptJournal(self):
        """A corrupt journal is named with its byte and the repair command."""
        self.checkCorruptJournal()


class SessionServerSavedDaemonTests(SavedMixin, DaemonMixin, SynchronousTestCase):
    """
    Daemonized C{twistd -f session-server.tap}: the shell is shown the whole reason.
    """

    name = "session-server"

    def test_corruptJournal(self):
        """The corrupt journal's sentence arrives whole."""
        directory, sentence = self.checkCorruptJournal()
        self.assertDaemonEnded(directory, sentence)


class AppendedDaemonTests(SavedMixin, DaemonMixin, SynchronousTestCase):
    """
    Daemonized C{twistd -f} of a qotd with a session-server appended: the
    session-server's whole reason arrives although the qotd had started.
    """

    name = "session-server"
    first = ("qotd", "--port", ANY_PORT)

    def test_corruptJournal(self):
        """The corrupt journal's sentence arrives whole."""
        directory, sentence = self.checkCorruptJournal()
        self.assertDaemonEnded(directory, sentence)


class QOTDForegroundTests(FailureMixin, SynchronousTestCase):
    """
    C{twistd -n qotd}: a port in use is one sentence.
    """

    name = "qotd"

    def test_portInUse(self):
        """A port already in use is named, no traceback."""
        self.checkPortInUse()


class QOTDDaemonTests(DaemonMixin, SynchronousTestCase):
    """
    Daemonized C{twistd qotd}: the shell is shown the whole reason.
    """

    name = "qotd"

    def test_portInUse(self):
        """A port in use is reported to the shell, and no pidfile is left."""
        self.checkPortInUse()


class QOTDSavedDaemonTests(SavedMixin, DaemonMixin, SynchronousTestCase):
    """
    Daemonized C{twistd -f qotd.tap}: the saved server fails the same way.
    """

    name = "qotd"

    def test_portInUse(self):
        """A port in use is reported to the shell, and no pidfile is left."""
        self.checkPortInUse()
