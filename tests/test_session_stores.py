"""
Tests for the session stores (one contract, run against every store) and
for the RESP client under the Redis store.
"""

import os
import secrets
import socket
import subprocess
import time

from twisted.internet import defer, task
from twisted.internet.error import ConnectionLost
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from appserver.sessions.interfaces import ISessionStore
from appserver.sessions.service import makeSessionsService
from appserver.sessions.resp import (
    RedisAddress, RedisClient, RedisError, RedisProtocol, parseRedisURL,
)
from appserver.sessions.signing import newSessionId
from appserver.sessions.stores import (
    FileSessionStore, MemorySessionStore, RedisSessionStore, checkStoreSpec, storeFromSpec,
)
from services.resp import ReplyParser, replies
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

    def test_keysFollowPrefixAndIds(self):
        """The key of an id made for the last call is not used for another id or
        another prefix, and a malformed id is refused after a good one."""
        sessionId = newSessionId()
        self.store.save(sessionId, b"x", 2)
        self.store.prefix = b"other:"
        self.store.save(sessionId, b"y", 2)
        self.assertEqual(self.store.store.get(b"other:" + sessionId.encode()), b"y")
        self.assertEqual(self.store.store.get(b"session:" + sessionId.encode()), b"x")
        self.assertRaises(ValueError, self.store.save, sessionId.upper(), b"z", 2)

    def test_timeoutsFollowArguments(self):
        """Each call's timeout sets its own expiry."""
        sessionId = newSessionId()
        self.store.save(sessionId, b"x", 2)
        self.store.save(sessionId, b"x", 5)
        self.clock.advance(3)
        self.assertEqual(self.successResultOf(self.store.load(sessionId, 1.5)), b"x")
        self.clock.advance(1.6)
        self.assertIsNone(self.successResultOf(self.store.load(sessionId, 1.5)))

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
        self.store._reactor = task.Clock()
        self.store._reactor.advance(os.stat(path).st_ctime + 3601)
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


def silentServer(testCase):
    """
    A socket that takes connections (into its backlog) and never answers,
    as a stopped (SIGSTOP) server does, closed when the test ends; return
    a C{redis://} URL to it.
    """
    listener = socket.socket()
    testCase.addCleanup(listener.close)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    return f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


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

    @defer.inlineCallbacks
    def test_loadRefreshesExpiry(self):
        """Loading sets the key's time to live to the given timeout, longer or shorter."""
        sessionId = newSessionId()
        key = self.prefix + sessionId.encode("ascii")
        yield self.store.save(sessionId, b"x", 10)
        self.assertEqual((yield self.store.load(sessionId, 1000)), b"x")
        self.assertGreater((yield self.client.execute(b"PTTL", key)), 10_000)
        self.assertEqual((yield self.store.load(sessionId, 5)), b"x")
        self.assertLessEqual((yield self.client.execute(b"PTTL", key)), 5_000)


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


class SessionServerStoreTests(RealTimeStoreMixin, TestCase):
    """
    The contract against our session server, running in this process.
    """

    def serverURL(self):
        from services.sessionserver.service import SessionServerService

        port = freePort()
        service = SessionServerService(ports=[f"tcp:{port}:interface=127.0.0.1"],
                                       password=b"sesame")
        service.startService()
        self.addCleanup(service.stopService)
        return f"redis://:sesame@127.0.0.1:{port}/0"


class SharedMemoryStoreTests(RealTimeStoreMixin, TestCase):
    """
    The contract through a sessions service's session port: what other
    processes see of its memory store.
    """

    def serverURL(self):
        port = freePort()
        self.service = makeSessionsService(port=f"tcp:{port}:interface=127.0.0.1",
                                           portPassword="sesame", secrets=["s" * 16])
        self.service.startService()
        self.addCleanup(self.service.stopService)
        return f"redis://:sesame@127.0.0.1:{port}/0"

    @defer.inlineCallbacks
    def test_shared(self):
        """A session saved in the service's process loads over the port, and back."""
        mine, theirs = newSessionId(), newSessionId()
        local = MemorySessionStore(self.service.store.store, prefix=self.prefix)
        yield local.save(mine, b"from here", 10)
        self.assertEqual((yield self.store.load(mine, 10)), b"from here")
        yield self.store.save(theirs, b"from there", 10)
        self.assertEqual((yield local.load(theirs, 10)), b"from there")


