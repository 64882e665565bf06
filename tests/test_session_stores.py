"""
Tests for the session stores (one contract, run against every store) and
for the RESP client under the Redis store.
"""

import os
import secrets
import subprocess

from twisted.internet import defer, task
from twisted.internet.error import ConnectionLost
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from appserver.sessions.interfaces import ISessionStore
from appserver.sessions.resp import (
    ProtocolError, RedisAddress, RedisClient, RedisError, RedisProtocol, ReplyParser,
    encodeCommand, parseRedisURL,
)
from appserver.sessions.signing import newSessionId
from appserver.sessions.stores import (
    FileSessionStore, MemorySessionStore, RedisSessionStore, checkStoreSpec, storeFromSpec,
)
from services.sessionserver.store import Store
from tests.support import freePort, requireService, stopProcess, tempDir, waitForPort

REDIS_SERVER = "/usr/bin/redis-server"


class StoreContractMixin:
    """
    The behaviour every L{ISessionStore} must have. A test case provides
    C{self.store} (opened) and C{advance(seconds)}, which lets that much time
    pass and may return a Deferred.
    """

    @defer.inlineCallbacks
    def test_interface(self):
        """The store provides ISessionStore."""
        self.assertTrue(verifyObject(ISessionStore, self.store))
        yield None

    @defer.inlineCallbacks
    def test_missing(self):
        """Loading an unknown id gives None."""
        self.assertIsNone((yield self.store.load(newSessionId(), 10)))

    @defer.inlineCallbacks
    def test_saveLoad(self):
        """A saved record loads back byte for byte."""
        sessionId, record = newSessionId(), bytes(range(256)) * 4
        yield self.store.save(sessionId, record, 10)
        self.assertEqual((yield self.store.load(sessionId, 10)), record)

    @defer.inlineCallbacks
    def test_replace(self):
        """Saving again replaces the record."""
        sessionId = newSessionId()
        yield self.store.save(sessionId, b"one", 10)
        yield self.store.save(sessionId, b"two", 10)
        self.assertEqual((yield self.store.load(sessionId, 10)), b"two")

    @defer.inlineCallbacks
    def test_independent(self):
        """Records of different ids do not mix."""
        first, second = newSessionId(), newSessionId()
        yield self.store.save(first, b"1", 10)
        yield self.store.save(second, b"2", 10)
        self.assertEqual((yield self.store.load(first, 10)), b"1")
        self.assertEqual((yield self.store.load(second, 10)), b"2")

    @defer.inlineCallbacks
    def test_delete(self):
        """A deleted record is gone, and deleting nothing is no error."""
        sessionId = newSessionId()
        yield self.store.save(sessionId, b"x", 10)
        yield self.store.delete(sessionId)
        self.assertIsNone((yield self.store.load(sessionId, 10)))
        yield self.store.delete(sessionId)

    @defer.inlineCallbacks
    def test_expires(self):
        """A record is gone once its timeout has passed."""
        sessionId = newSessionId()
        yield self.store.save(sessionId, b"x", 0.3)
        yield self.advance(0.6)
        self.assertIsNone((yield self.store.load(sessionId, 10)))

    @defer.inlineCallbacks
    def test_loadRefreshesExpiry(self):
        """Loading pushes the expiry to the given timeout from now."""
        sessionId = newSessionId()
        yield self.store.save(sessionId, b"x", 0.5)
        yield self.advance(0.3)
        self.assertEqual((yield self.store.load(sessionId, 0.5)), b"x")
        yield self.advance(0.3)
        self.assertEqual((yield self.store.load(sessionId, 0.5)), b"x")
        yield self.advance(0.8)
        self.assertIsNone((yield self.store.load(sessionId, 0.5)))

    @defer.inlineCallbacks
    def test_invalidIds(self):
        """Anything but a session id is refused with ValueError."""
        for bad in ["../../etc/passwd", "", "A" * 32, "a" * 31 + "/"]:
            self.assertRaises(ValueError, self.store.load, bad, 10)
            self.assertRaises(ValueError, self.store.save, bad, b"x", 10)
            self.assertRaises(ValueError, self.store.delete, bad)
        yield None


class ClockStoreMixin(StoreContractMixin):
    """
    Stores whose time is a L{task.Clock}.
    """

    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(1_700_000_000)
        self.store = self.makeStore()
        self.store.open()
        self.addCleanup(self.store.close)

    def advance(self, seconds):
        self.clock.advance(seconds)


