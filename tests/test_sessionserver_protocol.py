"""
Tests for L{services.sessionserver.protocol} over an in-memory transport:
pipelining, inline commands, protocol errors, QUIT, authentication limits,
RESP3, journal commits before replies, and backpressure.
"""

from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver.commands import Server
from services.sessionserver.journal import encodeCommand
from services.sessionserver.protocol import FLUSH_BYTES, RedisFactory
from services.sessionserver.store import Store


class FillingTransport(StringTransport):
    """
    A transport that pauses its producer once C{limit} bytes are buffered,
    as a TCP transport does when the peer does not read.
    """

    limit = FLUSH_BYTES

    def write(self, data):
        StringTransport.write(self, data)
        if len(self.value()) >= self.limit and self.producerState == "producing":
            self.producer.pauseProducing()

    def drain(self):
        self.clear()
        self.producer.resumeProducing()


class ProtocolTestCase(SynchronousTestCase):
    """
    A protocol connected to a server over a clock-driven store.
    """

    password = None

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1000)
        self.server = Server(Store(self.clock), self.password)
        self.factory = RedisFactory(self.server)
        self.protocol, self.transport = self.connect()

    def connect(self, transport=None):
        protocol = self.factory.buildProtocol(None)
        transport = transport or StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport

    def send(self, data, protocol=None):
        (protocol or self.protocol).dataReceived(data)
        value = self.transport.value()
        self.transport.clear()
        return value


class PipelineTests(ProtocolTestCase):
    """
    Requests and replies.
    """

    def test_pipelinedInOrder(self):
        """Pipelined requests are answered in order, in one write."""
        data = encodeCommand(b"SET", b"k", b"1") + encodeCommand(b"INCR", b"k") + b"GET k\r\n"
        self.assertEqual(self.send(data), b"+OK\r\n:2\r\n$1\r\n2\r\n")

    def test_splitRequest(self):
        """A request split across reads is answered once complete."""
        data = encodeCommand(b"ECHO", b"hello")
        self.assertEqual(self.send(data[:7]), b"")
        self.assertEqual(self.send(data[7:]), b"$5\r\nhello\r\n")

    def test_inline(self):
        """Inline commands work, quotes included."""
        self.assertEqual(self.send(b'SET k "a b"\r\nGET k\n'), b"+OK\r\n$3\r\na b\r\n")

    def test_protocolErrorCloses(self):
        """A protocol error is answered, then the connection closes and reads stop."""
        self.assertEqual(self.send(b"PING\r\n*x\r\nPING\r\n"),
                         b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n")
        self.assertTrue(self.transport.disconnecting)
        self.assertEqual(self.send(b"PING\r\n"), b"")

    def test_quitCloses(self):
        """QUIT is answered OK and closes; later pipelined commands are not run."""
        self.assertEqual(self.send(b"QUIT\r\nSET k v\r\n"), b"+OK\r\n")
        self.assertTrue(self.transport.disconnecting)
        self.assertIsNone(self.server.store.get(b"k"))

    def test_resp3(self):
        """After HELLO 3, nulls and maps are RESP3."""
        self.send(b"HELLO 3\r\n")
        self.assertEqual(self.send(b"GET missing\r\nCONFIG GET save\r\n"),
                         b"_\r\n%1\r\n$4\r\nsave\r\n$0\r\n\r\n")

    def test_clientsRegistered(self):
        """Connections are registered with the server until lost."""
        self.assertEqual(len(self.server.clients), 1)
        self.protocol.connectionLost(None)
        self.assertEqual(self.server.clients, {})

    def test_commitBeforeReply(self):
        """The journal is committed before replies acknowledging writes are sent."""
        order = []

        class Journal:
            pendingCount = 0

            def beforeChange(self, keys):
                pass

            def commit(self):
                order.append(("commit", len(transport.value())))

        transport = self.transport
        self.server.journal = Journal()
        self.send(b"SET k v\r\n")
        self.assertEqual(order, [("commit", 0)])


class AuthTests(ProtocolTestCase):
    """
    Unauthenticated limits are lifted by AUTH.
    """

    password = b"pw"

    def test_unauthenticatedBulkLimit(self):
        """Before AUTH, a bulk over 16384 bytes is a protocol error."""
        reply = self.send(b"*2\r\n$4\r\nECHO\r\n$16385\r\n")
        self.assertEqual(reply, b"-ERR Protocol error: unauthenticated bulk length\r\n")
        self.assertTrue(self.transport.disconnecting)

    def test_limitsLiftedAfterAuth(self):
        """After AUTH in the same read, large requests are accepted."""
        big = b"x" * 20000
        reply = self.send(b"AUTH pw\r\n" + encodeCommand(b"ECHO", big))
        self.assertEqual(reply, b"+OK\r\n$20000\r\n" + big + b"\r\n")

    def test_noauth(self):
        """Commands before AUTH get NOAUTH, and the connection stays open."""
        self.assertEqual(self.send(b"GET k\r\n"), b"-NOAUTH Authentication required.\r\n")
        self.assertFalse(self.transport.disconnecting)


class BackpressureTests(ProtocolTestCase):
    """
    A client that does not read stops being read from.
    """

    def test_producerRegistered(self):
        """The protocol is the transport's streaming producer."""
        self.assertIs(self.transport.producer, self.protocol)
        self.assertTrue(self.transport.streaming)

    def test_pausesWhenBufferFull(self):
        """Commands stop running when the transport is full and go on when it drains."""
        transport = FillingTransport()
        protocol, transport = self.connect(transport)
        self.server.store.set(b"big", b"x" * 10000)
        protocol.dataReceived(b"GET big\r\n" * 100)
        self.assertEqual(transport.producerState, "paused")
        answered = transport.value().count(b"$10000\r\n")
        self.assertLess(answered, 100)
        self.assertGreater(protocol.parser.pending(), 0)
        total = answered
        while transport.producerState == "paused":
            transport.drain()
            total += transport.value().count(b"$10000\r\n")
        self.assertEqual(total, 100)
        self.assertEqual(protocol.parser.pending(), 0)

    def test_pausedIgnoresNothing(self):
        """Data arriving while paused is kept and run after resuming."""
        self.protocol.pauseProducing()
        self.assertEqual(self.send(b"PING\r\n"), b"")
        self.protocol.resumeProducing()
        self.assertEqual(self.transport.value(), b"+PONG\r\n")
        self.assertEqual(self.transport.producerState, "producing")
