"""
Tests for C{twistd session-server}'s options and service assembly
(L{appserver.tap.sessionserver}) and for L{SessionServerService}: start and
stop on a MemoryReactor and Clock, active expiry, the journal, persistence.
"""

import os

from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from appserver.tap import sessionserver
from services.ports import ListeningService
from services.sessionserver.albatross import AlbatrossFactory
from services.sessionserver.protocol import RedisFactory
from services.sessionserver.service import SessionServerService
from tests.support import assertPersists, tempDir


def parse(*args, environ=None):
    options = sessionserver.Options()
    options.environ = environ or {}
    options.parseOptions(list(args))
    return options


def makeServer(*args):
    """
    The L{SessionServerService} C{twistd session-server ARGS} assembles, under
    its command's root.
    """
    return sessionserver.makeService(parse(*args)).getServiceNamed("session-server")


class MemoryClock(MemoryReactor, Clock):
    """
    A MemoryReactor that is also a Clock.
    """

    def __init__(self):
        MemoryReactor.__init__(self)
        Clock.__init__(self)


class OptionsTests(SynchronousTestCase):
    """
    Parsing and checking options.
    """

    def test_defaults(self):
        """Loopback port 34343, no password, no bound, volatile-lru, everysec."""
        options = parse()
        self.assertEqual(options["port"], ["tcp:34343:interface=127.0.0.1"])
        self.assertEqual(options["albatross-port"], [])
        self.assertIsNone(options.password())
        self.assertEqual(options["maxmemory"], 0)
        self.assertEqual(options["maxmemory-policy"], "volatile-lru")
        self.assertIsNone(options["journal"])
        self.assertEqual(options["fsync"], "everysec")

    def test_values(self):
        """Every option is parsed and coerced."""
        options = parse("--port", "7000", "--port", "unix:/tmp/s.sock", "--requirepass", "pw",
                        "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru",
                        "--journal", "j.aof", "--fsync", "always", "--albatross-port", "34344")
        self.assertEqual(options["port"], ["tcp:7000", "unix:/tmp/s.sock"])
        self.assertEqual(options.password(), b"pw")
        self.assertEqual(options["maxmemory"], 256 * 1024 * 1024)
        self.assertEqual(options["albatross-port"], ["tcp:34344:interface=127.0.0.1"])

    def test_albatrossEndpoint(self):
        """A full endpoint description for Albatross is kept as given."""
        options = parse("--albatross-port", "tcp:34344:interface=0.0.0.0")
        self.assertEqual(options["albatross-port"], ["tcp:34344:interface=0.0.0.0"])

    def test_badValues(self):
        """Bad sizes, policies, fsync modes and ports are usage errors."""
        for args in (["--maxmemory", "lots"], ["--maxmemory-policy", "random"],
                     ["--fsync", "sometimes"], ["--port", "99999"],
                     ["--albatross-port", "99999"]):
            self.assertRaises(usage.UsageError, parse, *args)

    def test_passwordFile(self):
        """--password-file reads the first line."""
        path = os.path.join(tempDir(self), "pw")
        with open(path, "w") as f:
            f.write("s3cret\nignored\n")
        self.assertEqual(parse("--password-file", path).password(), b"s3cret")

    def test_passwordErrors(self):
        """Both password options, a missing file or an empty password are refused."""
        with self.assertRaises(usage.UsageError) as e:
            parse("--password-file", "/nonexistent/pw")
        self.assertIn("/nonexistent/pw", str(e.exception))
        self.assertRaises(usage.UsageError, parse, "--requirepass", "a",
                          "--password-file", "/x")
        self.assertRaises(usage.UsageError, parse, "--requirepass", "")

    def test_environment(self):
        """APPSERVER_* variables configure the command."""
        options = parse(environ={"APPSERVER_MAXMEMORY": "1gb", "APPSERVER_FSYNC": "no"})
        self.assertEqual(options["maxmemory"], 1024**3)
        self.assertEqual(options["fsync"], "no")