class StoreSpecTests(SynchronousTestCase):
    def test_memory(self):
        """'memory' is the in-process store."""
        self.assertIsInstance(storeFromSpec("memory"), MemorySessionStore)

    def test_file(self):
        """'file:DIR' is a file store in DIR."""
        store = storeFromSpec("file:/var/lib/x")
        self.assertIsInstance(store, FileSessionStore)
        self.assertEqual(store.directory, "/var/lib/x")

    def test_redis(self):
        """'redis://...' is a Redis store, parsed but not connected."""
        store = storeFromSpec("redis://:pw@example.com:7000/2")
        self.assertIsInstance(store, RedisSessionStore)
        self.assertEqual(store.client.address, RedisAddress("example.com", 7000, 2, "pw"))

    def test_bad(self):
        """Anything else is one ValueError sentence naming the value."""
        for spec in ["memcached", "file:", "redis://", "redis://h:port", "redis://h/x",
                     "http://h"]:
            with self.assertRaises(ValueError) as e:
                checkStoreSpec(spec)
            self.assertIn(repr(spec), str(e.exception))
            self.assertRaises(ValueError, storeFromSpec, spec)


class RedisURLTests(SynchronousTestCase):
    def test_defaults(self):
        """Port 6379 and database 0 unless given; no password."""
        self.assertEqual(parseRedisURL("redis://localhost"), RedisAddress("localhost"))

    def test_full(self):
        """User, password (URL-decoded), port and database are read."""
        self.assertEqual(
            parseRedisURL("redis://me:p%40ss@10.0.0.1:34343/3"),
            RedisAddress("10.0.0.1", 34343, 3, "p@ss", "me"),
        )

    def test_passwordHidden(self):
        """The password does not show in the address's repr."""
        self.assertNotIn("secret", repr(parseRedisURL("redis://:secret@h")))

    def test_passwordHiddenInErrors(self):
        """A URL that does not parse is quoted with its password masked."""
        for url in ["redis://:secret@h:x/0", "redis://u:secret@h/zero", "rediss://:secret@h"]:
            with self.assertRaises(ValueError) as caught:
                parseRedisURL(url)
            self.assertNotIn("secret", str(caught.exception))
            self.assertIn("***", str(caught.exception))


