"""
Tests for L{services.ports}.
"""

from twisted.internet.error import CannotListenError
from twisted.internet.testing import MemoryReactor
from twisted.internet.protocol import Factory
from twisted.trial.unittest import SynchronousTestCase

from services.errors import StartupError
from services.ports import DEFAULT_BACKLOG, ListeningService, parsePort
from tests.support import assertPersists


class ParsePortTests(SynchronousTestCase):
    """
    A port option is a number or an endpoint description.
    """

    def test_bareNumber(self):
        """A bare number means TCP on that port."""
        self.assertEqual(parsePort("8007"), "tcp:8007")
        self.assertEqual(parsePort(8007), "tcp:8007")

    def test_descriptions(self):
        """Endpoint descriptions are kept as given."""
        for text in ["tcp:8007:interface=127.0.0.1", "unix:/run/qotd.sock",
                     "systemd:domain=INET:index=0"]:
            self.assertEqual(parsePort(text), text)

    def test_bad(self):
        """Unknown endpoint types and out-of-range ports are refused."""
        self.assertRaises(ValueError, parsePort, "bogus:1")
        self.assertRaises(ValueError, parsePort, "70000")
        self.assertRaises(ValueError, parsePort, "")


class NamedFactory(Factory):
    """
    A factory with state: Python 3.11 gives an object with an empty
    C{__dict__} a state of None, which Twisted's AOT reader cannot load.
    """

    def __init__(self, name="test"):
        self.name = name


class RefusingReactor(MemoryReactor):
    def listenTCP(self, port, factory, backlog=50, interface=""):
        raise CannotListenError(interface, port, OSError(98, "Address already in use"))


class ListeningServiceTests(SynchronousTestCase):
    """
    L{ListeningService} binds late and pickles without its port.
    """

    def test_bindsInPrivilegedStart(self):
        """The port is bound in privilegedStartService, before startService."""
        reactor = MemoryReactor()
        service = ListeningService("tcp:8007:interface=127.0.0.1", NamedFactory(), reactor)
        service.privilegedStartService()
        self.assertEqual(len(reactor.tcpServers), 1)
        self.assertEqual(reactor.tcpServers[0][0], 8007)
        service.startService()
        self.assertEqual(len(reactor.tcpServers), 1)
        self.assertIsNotNone(service.port)

    def test_bindsInStartUnderTwist(self):
        """Under twist, which skips privilegedStartService, startService binds."""
        reactor = MemoryReactor()
        service = ListeningService("tcp:8007", NamedFactory(), reactor)
        service.startService()
        self.assertEqual(len(reactor.tcpServers), 1)

    def test_stop(self):
        """Stopping closes the port."""
        reactor = MemoryReactor()
        service = ListeningService("tcp:8007", NamedFactory(), reactor)
        service.startService()
        self.assertIsNone(self.successResultOf(service.stopService()))
        self.assertIsNone(service.port)
        self.assertFalse(service.running)

    def test_cannotListen(self):
        """A port that cannot be bound raises at start-up, naming the reason."""
        service = ListeningService("tcp:8007", NamedFactory(), RefusingReactor())
        error = self.assertRaises(StartupError, service.privilegedStartService)
        self.assertEqual(str(error), "Address already in use: cannot listen on tcp:8007")

    def test_defaultBacklog(self):
        """TCP and UNIX ports listen with a backlog that absorbs bursts."""
        reactor = MemoryReactor()
        ListeningService("tcp:8007", NamedFactory(), reactor).startService()
        ListeningService("TCP6:8008", NamedFactory(), reactor).startService()
        ListeningService("unix:/tmp/appserver-test.sock", NamedFactory(), reactor).startService()
        self.assertEqual([server[2] for server in reactor.tcpServers],
                         [DEFAULT_BACKLOG, DEFAULT_BACKLOG])
        self.assertEqual(reactor.unixServers[0][2], DEFAULT_BACKLOG)
        self.assertEqual(DEFAULT_BACKLOG, 2048)

    def test_explicitBacklog(self):
        """A backlog given in the endpoint description wins."""
        reactor = MemoryReactor()
        service = ListeningService("tcp:8007:backlog=50", NamedFactory(), reactor)
        service.startService()
        self.assertEqual(reactor.tcpServers[0][2], 50)
        self.assertEqual(service.description, "tcp:8007:backlog=50")

    def test_persists(self):
        """A bound service pickles as its description and factory only."""
        service = ListeningService("tcp:8007", NamedFactory(), MemoryReactor())
        service.startService()

        def check(restored):
            self.assertEqual(restored.description, "tcp:8007")
            self.assertIsNone(restored.port)
            self.assertIsNone(restored._reactor)

        assertPersists(self, service, check)
