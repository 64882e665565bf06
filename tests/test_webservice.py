"""
Tests for services.web: body limit, Host headers, deadlines, connection
limit, idle timeout, access log, ports and persistence.
"""

import os

from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import LogLevel, formatEvent
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from services import web
from services.web import HOST_REQUIRED, LimitedSite, WebService, plainResponse
from tests.support import assertPersists, captureLog, tempDir


class Echo(Resource):
    isLeaf = True

    def __init__(self):
        Resource.__init__(self)
        self.bodies = []

    def render(self, request):
        body = request.content.read()
        self.bodies.append(body)
        return b"got %d" % len(body)


def connect(site):
    transport = StringTransport()
    channel = site.buildProtocol(None)
    channel.makeConnection(transport)
    return channel, transport


class BodyLimitTests(SynchronousTestCase):
    """
    Request bodies over the limit are refused with 413.
    """

    def setUp(self):
        self.resource = Echo()
        self.site = LimitedSite(self.resource, maxBody=10, reactor=MemoryReactorClock())

    def test_underLimit(self):
        """A body within the limit reaches the resource."""
        channel, transport = connect(self.site)
        channel.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789")
        self.assertIn(b"200 OK", transport.value())
        self.assertEqual(self.resource.bodies, [b"0123456789"])

    def test_declaredTooLarge(self):
        """A Content-Length over the limit is refused before the body is read."""
        channel, transport = connect(self.site)
        channel.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 413 Payload Too Large\r\n"))
        self.assertTrue(transport.disconnecting)
        channel.dataReceived(b"01234567890")
        self.assertEqual(self.resource.bodies, [])

    def test_noContinue(self):
        """A refused request with Expect: 100-continue gets no 100 Continue."""
        channel, transport = connect(self.site)
        channel.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                             b"Content-Length: 1000000\r\n\r\n")
        self.assertNotIn(b"100 Continue", transport.value())
        self.assertIn(b"413", transport.value())

    def test_chunkedTooLarge(self):
        """A chunked body is counted as it arrives and refused past the limit."""
        channel, transport = connect(self.site)
        channel.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        channel.dataReceived(b"6\r\n012345\r\n")
        self.assertEqual(transport.value(), b"")
        channel.dataReceived(b"6\r\n012345\r\n0\r\n\r\n")
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 413"))
        self.assertEqual(self.resource.bodies, [])

    def test_chunkedWithinLimit(self):
        """A chunked body within the limit is served."""
        channel, transport = connect(self.site)
        channel.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5\r\n01234\r\n0\r\n\r\n")
        self.assertIn(b"got 5", transport.value())