class MemoryStoreTests(ClockStoreMixin, TestCase):
    def makeStore(self):
        return MemorySessionStore(Store(clock=self.clock))

    def test_sweeps(self):
        """While open, expired sessions are removed even if never loaded."""
        self.store.save(newSessionId(), b"x", 2)
        self.assertEqual(len(self.store.store), 1)
        self.clock.advance(3)
        self.assertEqual(len(self.store.store), 0)

    def test_keys(self):
        """Keys are the id under the shared prefix, as the Redis store writes them."""
        sessionId = newSessionId()
        self.store.save(sessionId, b"x", 2)
        self.assertEqual(self.store.store.get(b"session:" + sessionId.encode()), b"x")

    def test_pickles(self):
        """The sessions pickle with the store."""
        import pickle

        sessionId = newSessionId()
        self.store.save(sessionId, b"x", 2000)
        restored = pickle.loads(pickle.dumps(self.store))
        restored.store.clock = self.clock
        self.assertEqual(self.successResultOf(restored.load(sessionId, 10)), b"x")


class FileStoreTests(ClockStoreMixin, TestCase):
    def makeStore(self):
        self.directory = os.path.join(tempDir(self), "sessions")
        return FileSessionStore(self.directory, clock=self.clock, sweepInterval=5)

    def test_directory(self):
        """Opening makes the directory, private to its owner."""
        self.assertEqual(os.stat(self.directory).st_mode & 0o777, 0o700)

    def test_fileNames(self):
        """Each session is one file named by its id, and no temporary file stays."""
        sessionId = newSessionId()
        self.store.save(sessionId, b"x", 10)
        self.assertEqual(os.listdir(self.directory), [sessionId])

    def test_sweeps(self):
        """The periodic sweep deletes expired files, and only those."""
        old, fresh = newSessionId(), newSessionId()
        self.store.save(old, b"x", 1)
        self.store.save(fresh, b"x", 100)
        self.clock.advance(5)
        self.assertEqual(os.listdir(self.directory), [fresh])

    def test_staleTemporary(self):
        """Temporary files of writers that died are swept once an hour old."""
        path = os.path.join(self.directory, ".tmp-dead")
        open(path, "wb").close()
        self.store._clock = task.Clock()
        self.store._clock.advance(os.stat(path).st_ctime + 3601)
        self.assertEqual(self.store.sweep(), 1)
        self.assertEqual(os.listdir(self.directory), [])

    def test_openFails(self):
        """A directory that cannot be made is an error at open."""
        blocker = os.path.join(tempDir(self), "file")
        open(blocker, "wb").close()
        self.assertRaises(OSError, FileSessionStore(os.path.join(blocker, "x")).open)


def startRedisServer(testCase, *extra):
    """
    Start a private redis-server on a free port, stopped when the test
    ends; return the port.
    """
    if not os.path.exists(REDIS_SERVER):
        requireService("redis-server binary", "127.0.0.1", 0)
    port = freePort()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )
    testCase.addCleanup(stopProcess, process)
    waitForPort(port, process=process)
    return port


class RealTimeStoreMixin(StoreContractMixin):
    """
    Stores behind a real server: time passes for real, and keys live under a
    prefix unique to the test, removed afterwards.
    """

    url = None

    def setUp(self):
        from twisted.internet import reactor

        self.prefix = b"appserver-test:" + secrets.token_hex(8).encode() + b":"
        self.client = RedisClient(self.serverURL(), reactor=reactor)
        self.store = RedisSessionStore(self.client, prefix=self.prefix)
        self.store.open()
        self.addCleanup(self.store.close)
        self.addCleanup(self.removeKeys)

    @defer.inlineCallbacks
    def removeKeys(self):
        keys = yield self.client.execute(b"KEYS", self.prefix + b"*")
        if keys:
            yield self.client.execute(b"DEL", *keys)

    def advance(self, seconds):
        from twisted.internet import reactor

        return task.deferLater(reactor, seconds, lambda: None)


class RedisServerStoreTests(RealTimeStoreMixin, TestCase):
    """
    The contract against a redis-server of our own.
    """

    def serverURL(self):
        return f"redis://127.0.0.1:{startRedisServer(self)}/0"


class LocalRedisStoreTests(RealTimeStoreMixin, TestCase):
    """
    The contract against the machine's Redis at 127.0.0.1:6379, database 0.
    """

    def serverURL(self):
        requireService("Redis", "127.0.0.1", 6379)
        return "redis://127.0.0.1:6379/0"