class RedisProtocolTests(SynchronousTestCase):
    def setUp(self):
        self.transport = StringTransport()
        self.protocol = RedisProtocol()
        self.protocol.makeConnection(self.transport)

    def test_pipelined(self):
        """Commands are written at once and answered in order."""
        first = self.protocol.execute(b"GET", b"a")
        second = self.protocol.execute(b"PING")
        self.assertEqual(self.transport.value(),
                         b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n")
        self.protocol.dataReceived(b"$1\r\nx\r\n+PO")
        self.assertEqual(self.successResultOf(first), b"x")
        self.assertNoResult(second)
        self.protocol.dataReceived(b"NG\r\n")
        self.assertEqual(self.successResultOf(second), b"PONG")

    def test_errorReply(self):
        """An error reply fails its command only."""
        failing = self.protocol.execute(b"NOPE")
        fine = self.protocol.execute(b"PING")
        self.protocol.dataReceived(b"-ERR unknown command 'NOPE'\r\n+PONG\r\n")
        self.assertIn("unknown command", str(self.failureResultOf(failing, RedisError).value))
        self.assertEqual(self.successResultOf(fine), b"PONG")

    def test_executeMany(self):
        """A batch goes out in one write and fires once with all its replies."""
        d = self.protocol.executeMany([[b"GET", b"a"], [b"PING"]])
        self.assertEqual(self.transport.value(),
                         b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n")
        self.protocol.dataReceived(b"$-1\r\n")
        self.assertNoResult(d)
        self.protocol.dataReceived(b"+PONG\r\n")
        self.assertEqual(self.successResultOf(d), [None, b"PONG"])

    def test_executeManyError(self):
        """A batch with an error reply fails with it once every reply is in."""
        d = self.protocol.executeMany([[b"NOPE"], [b"PING"]])
        fine = self.protocol.execute(b"PING")
        self.protocol.dataReceived(b"-ERR unknown command 'NOPE'\r\n+PONG\r\n+PONG\r\n")
        self.assertIn("unknown command", str(self.failureResultOf(d, RedisError).value))
        self.assertEqual(self.successResultOf(fine), b"PONG")

    def test_timeout(self):
        """A command unanswered for the timeout fails with TimeoutError and drops
        the connection, with one timer per connection, not per command."""
        clock = task.Clock()
        self.protocol.timeout, self.protocol.clock = 5, clock
        first = self.protocol.execute(b"PING")
        clock.advance(3)
        second = self.protocol.execute(b"PING")
        self.assertEqual(len(clock.getDelayedCalls()), 1)
        self.protocol.dataReceived(b"+PONG\r\n")
        self.assertEqual(self.successResultOf(first), b"PONG")
        clock.advance(2)
        self.assertNoResult(second)
        self.assertFalse(self.transport.disconnecting)
        clock.advance(3)
        self.failureResultOf(second, defer.TimeoutError)
        self.assertTrue(self.transport.disconnecting)

    def test_noTimerWhenIdle(self):
        """Once every reply is in, the timer stops rather than runs again."""
        clock = task.Clock()
        self.protocol.timeout, self.protocol.clock = 5, clock
        self.protocol.execute(b"PING")
        self.protocol.dataReceived(b"+PONG\r\n")
        clock.advance(5)
        self.assertEqual(clock.getDelayedCalls(), [])
        self.protocol.connectionLost(Failure(ConnectionLost()))

    def test_connectionLost(self):
        """Commands waiting when the connection goes fail with ConnectionLost."""
        d = self.protocol.execute(b"PING")
        self.protocol.connectionLost(Failure(ConnectionLost()))
        self.failureResultOf(d, ConnectionLost)

    def test_cancelAborts(self):
        """Cancelling a command drops the connection, whose replies would misalign."""
        d = self.protocol.execute(b"PING")
        d.cancel()
        self.failureResultOf(d, defer.CancelledError)
        self.assertTrue(self.transport.disconnecting)

    def test_pureParserWithoutHiredis(self):
        """Without hiredis, connections parse with the pure parser."""
        self.patch(replies, "hiredis", None)
        self.assertIsInstance(RedisProtocol()._parser, ReplyParser)

    def test_garbageAborts(self):
        """A reply that is not RESP drops the connection."""
        self.protocol.execute(b"PING")
        self.protocol.dataReceived(b"?\r\n")
        self.assertTrue(self.transport.disconnecting)

    def test_unsolicitedAborts(self):
        """A reply nobody asked for drops the connection."""
        self.protocol.dataReceived(b"+OK\r\n")
        self.assertTrue(self.transport.disconnecting)


class RedisClientTests(TestCase):
    """
    The client against real redis-servers: authentication, database
    selection, failures and reconnection.
    """

    def client(self, url, **kwargs):
        from twisted.internet import reactor

        client = RedisClient(url, reactor=reactor, **kwargs)
        client.start()
        self.addCleanup(client.stop)
        return client

    @defer.inlineCallbacks
    def test_authAndSelect(self):
        """The password and database of the URL are used on every connection."""
        port = startRedisServer(self, "--requirepass", "sesame")
        client = self.client(f"redis://:sesame@127.0.0.1:{port}/3")
        for _ in range(4):
            yield client.execute(b"SET", b"k", b"v")
        other = self.client(f"redis://:sesame@127.0.0.1:{port}/0")
        self.assertIsNone((yield other.execute(b"GET", b"k")))
        self.assertEqual((yield client.execute(b"GET", b"k")), b"v")

    @defer.inlineCallbacks
    def test_wrongPassword(self):
        """A wrong password fails commands with the server's error."""
        port = startRedisServer(self, "--requirepass", "sesame")
        client = self.client(f"redis://:wrong@127.0.0.1:{port}/0")
        with self.assertRaises(RedisError) as e:
            yield client.execute(b"PING")
        self.assertIn("WRONGPASS", str(e.exception))

    @defer.inlineCallbacks
    def test_noServer(self):
        """With nothing listening, a command fails instead of waiting forever."""
        client = self.client(f"redis://127.0.0.1:{freePort()}/0")
        with self.assertRaises(Exception):
            yield client.execute(b"PING")

    @defer.inlineCallbacks
    def test_notStarted(self):
        """A client that is not started says so."""
        with self.assertRaises(RuntimeError):
            yield RedisClient("redis://127.0.0.1").execute(b"PING")

    @defer.inlineCallbacks
    def test_reconnects(self):
        """After the server drops the connections, commands work again."""
        port = startRedisServer(self)
        client = self.client(f"redis://127.0.0.1:{port}/0", poolSize=1)
        yield client.execute(b"SET", b"k", b"v")
        killer = self.client(f"redis://127.0.0.1:{port}/0", poolSize=1)
        killed = yield killer.execute(b"CLIENT", b"KILL", b"TYPE", b"normal")
        self.assertEqual(killed, 1)
        value = None
        for _ in range(50):
            try:
                value = yield client.execute(b"GET", b"k")
                break
            except ConnectionLost:
                from twisted.internet import reactor

                yield task.deferLater(reactor, 0.05, lambda: None)
        self.assertEqual(value, b"v")

    @defer.inlineCallbacks
    def test_timeout(self):
        """A command unanswered within the timeout fails with TimeoutError."""
        port = startRedisServer(self, "--enable-debug-command", "local")
        client = self.client(f"redis://127.0.0.1:{port}/0", poolSize=1, timeout=0.3)
        with self.assertRaises(defer.TimeoutError):
            yield client.execute(b"DEBUG", b"SLEEP", b"1")

    def test_checkNow(self):
        """checkNow returns once the server answers with the URL's password and database."""
        port = startRedisServer(self, "--requirepass", "sesame")
        RedisClient(f"redis://:sesame@127.0.0.1:{port}/3").checkNow()

    def test_checkNowErrorReply(self):
        """checkNow raises the server's error for a wrong database, password or none."""
        port = startRedisServer(self, "--requirepass", "sesame")
        for url, error in [(f"redis://:sesame@127.0.0.1:{port}/16", "DB index is out of range"),
                           (f"redis://:wrong@127.0.0.1:{port}/0", "WRONGPASS"),
                           (f"redis://127.0.0.1:{port}/0", "NOAUTH")]:
            e = self.assertRaises(RedisError, RedisClient(url).checkNow)
            self.assertIn(error, str(e))

    def test_checkNowUnreachable(self):
        """checkNow raises the connection's error when nothing listens."""
        self.assertRaises(ConnectionRefusedError,
                          RedisClient(f"redis://127.0.0.1:{freePort()}/0").checkNow)

    def test_checkNowSilent(self):
        """checkNow gives up after the client's timeout on a server that never answers."""
        url = silentServer(self)
        started = time.monotonic()
        self.assertRaises(TimeoutError, RedisClient(url, timeout=0.2).checkNow)
        self.assertLess(time.monotonic() - started, 5)

    def test_pickles(self):
        """The client pickles as its configuration."""
        import pickle

        client = self.client(f"redis://127.0.0.1:{freePort()}/0")
        restored = pickle.loads(pickle.dumps(client))
        self.assertEqual((restored.url, restored._slots), (client.url, []))