class SiteTests(SynchronousTestCase):
    """
    Idle timeouts and the access log.
    """

    def test_idleTimeout(self):
        """An idle connection is closed after the timeout."""
        clock = MemoryReactorClock()
        site = LimitedSite(Echo(), timeout=5, reactor=clock)
        channel, transport = connect(site)
        channel.dataReceived(b"GET / HTTP/1.1\r\n")
        clock.advance(4)
        self.assertFalse(transport.disconnecting)
        clock.advance(2)
        self.assertTrue(transport.disconnecting)

    def test_accessLogFile(self):
        """With a path, requests are logged there in combined log format."""
        path = os.path.join(tempDir(self), "access.log")
        site = LimitedSite(Echo(), accessLog=path, reactor=MemoryReactorClock())
        site.startFactory()
        self.addCleanup(site.stopFactory)
        channel, transport = connect(site)
        channel.dataReceived(b"GET /x HTTP/1.1\r\nHost: x\r\nUser-Agent: tester\r\n\r\n")
        with open(path) as f:
            line = f.read()
        self.assertIn('"GET /x HTTP/1.1" 200 5 "-" "tester"', line)

    def test_noAccessLog(self):
        """Without an access log nothing is logged."""
        site = LimitedSite(Echo(), reactor=MemoryReactorClock())
        written = []
        site._logFile = type("F", (), {"write": lambda self, line: written.append(line)})()
        channel, transport = connect(site)
        channel.dataReceived(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(written, [])


LIMITS = {"maxBody": 7, "timeout": 3, "headerTimeout": 4, "bodyTimeout": 5, "maxConnections": 6}


class WebServiceTests(SynchronousTestCase):
    """
    The service binds its ports when started and pickles without them.
    """

    def test_listens(self):
        """Each port description is listened on with one site."""
        reactor = MemoryReactorClock()
        service = WebService(Echo(), ["tcp:8080", "tcp:8081:interface=127.0.0.1"],
                             maxBody=5, reactor=reactor)
        service.privilegedStartService()
        service.startService()
        self.assertEqual([server[0] for server in reactor.tcpServers], [8080, 8081])
        self.assertEqual(service.site.maxBody, 5)
        self.assertIs(reactor.tcpServers[0][1], service.site)
        self.successResultOf(service.stopService())
        self.assertIsNone(service.site)

    def test_descriptorLimit(self):
        """Allowing more connections than the process may open files is warned about at start."""
        self.patch(web, "descriptorLimit", lambda: 256)
        events = captureLog(self)
        WebService(Echo(), ["tcp:8080"], maxConnections=1000,
                   reactor=MemoryReactorClock()).startService()
        warnings = [formatEvent(e) for e in events if e.get("log_level") == LogLevel.warn]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("1000", warnings[0])
        self.assertIn("256", warnings[0])
        del events[:]
        WebService(Echo(), ["tcp:8080"], maxConnections=200,
                   reactor=MemoryReactorClock()).startService()
        self.assertEqual([e for e in events if e.get("log_level") == LogLevel.warn], [])

    def test_startWithoutPrivileged(self):
        """Under `twist` (no privilegedStartService) start binds the ports."""
        reactor = MemoryReactorClock()
        service = WebService(Echo(), ["tcp:8080"], reactor=reactor)
        service.startService()
        self.assertEqual(len(reactor.tcpServers), 1)

    def test_persists(self):
        """Configuration pickles; the site and ports do not."""
        service = WebService(Echo(), ["tcp:8080"], maxBody=7, timeout=3, accessLog="-",
                             displayTracebacks=True, reactor=MemoryReactorClock(),
                             headerTimeout=4, bodyTimeout=5, maxConnections=6)
        service.privilegedStartService()
        service.startService()
        service.stopService()

        def check(restored):
            self.assertEqual((restored.ports, restored.accessLog, restored.displayTracebacks),
                             (["tcp:8080"], "-", True))
            self.assertEqual(restored.limits(), LIMITS)
            self.assertIsNone(restored.site)
            self.assertIsInstance(restored.resource, Echo)
        assertPersists(self, service, check)

    def test_limits(self):
        """The site gets every limit; setLimits changes the service's and the running site's."""
        service = WebService(Echo(), ["tcp:8080"], reactor=MemoryReactorClock(), **LIMITS)
        service.startService()
        site = service.site
        self.assertEqual((site.maxBody, site.timeOut, site.headerTimeout, site.bodyTimeout,
                          site.maxConnections), (7, 3, 4, 5, 6))
        service.setLimits(headerTimeout=9, timeout=8)
        self.assertEqual((site.headerTimeout, site.timeOut), (9, 8))
        self.assertEqual(service.limits(), dict(LIMITS, headerTimeout=9, timeout=8))
        self.assertRaises(TypeError, service.setLimits, headerTimeOut=1)

    def test_oldPickle(self):
        """A service pickled before the deadlines and connection limit gets their defaults."""
        service = WebService(Echo(), ["tcp:8080"])
        state = service.__getstate__()
        for name in ["headerTimeout", "bodyTimeout", "maxConnections"]:
            del state[name]
        restored = WebService.__new__(WebService)
        restored.__setstate__(state)
        self.assertEqual(restored.limits(), WebService(Echo(), []).limits())


class HostHeaderTests(SynchronousTestCase):
    """
    HTTP/1.1 requests need exactly one Host header (RFC 9112, section 3.2).
    """

    def setUp(self):
        self.resource = Echo()
        self.site = LimitedSite(self.resource, reactor=MemoryReactorClock())

    def assertRefused(self, head):
        channel, transport = connect(self.site)
        channel.dataReceived(head)
        self.assertTrue(transport.value().startswith(b"HTTP/1.1 400 Bad Request\r\n"),
                        transport.value())
        self.assertTrue(transport.value().endswith(b"\r\n\r\n" + HOST_REQUIRED))
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.resource.bodies, [])

    def test_missing(self):
        """An HTTP/1.1 request without Host gets 400 and is not served."""
        self.assertRefused(b"GET / HTTP/1.1\r\n\r\n")

    def test_two(self):
        """A request with two Host headers gets 400, whatever its version."""
        self.assertRefused(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        self.assertRefused(b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n")

    def test_twoWithBody(self):
        """A refused request's body is not read, nor 100 Continue sent."""
        self.assertRefused(b"POST / HTTP/1.1\r\nHost: a\r\nhost: b\r\nExpect: 100-continue\r\n"
                           b"Content-Length: 3\r\n\r\nabc")

    def test_one(self):
        """One Host header, or none in HTTP/1.0, is served."""
        for head in [b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"GET / HTTP/1.0\r\n\r\n"]:
            channel, transport = connect(self.site)
            channel.dataReceived(head)
            self.assertIn(b" 200 OK\r\n", transport.value())


class Pending(Resource):
    """
    A resource that answers only when told to.
    """

    isLeaf = True

    def __init__(self):
        Resource.__init__(self)
        self.requests = []

    def render(self, request):
        self.requests.append(request)
        return NOT_DONE_YET


class DeadlineTests(SynchronousTestCase):
    """
    A request's head, and then its body, must arrive within their deadlines
    however slowly the client trickles bytes; the idle timeout alone
    restarts on every byte.
    """

    def setUp(self):
        self.resource = Echo()
        self.connect(self.resource)

    def connect(self, resource):
        self.clock = MemoryReactorClock()
        site = LimitedSite(resource, timeout=60, headerTimeout=10, bodyTimeout=20,
                           reactor=self.clock)
        self.channel, self.transport = connect(site)
        self.closedAt = None

    def wait(self, seconds):
        """
        Let C{seconds} pass; once the server closes, the connection is lost
        (as the reactor would tell the channel) and the time noted.
        """
        self.clock.advance(seconds)
        if self.transport.disconnecting and self.closedAt is None:
            self.closedAt = self.clock.seconds()
            self.channel.connectionLost(None)

    def trickle(self, data, interval):
        """
        Send C{data} a byte every C{interval} seconds until it is all sent
        or the server closes the connection.
        """
        for byte in data:
            if self.closedAt is not None:
                return
            self.channel.dataReceived(bytes([byte]))
            self.wait(interval)

    def assertTimedOut(self, at):
        self.assertTrue(self.transport.value().endswith(plainResponse(408, b"Request Timeout")),
                        self.transport.value())
        self.assertEqual(self.closedAt, at)

    def test_trickledHead(self):
        """A head trickled a byte every 3 s gets 408 once the header timeout passes."""
        self.trickle(b"GET / HTTP/1.1\r\nHost: x\r\n", 3)
        self.assertTimedOut(12)
        self.assertEqual(self.resource.bodies, [])

    def test_headInTime(self):
        """A head that arrives within the header timeout, however slowly, is served."""
        self.trickle(b"GET / HTTP/1.1\r\n", 0.5)
        self.channel.dataReceived(b"Host: x\r\n\r\n")
        self.assertIn(b"200 OK", self.transport.value())
        self.assertNotIn(b"408", self.transport.value())
        self.wait(9)
        self.assertIsNone(self.closedAt)

    def test_silentConnection(self):
        """A connection that sends nothing is closed at the header timeout, unanswered."""
        self.wait(9.9)
        self.assertIsNone(self.closedAt)
        self.wait(0.2)
        self.assertIsNotNone(self.closedAt)
        self.assertEqual(self.transport.value(), b"")

    def test_keptAlive(self):
        """On a kept-alive connection the next head is due a header timeout after the response."""
        self.channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.wait(6)
        self.channel.dataReceived(b"GET / HTTP/1.1\r\n")
        self.wait(3.5)
        self.assertIsNone(self.closedAt)
        self.wait(0.5)
        self.assertTimedOut(10)

    def test_keptAliveIdle(self):
        """A kept-alive connection that sends nothing more is closed without a 408."""
        self.channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        answered = self.transport.value()
        self.wait(10)
        self.assertEqual(self.closedAt, 10)
        self.assertEqual(self.transport.value(), answered)

    def test_pipelined(self):
        """Pipelined requests are each served, and the next head is due from the last answer."""
        self.wait(5)
        self.channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
        self.assertEqual(self.transport.value().count(b"200 OK"), 3)
        self.wait(9)
        self.assertIsNone(self.closedAt)
        self.wait(1)
        self.assertEqual(self.closedAt, 15)

    def test_trickledBody(self):
        """A body trickled a byte every 3 s gets 408 once the body timeout passes."""
        self.channel.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        self.trickle(b"x" * 100, 3)
        self.assertTimedOut(21)
        self.assertEqual(self.resource.bodies, [])

    def test_bodyInTime(self):
        """A body within the body timeout is served, even past the header timeout."""
        self.channel.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n")
        self.trickle(b"abcdef", 3)
        self.assertEqual(self.resource.bodies, [b"abcdef"])
        self.assertNotIn(b"408", self.transport.value())

    def test_refusedNotReading(self):
        """A refused request's connection still open at the deadline is aborted, with no 408."""
        self.channel.dataReceived(b"POST / HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Length: 99999999\r\n\r\n")
        self.assertTrue(self.transport.disconnecting)
        self.wait(20)
        self.assertTrue(self.transport.value().endswith(b"Payload Too Large"))
        self.assertTrue(self.transport.disconnected)

    def test_slowAnswer(self):
        """No deadline runs while the server prepares its answer."""
        resource = Pending()
        self.connect(resource)
        self.channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.wait(1000)
        self.assertIsNone(self.closedAt)
        resource.requests[0].write(b"late")
        resource.requests[0].finish()
        self.assertIn(b"late", self.transport.value())
        self.wait(10)
        self.assertEqual(self.closedAt, 1010)

    def test_lost(self):
        """A closed connection leaves no timer behind."""
        self.channel.dataReceived(b"GET / HTTP/1.1\r\n")
        self.channel.connectionLost(None)
        self.assertEqual(self.clock.getDelayedCalls(), [])


class MaxConnectionsTests(SynchronousTestCase):
    """
    Past C{maxConnections} open connections, new ones are answered 503 and
    closed at once; the open ones are served as usual.
    """

    def setUp(self):
        self.site = LimitedSite(Echo(), maxConnections=2, reactor=MemoryReactorClock())

    def test_shed(self):
        """The connection past the limit gets 503 and is closed; the others are served."""
        first, firstTransport = connect(self.site)
        second, secondTransport = connect(self.site)
        shed, shedTransport = connect(self.site)
        self.assertEqual(shedTransport.value(), plainResponse(503, b"Service Unavailable"))
        self.assertTrue(shedTransport.disconnecting)
        shed.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(shedTransport.value(), plainResponse(503, b"Service Unavailable"))
        for channel, transport in [(first, firstTransport), (second, secondTransport)]:
            channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"200 OK", transport.value())
        self.assertEqual((self.site.openConnections, self.site.shedConnections), (2, 1))

    def test_upgraded(self):
        """A connection handed over to another protocol (a websocket) counts until it is lost."""
        channel, transport = connect(self.site)
        lost = []
        upgraded = Protocol()
        upgraded.connectionLost = lost.append
        channel._protocolUpgradeForWebsockets(upgraded)
        self.assertEqual(self.site.openConnections, 1)
        channel.connectionLost("reason")
        self.assertEqual(self.site.openConnections, 0)
        self.assertEqual(lost, ["reason"])

    def test_slotFreed(self):
        """Once an open connection closes, a new one is accepted."""
        first, _ = connect(self.site)
        connect(self.site)
        first.connectionLost(None)
        channel, transport = connect(self.site)
        channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200 OK", transport.value())
        self.assertEqual(self.site.openConnections, 2)
