"""
Tests for journal writes that fail (a full disk, an I/O error): nothing is
acknowledged, the file keeps no torn record, the changes are undone, INFO
says so, and writes succeed again once the disk does.
"""

import errno
import os

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver import journal as journalModule
from services.sessionserver.admin import infoText
from services.sessionserver.commands import Server
from services.sessionserver.journal import Journal, JournalWriteError
from services.sessionserver.protocol import RedisFactory
from services.sessionserver.store import Store
from tests.support import captureLog, tempDir

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FailingDisk:
    """
    Stands in for the journal's C{_writeAll}: while C{full}, writes half of
    what it is given, as a filling disk does, then fails with ENOSPC.
    """

    def __init__(self, realWrite):
        self.realWrite = realWrite
        self.full = False

    def __call__(self, fd, data):
        if not self.full:
            return self.realWrite(fd, data)
        self.realWrite(fd, data[:len(data) // 2])
        raise ENOSPC


class FailureTestCase(SynchronousTestCase):
    """
    A journaled store whose disk can fill up.
    """

    fsync = "always"

    def setUp(self):
        self.path = os.path.join(tempDir(self), "journal.aof")
        self.clock = Clock()
        self.clock.advance(1000)
        self.disk = FailingDisk(journalModule._writeAll)
        self.patch(journalModule, "_writeAll", self.disk)
        self.events = captureLog(self)
        self.store = Store(self.clock)
        self.journal = Journal(self.path, self.fsync, self.clock)
        self.journal.load(self.store)
        self.addCleanup(self.journal.close)

    def change(self, keys, function, *args):
        self.journal.beforeChange(keys)
        function(*args)

    def contents(self):
        with open(self.path, "rb") as f:
            return f.read()

    def reopen(self):
        self.journal.close()
        store = Store(self.clock)
        Journal(self.path, "no", self.clock).load(store)
        return store


class JournalFailureTests(FailureTestCase):
    """
    L{Journal.commit} when the disk fails.
    """

    def test_failedWriteUndone(self):
        """A failed commit raises, cuts the file back and restores the changed keys."""
        self.change([b"a"], self.store.set, b"a", b"1")
        self.journal.commit()
        size = os.path.getsize(self.path)
        self.disk.full = True
        self.change([b"a"], self.store.set, b"a", b"2", 9000000)
        self.change([b"b"], self.store.set, b"b", b"new")
        self.change([b"a"], self.store.delete, b"a")
        error = self.assertRaises(JournalWriteError, self.journal.commit)
        self.assertEqual(error.strerror, "No space left on device")
        self.assertEqual(os.path.getsize(self.path), size)
        self.assertEqual(sorted(self.store.items()), [(b"a", b"1", None)])
        self.assertEqual(self.journal.size, size)

    def test_statusUntilSuccess(self):
        """aof_last_write_status is err from a failed write until one succeeds."""
        self.assertEqual(self.journal.info()["aof_last_write_status"], "ok")
        self.disk.full = True
        self.change([b"a"], self.store.set, b"a", b"1")
        self.assertRaises(JournalWriteError, self.journal.commit)
        self.assertEqual(self.journal.info()["aof_last_write_status"], "err")
        self.disk.full = False
        self.change([b"b"], self.store.set, b"b", b"2")
        self.journal.commit()
        self.assertEqual(self.journal.info()["aof_last_write_status"], "ok")
        self.assertEqual(sorted(self.reopen().keys()), [b"b"])

    def test_failureLogged(self):
        """A failed write is logged with the operating system's reason."""
        self.disk.full = True
        self.change([b"a"], self.store.set, b"a", b"1")
        self.assertRaises(JournalWriteError, self.journal.commit)
        logged = [e for e in self.events if e.get("error") == "No space left on device"]
        self.assertEqual(len(logged), 1)

    def test_flushUndone(self):
        """A failed FLUSHALL puts every key back, with its expiry."""
        self.change([b"a"], self.store.set, b"a", b"1", 9000000)
        self.change([b"b"], self.store.set, b"b", b"2")
        self.journal.commit()
        self.disk.full = True
        self.change(None, self.store.flush)
        self.assertRaises(JournalWriteError, self.journal.commit)
        self.assertEqual(sorted(self.store.items()),
                         [(b"a", b"1", 9000000), (b"b", b"2", None)])

    def test_writesAfterSpaceReturns(self):
        """Writes made after space returns survive a reload, none of the failed ones does."""
        self.disk.full = True
        for i in range(5):
            self.change([b"lost%d" % i], self.store.set, b"lost%d" % i, b"x")
            self.assertRaises(JournalWriteError, self.journal.commit)
        self.disk.full = False
        for i in range(100):
            self.change([b"k%d" % i], self.store.set, b"k%d" % i, b"v")
            self.journal.commit()
        self.assertEqual(len(self.reopen()), 100)

    def test_fsyncFailureUndone(self):
        """Under always, a failed fsync after a good write is a failed commit too."""
        def failingFsync(fd):
            raise OSError(errno.EIO, os.strerror(errno.EIO))

        size = os.path.getsize(self.path)
        self.patch(journalModule.os, "fsync", failingFsync)
        self.change([b"a"], self.store.set, b"a", b"1")
        error = self.assertRaises(JournalWriteError, self.journal.commit)
        self.assertEqual(error.strerror, os.strerror(errno.EIO))
        self.assertEqual(os.path.getsize(self.path), size)
        self.assertEqual(len(self.store), 0)

    def test_truncateRetried(self):
        """When cutting a failed write back fails too, the next commit cuts it first."""
        realTruncate = os.ftruncate
        failures = [OSError(errno.EIO, "I/O error")]

        def flakyTruncate(fd, size):
            if failures:
                raise failures.pop()
            realTruncate(fd, size)

        self.patch(journalModule.os, "ftruncate", flakyTruncate)
        self.disk.full = True
        self.change([b"a"], self.store.set, b"a", b"1")
        self.assertRaises(JournalWriteError, self.journal.commit)
        self.assertGreater(os.path.getsize(self.path), self.journal.size)
        self.disk.full = False
        self.change([b"b"], self.store.set, b"b", b"2")
        self.journal.commit()
        self.assertEqual(os.path.getsize(self.path), self.journal.size)
        self.assertEqual(sorted(self.reopen().keys()), [b"b"])


class BackgroundFailureTests(FailureTestCase):
    """
    Failures outside a client's commit: a rewrite, and fsync under everysec.
    """

    fsync = "everysec"

    def test_rewriteFailureKeepsFile(self):
        """A rewrite that cannot write gives up, keeps the current file and logs why."""
        self.change([b"a"], self.store.set, b"a", b"1")
        self.journal.commit()
        before = self.contents()
        self.disk.full = True
        done = self.journal.compact()
        self.clock.advance(0)
        self.assertIsNone(self.successResultOf(done))
        self.assertEqual(self.journal.info()["aof_rewrite_in_progress"], 0)
        self.assertFalse(os.path.exists(self.path + ".rewrite"))
        self.assertEqual(self.contents(), before)
        self.assertTrue([e for e in self.events if "rewriting failed" in e.get("log_format", "")])

    def test_syncFailureReported(self):
        """A failed fsync under everysec is logged and turns the status to err."""
        def failingFsync(fd):
            raise OSError(errno.EIO, os.strerror(errno.EIO))

        self.change([b"a"], self.store.set, b"a", b"1")
        self.journal.commit()
        self.patch(journalModule.os, "fsync", failingFsync)
        self.journal.sync()
        self.assertEqual(self.journal.info()["aof_last_write_status"], "err")
        self.assertTrue([e for e in self.events if "fsync failed" in e.get("log_format", "")])


class ProtocolFailureTests(FailureTestCase):
    """
    What clients see when the journal cannot be written.
    """

    def setUp(self):
        FailureTestCase.setUp(self)
        self.server = Server(self.store)
        self.server.journal = self.journal
        self.factory = RedisFactory(self.server)

    def connect(self):
        protocol = self.factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport

    def send(self, connection, data):
        protocol, transport = connection
        protocol.dataReceived(data)
        value = transport.value()
        transport.clear()
        return value

    def test_misconf(self):
        """A write that cannot be journaled gets Redis's MISCONF error and is undone."""
        client = self.connect()
        self.assertEqual(self.send(client, b"SET a 1\r\n"), b"+OK\r\n")
        self.disk.full = True
        self.assertEqual(
            self.send(client, b"SET a 2\r\n"),
            b"-MISCONF Errors writing to the AOF file: No space left on device\r\n")
        self.assertEqual(self.send(client, b"GET a\r\n"), b"$1\r\n1\r\n")
        self.assertFalse(client[1].disconnecting)

    def test_infoErrUntilWriteSucceeds(self):
        """INFO persistence says err after a failed write and ok after a good one."""
        client = self.connect()
        self.disk.full = True
        self.send(client, b"SET a 1\r\n")
        self.assertIn("aof_last_write_status:err", infoText(self.server, ["persistence"]))
        self.disk.full = False
        self.assertEqual(self.send(client, b"SET a 1\r\n"), b"+OK\r\n")
        self.assertIn("aof_last_write_status:ok", infoText(self.server, ["persistence"]))

    def test_onlyChangesRefused(self):
        """In a failed batch, commands that changed nothing keep their replies."""
        client = self.connect()
        self.send(client, b"SET a 1\r\n")
        self.disk.full = True
        replies = self.send(client, b"PING\r\nMSET a 2 b 2\r\nECHO x\r\nDEL missing\r\n")
        self.assertEqual(
            replies,
            b"+PONG\r\n-MISCONF Errors writing to the AOF file: No space left on device\r\n"
            b"$1\r\nx\r\n:0\r\n")
        self.assertEqual(sorted(self.store.items()), [(b"a", b"1", None)])

    def test_transactionUndone(self):
        """A transaction whose writes cannot be journaled is refused and undone whole."""
        client = self.connect()
        self.send(client, b"SET a 1\r\n")
        self.disk.full = True
        self.send(client, b"MULTI\r\nSET a 2\r\nDEL a\r\nSET b 3\r\n")
        self.assertEqual(
            self.send(client, b"EXEC\r\n"),
            b"-MISCONF Errors writing to the AOF file: No space left on device\r\n")
        self.assertEqual(sorted(self.store.items()), [(b"a", b"1", None)])

    def test_otherClientsRead(self):
        """While writes fail, other clients read and ping as usual."""
        writer, reader = self.connect(), self.connect()
        self.send(writer, b"SET a 1\r\n")
        self.disk.full = True
        self.send(writer, b"SET a 2\r\n")
        self.assertEqual(self.send(reader, b"GET a\r\nPING\r\n"), b"$1\r\n1\r\n+PONG\r\n")

    def test_flushallUndone(self):
        """FLUSHALL that cannot be journaled keeps every key."""
        client = self.connect()
        self.send(client, b"SET a 1\r\nSET b 2\r\n")
        self.disk.full = True
        self.assertIn(b"MISCONF", self.send(client, b"FLUSHALL\r\n"))
        self.assertEqual(len(self.store), 2)
