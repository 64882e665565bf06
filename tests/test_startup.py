"""
Tests for L{appserver.errors}: the root service that turns a failed start
into one sentence and stops what had started, and the commands whose root
it is, in memory.
"""

import os

from twisted.application import service
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from appserver.errors import CommandService, _LaunchStream, startupReason
from appserver.tap import sessionserver
from qotd import tap as qotdtap
from qotd.quoters import StaticQuoter
from services.db import DatabaseUnavailable
from services.errors import StartupError
from services.ports import ListeningService
from services.sessionserver.service import SessionServerService
from tests.support import assertPersists, captureLog, parseOptions, tempDir


class Child(service.Service):
    """
    A child service that fails to start with C{error} (in
    C{privilegedStartService} when C{privileged}) and records its stops.
    """

    def __init__(self, error=None, privileged=False):
        self.error = error
        self.privileged = privileged
        self.stops = 0

    def privilegedStartService(self):
        service.Service.privilegedStartService(self)
        if self.privileged and self.error is not None:
            raise self.error

    def startService(self):
        service.Service.startService(self)
        if self.error is not None:
            raise self.error

    def stopService(self):
        self.stops += 1
        return service.Service.stopService(self)


def tree(*children):
    root = CommandService()
    root.setName("web-app")
    for index, child in enumerate(children):
        child.setName(f"child{index}")
        child.setServiceParent(root)
    return root


class StartupErrorTests(SynchronousTestCase):
    """
    L{StartupError} ends the interpreter with its message, after twistd's
    C{except Exception} has seen it.
    """

    def test_exitsWithItsMessage(self):
        """It is both an Exception and a SystemExit whose code is the sentence."""
        error = StartupError("Address already in use: cannot listen on tcp:8080")
        self.assertIsInstance(error, Exception)
        self.assertIsInstance(error, SystemExit)
        self.assertEqual(error.code, "Address already in use: cannot listen on tcp:8080")
        self.assertEqual(str(error), error.code)

    def test_reasonOfWordedError(self):
        """An error worded for the operator gives its message alone, on one line."""
        self.assertEqual(startupReason(DatabaseUnavailable("Cannot connect\n  to x")),
                         "Cannot connect to x")

    def test_reasonOfOtherError(self):
        """Any other error is named by its type too."""
        self.assertEqual(startupReason(KeyError("port")), "KeyError: 'port'")
        self.assertEqual(startupReason(RuntimeError()), "RuntimeError")


class CommandServiceTests(SynchronousTestCase):
    """
    L{CommandService} reports a failed start once and leaves nothing running.
    """

    def test_failedStartStopsStarted(self):
        """A child failing to start stops those already running, then the sentence."""
        first = Child()
        failing = Child(StartupError("Address already in use: cannot listen on tcp:8080"))
        last = Child()
        root = tree(first, failing, last)
        error = self.assertRaises(StartupError, root.startService)
        self.assertEqual(str(error), "web-app cannot start: Address already in use: "
                                     "cannot listen on tcp:8080")
        self.assertEqual((first.running, failing.running, last.running), (0, 0, 0))
        self.assertEqual((first.stops, failing.stops, last.stops), (1, 1, 0))
        self.assertFalse(root.running)

    def test_wordedErrorBecomesSentence(self):
        """A service-layer error worded for the operator keeps its message alone."""
        root = tree(Child(DatabaseUnavailable("Cannot connect to database sqlite:///x")))
        error = self.assertRaises(StartupError, root.startService)
        self.assertEqual(str(error), "web-app cannot start: Cannot connect to database "
                                     "sqlite:///x")

    def test_unexpectedErrorLoggedAtDebug(self):
        """An unexpected error is named by type; its traceback goes to the log at debug."""
        events = captureLog(self)
        root = tree(Child(ZeroDivisionError("division by zero")))
        error = self.assertRaises(StartupError, root.startService)
        self.assertEqual(str(error), "web-app cannot start: ZeroDivisionError: "
                                     "division by zero")
        logged = [e for e in events if "log_failure" in e]
        self.assertEqual([e["log_level"].name for e in logged], ["debug"])
        self.flushLoggedErrors(ZeroDivisionError)

    def test_privilegedFailure(self):
        """A failure while binding before the privilege drop is the sentence too."""
        root = tree(Child(StartupError("Permission denied: cannot listen on tcp:80"),
                          privileged=True))
        error = self.assertRaises(StartupError, root.privilegedStartService)
        self.assertEqual(str(error), "web-app cannot start: Permission denied: "
                                     "cannot listen on tcp:80")

    def test_startsAndStops(self):
        """Without failures it is a plain MultiService."""
        first, second = Child(), Child()
        root = tree(first, second)
        root.privilegedStartService()
        root.startService()
        self.assertEqual((first.running, second.running), (1, 1))
        root.stopService()
        self.assertEqual((first.stops, second.stops), (1, 1))

    def test_persists(self):
        """It pickles and round-trips through AOT source, keeping its name."""
        root = CommandService()
        root.setName("web-app")
        assertPersists(self, root, lambda restored: self.assertEqual(restored.name, "web-app"))