class MakeServiceTests(SynchronousTestCase):
    """
    makeService assembles without binding.
    """

    def test_tree(self):
        """A named service with a listener per RESP and Albatross port."""
        service = makeServer(
            "--port", "7000", "--port", "7001", "--albatross-port", "7002",
            "--requirepass", "pw", "--maxmemory", "1mb", "--maxmemory-policy", "noeviction")
        self.assertEqual(service.name, "session-server")
        listeners = list(service)
        self.assertEqual([l.description for l in listeners],
                         ["tcp:7000", "tcp:7001", "tcp:7002:interface=127.0.0.1"])
        self.assertIsInstance(listeners[0].factory, RedisFactory)
        self.assertIsInstance(listeners[2].factory, AlbatrossFactory)
        self.assertIs(listeners[0].factory.server.store, service.store)
        self.assertEqual(service.server.password, b"pw")
        self.assertEqual((service.store.maxmemory, service.store.policy),
                         (1024 * 1024, "noeviction"))
        self.assertFalse(service.running)


class ServiceTests(SynchronousTestCase):
    """
    Running the service on a MemoryReactor that is also a Clock.
    """

    def makeService(self, **kwargs):
        self.reactor = MemoryClock()
        self.reactor.advance(1000)
        return SessionServerService(ports=["tcp:0"], clock=self.reactor,
                                    reactor=self.reactor, **kwargs)

    def test_startStop(self):
        """Starting listens on every port; stopping closes them."""
        service = self.makeService()
        service.privilegedStartService()
        service.startService()
        self.assertEqual(len(self.reactor.tcpServers), 1)
        self.successResultOf(service.stopService())
        self.assertFalse(service.running)

    def test_activeExpiry(self):
        """Expired keys are swept by the clock, without being touched."""
        service = self.makeService()
        service.startService()
        service.store.set(b"k", b"v", 1000500)
        self.reactor.advance(0.6)
        self.assertEqual(len(service.store), 0)
        self.successResultOf(service.stopService())
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_journal(self):
        """With a journal, writes survive a stop and start of a new service."""
        path = os.path.join(tempDir(self), "j.aof")
        service = self.makeService(journalPath=path, fsync="everysec")
        service.startService()
        self.assertEqual(service.server.journal, service.journal)
        service.store.set(b"k", b"v")
        service.server.commit()
        self.reactor.advance(1)
        self.successResultOf(service.stopService())
        again = self.makeService(journalPath=path)
        again.startService()
        self.assertEqual(again.store.get(b"k"), b"v")
        self.successResultOf(again.stopService())

    def test_journalUnopenable(self):
        """A journal that cannot be opened fails start-up with its path."""
        service = self.makeService(journalPath="/nonexistent/dir/j.aof")
        with self.assertRaises(RuntimeError) as e:
            service.startService()
        self.assertIn("/nonexistent/dir/j.aof", str(e.exception))

    def test_persistsData(self):
        """Without a journal, the keys are part of the pickle."""
        service = makeServer("--port", "tcp:0", "--albatross-port", "0")
        service.store.clock = Clock()
        service.store.set(b"session:1", b"data", 10**12)

        def check(restored):
            restored.store.clock = Clock()
            self.assertEqual(restored.store.get(b"session:1"), b"data")
            self.assertIs(list(restored)[0].factory.server.store, restored.store)
            self.assertIs(list(restored)[1].factory.server.store, restored.store)
            self.assertIsNone(restored.journal)

        assertPersists(self, service, check)

    def test_persistsWithoutDataWhenJournaled(self):
        """With a journal, only the configuration is pickled."""
        service = makeServer("--journal", "j.aof", "--requirepass", "pw")
        service.store.clock = Clock()
        service.store.set(b"k", b"v")

        def check(restored):
            restored.store.clock = Clock()
            self.assertEqual(len(restored.store), 0)
            self.assertEqual(restored.journalPath, "j.aof")
            self.assertEqual(restored.server.password, b"pw")

        assertPersists(self, service, check)

    def test_persistsWhileRunning(self):
        """A running service pickles without its timers, journal or clock."""
        path = os.path.join(tempDir(self), "j.aof")
        service = self.makeService(journalPath=path)
        service.startService()
        self.addCleanup(service.stopService)
        assertPersists(self, service)
        state = service.__getstate__()
        for name in ("journal", "_expiry", "_sync", "_clock"):
            self.assertNotIn(name, state)
        self.assertIsInstance(list(service)[0], ListeningService)
