"""
Tests for L{services.sessionserver.albatross}: Albatross's session protocol
over the session server's store, in memory.
"""

import errno
import os

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver.albatross import (
    MAX_AGE, MAX_SESSION_BYTES, AlbatrossFactory, sessionKey)
from services.sessionserver import journal as journalModule
from services.sessionserver.commands import Server
from services.sessionserver.journal import Journal
from services.sessionserver.store import Hash, Set, Store
from tests.support import captureLog, tempDir
from tests.test_journal_failures import FailingDisk


class AlbatrossConnection:
    """
    An Albatross connection over a L{StringTransport} to C{server}.
    """

    def connect(self, server):
        self.protocol = AlbatrossFactory(server).buildProtocol(None)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)

    def send(self, *lines):
        for line in lines:
            self.protocol.dataReceived(line + b"\r\n")
        value = self.transport.value()
        self.transport.clear()
        return value


class AlbatrossTests(AlbatrossConnection, SynchronousTestCase):
    """
    new, put, get, del and quit.
    """

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1000)
        self.store = Store(self.clock)
        self.connect(Server(self.store))

    def new(self, age=b"60"):
        reply = self.send(b"new app " + age)
        self.assertTrue(reply.startswith(b"OK "))
        return reply[3:].strip()

    def test_new(self):
        """new answers a fresh 128-bit hex id."""
        first, second = self.new(), self.new()
        self.assertEqual(len(first), 32)
        int(first, 16)
        self.assertNotEqual(first, second)
        self.assertIn(sessionKey(b"app", first), self.store)

    def test_putGet(self):
        """Data put is got back line by line, ending with a blank line."""
        sessionId = self.new()
        self.assertEqual(self.send(b"put app " + sessionId),
                         b"OK - send data now, terminate with blank line\r\n")
        self.assertEqual(self.send(b"line one", b"line two", b""), b"OK\r\n")
        self.assertEqual(self.send(b"get app " + sessionId),
                         b"OK - session follows\r\nline one\r\nline two\r\n\r\n")

    def test_getEmpty(self):
        """A new session has no data."""
        sessionId = self.new()
        self.assertEqual(self.send(b"get app " + sessionId), b"OK - session follows\r\n\r\n")

    def test_idleExpiry(self):
        """A session expires after age seconds without use; use restarts the age."""
        sessionId = self.new(b"10")
        self.clock.advance(9)
        self.send(b"get app " + sessionId)
        self.clock.advance(9)
        self.assertTrue(self.send(b"get app " + sessionId).startswith(b"OK"))
        self.clock.advance(10)
        self.assertEqual(self.send(b"get app " + sessionId), b"ERROR no such session\r\n")

    def test_appsSeparate(self):
        """An id is only valid within its application."""
        sessionId = self.new()
        self.assertEqual(self.send(b"get other " + sessionId), b"ERROR no such session\r\n")

    def test_del(self):
        """del removes the session."""
        sessionId = self.new()
        self.assertEqual(self.send(b"del app " + sessionId), b"OK\r\n")
        self.assertEqual(self.send(b"get app " + sessionId), b"ERROR no such session\r\n")

    def test_putUnknown(self):
        """put to an unknown session is refused before any data."""
        self.assertEqual(self.send(b"put app nope"), b"ERROR no such session\r\n")

    def test_errors(self):
        """Unknown commands, wrong argument counts and bad ages are errors."""
        self.assertEqual(self.send(b"bogus"), b"ERROR unknown command\r\n")
        self.assertEqual(self.send(b"get app"), b"ERROR wrong number of arguments\r\n")
        self.assertEqual(self.send(b"new app -5"),
                         b"ERROR age must be a positive number of seconds up to %d\r\n" % MAX_AGE)
        self.assertEqual(self.send(b""), b"")

    def test_tooLarge(self):
        """Session data over the limit is refused and the connection closed."""
        sessionId = self.new()
        self.send(b"put app " + sessionId)
        line = b"x" * 10000
        reply = self.send(*[line] * (MAX_SESSION_BYTES // len(line) + 1))
        self.assertEqual(reply, b"ERROR session too large\r\n")
        self.assertTrue(self.transport.disconnecting)

    def test_quit(self):
        """quit closes the connection."""
        self.send(b"quit")
        self.assertTrue(self.transport.disconnecting)

    def test_bareLF(self):
        """Lines ending in a bare LF are accepted."""
        self.protocol.dataReceived(b"new app 5\n")
        self.assertTrue(self.transport.value().startswith(b"OK "))


class AlbatrossLimitTests(AlbatrossConnection, SynchronousTestCase):
    """
    What an unauthenticated Albatross client may not do: evict others' keys
    under --maxmemory, or give ages that overflow expiry times.
    """

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1000)
        self.store = Store(self.clock, maxmemory=100_000, policy="volatile-lru")
        self.server = Server(self.store, b"secret")
        self.connect(self.server)

    def fillWithSessions(self):
        """
        Fill half the memory with RESP sessions, as an authenticated client
        would; return their keys.
        """
        keys = [b"session:%d" % i for i in range(150)]
        for key in keys:
            self.store.set(key, b"x" * 100, self.store.now() + 3_600_000)
        return keys

    def test_newNeverEvicts(self):
        """Once memory is full, new answers ERROR and every RESP session stays."""
        keys = self.fillWithSessions()
        replies = [self.send(b"new app 600") for i in range(3000)]
        self.assertEqual(replies[-1], b"ERROR out of memory\r\n")
        self.assertTrue(replies[0].startswith(b"OK "))
        self.assertEqual([key for key in keys if key not in self.store], [])
        self.assertEqual(self.store.evictedKeys, 0)

    def test_putNeverEvicts(self):
        """A put that would need eviction answers ERROR and changes nothing."""
        reply = self.send(b"new app 600")
        sessionId = reply[3:].strip()
        keys = self.fillWithSessions()
        self.send(b"put app " + sessionId)
        for i in range(100):
            self.protocol.dataReceived(b"y" * 1000 + b"\r\n")
        self.assertEqual(self.send(b""), b"ERROR out of memory\r\n")
        self.assertEqual(self.send(b"get app " + sessionId), b"OK - session follows\r\n\r\n")
        self.assertEqual([key for key in keys if key not in self.store], [])

    def test_hugeAge(self):
        """Ages past MAX_AGE, however many digits, are refused and store nothing."""
        for age in (b"9" * 29, b"9" * 4299, b"%d" % (MAX_AGE + 1)):
            self.assertEqual(
                self.send(b"new app " + age),
                b"ERROR age must be a positive number of seconds up to %d\r\n" % MAX_AGE)
        self.assertFalse(self.transport.disconnecting)
        self.assertEqual(len(self.store), 0)
        self.assertTrue(self.send(b"new app %d" % MAX_AGE).startswith(b"OK "))

    def test_notASession(self):
        """A key under albatross: whose value was not written as a session is no session."""
        self.store.set(sessionKey(b"app", b"x"), b"not an age\nline")
        self.assertEqual(self.send(b"get app x"), b"ERROR no such session\r\n")
        self.assertEqual(self.send(b"put app x"), b"ERROR no such session\r\n")
        self.assertFalse(self.transport.disconnecting)

    def test_hashOrSet(self):
        """A hash or a set under albatross: is no session, and the connection goes on."""
        self.store.addItems(sessionKey(b"app", b"h"), Hash, [(b"600", b"line")])
        self.store.addItems(sessionKey(b"app", b"s"), Set, [(b"600", None)])
        for sessionId in (b"h", b"s"):
            self.assertEqual(self.send(b"get app " + sessionId), b"ERROR no such session\r\n")
            self.assertEqual(self.send(b"put app " + sessionId), b"ERROR no such session\r\n")
        self.assertFalse(self.transport.disconnecting)


class AlbatrossJournalFailureTests(AlbatrossConnection, SynchronousTestCase):
    """
    Albatross writes when the journal cannot be written: not acknowledged,
    undone, and the connection carries on.
    """

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1000)
        self.disk = FailingDisk(journalModule._writeAll)
        self.patch(journalModule, "_writeAll", self.disk)
        captureLog(self)
        self.path = os.path.join(tempDir(self), "journal.aof")
        self.store = Store(self.clock)
        self.journal = Journal(self.path, "always", self.clock)
        self.journal.load(self.store)
        self.addCleanup(self.journal.close)
        server = Server(self.store)
        server.journal = self.journal
        self.connect(server)

    def test_failedWritesRefused(self):
        """new, put, get and del that cannot be journaled answer ERROR and change nothing."""
        sessionId = self.send(b"new app 60")[3:].strip()
        self.send(b"put app " + sessionId, b"kept", b"")
        before = list(self.store.items())
        self.disk.full = True
        refused = b"ERROR cannot write the journal: " + os.strerror(errno.ENOSPC).encode() \
            + b"\r\n"
        self.assertEqual(self.send(b"new app 60"), refused)
        self.send(b"put app " + sessionId)
        self.assertEqual(self.send(b"changed", b""), refused)
        self.clock.advance(10)
        self.assertEqual(self.send(b"get app " + sessionId), refused)
        self.assertEqual(self.send(b"del app " + sessionId), refused)
        self.assertEqual(list(self.store.items()), before)
        self.assertFalse(self.transport.disconnecting)
        self.disk.full = False
        self.assertEqual(self.send(b"get app " + sessionId),
                         b"OK - session follows\r\nkept\r\n\r\n")
        self.journal.close()
        restored = Store(self.clock)
        Journal(self.path, "no", self.clock).load(restored)
        self.assertEqual(list(restored.items()), list(self.store.items()))