class LaunchStreamTests(SynchronousTestCase):
    """
    L{_LaunchStream} writes the sentence to the launching standard error
    only once the process no longer writes there itself.
    """

    def test_writesWhenDetached(self):
        """Held on another file than descriptor 2 (a daemon's), the sentence is written."""
        read, write = os.pipe()
        self.addCleanup(os.close, read)
        stream = _LaunchStream()
        stream.fd = write
        self.assertTrue(stream.tell("web-app cannot start: " + "x" * 200))
        stream.release()
        self.assertEqual(os.read(read, 1000), b"web-app cannot start: " + b"x" * 200 + b"\n")
        self.assertIsNone(stream.fd)

    def test_heldUntilEveryHolderReleases(self):
        """Held by two roots (an application mktap --append made), it stays open
        until the start-up of both has ended."""
        stream = _LaunchStream()
        stream.hold()
        stream.hold()
        self.addCleanup(stream.release)
        stream.release()
        self.assertIsNotNone(stream.fd)
        stream.release()
        self.assertIsNone(stream.fd)

    def test_silentWhenAttached(self):
        """Held on descriptor 2's own file (not detached), nothing is written."""
        stream = _LaunchStream()
        stream.hold()
        self.addCleanup(stream.release)
        self.assertFalse(stream.tell("web-app cannot start: x"))


class CommandTreeTests(SynchronousTestCase):
    """
    C{twistd session-server} and C{twistd qotd} have a L{CommandService}
    root too, so that their failed starts are one sentence.
    """

    def sessionServer(self, *argv):
        """
        The tree of C{twistd session-server ARGV}, on a L{Clock}.
        """
        root = sessionserver.makeService(parseOptions(sessionserver.Options, argv))
        root.getServiceNamed("session-server")._reactor = Clock()
        return root

    def test_sessionServerRoot(self):
        """session-server's root holds the server, and persists."""
        root = self.sessionServer("--port", "tcp:7000")
        self.assertIsInstance(root, CommandService)
        self.assertEqual(root.name, "session-server")
        server = root.getServiceNamed("session-server")
        self.assertIsInstance(server, SessionServerService)
        self.assertEqual([child.description for child in server], ["tcp:7000"])
        assertPersists(self, root, lambda restored: self.assertIsInstance(
            restored.getServiceNamed("session-server"), SessionServerService))

    def test_corruptJournal(self):
        """A corrupt journal is the sentence naming the file, byte and repair command."""
        path = os.path.join(tempDir(self), "j.aof")
        with open(path, "wb") as f:
            f.write(b"garbage\r\n")
        error = self.assertRaises(StartupError, self.sessionServer("--journal", path).startService)
        self.assertEqual(str(error), (
            f"session-server cannot start: The journal {path} is corrupt at byte 0 (a record "
            "does not start with '*'), so it was left untouched and the server did not start: "
            f"run 'appserver-check-journal --fix {path}' to cut it there (a backup copy is "
            "kept), or put back a good copy."))

    def test_unusableJournal(self):
        """A journal that cannot be opened is the sentence naming it and the reason."""
        path = os.path.join(tempDir(self), "absent", "j.aof")
        error = self.assertRaises(StartupError, self.sessionServer("--journal", path).startService)
        self.assertEqual(str(error), "session-server cannot start: Cannot open the journal "
                                     f"{path}: No such file or directory.")

    def test_qotdRoot(self):
        """qotd's root listens on each port itself; web-app's QOTD child is no root."""
        root = qotdtap.makeService(parseOptions(qotdtap.Options, ["-p", "9001"]))
        self.assertIsInstance(root, CommandService)
        self.assertEqual(root.name, "qotd")
        self.assertEqual([type(child) for child in root], [ListeningService])
        child = qotdtap.makeQOTDService(StaticQuoter("Hi"), ["tcp:9001"])
        self.assertEqual(child.name, "qotd")
        self.assertNotIsInstance(child, CommandService)
