"""
Tests for services.web: body limit, idle timeout, access log, ports and
persistence.
"""

import os

from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource

from services.web import HOST_REQUIRED, LimitedSite, WebService
from tests.support import assertPersists, tempDir


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

    def test_startWithoutPrivileged(self):
        """Under `twist` (no privilegedStartService) start binds the ports."""
        reactor = MemoryReactorClock()
        service = WebService(Echo(), ["tcp:8080"], reactor=reactor)
        service.startService()
        self.assertEqual(len(reactor.tcpServers), 1)

    def test_persists(self):
        """Configuration pickles; the site and ports do not."""
        service = WebService(Echo(), ["tcp:8080"], maxBody=7, timeout=3, accessLog="-",
                             displayTracebacks=True, reactor=MemoryReactorClock())
        service.privilegedStartService()
        service.startService()
        service.stopService()

        def check(restored):
            self.assertEqual((restored.ports, restored.maxBody, restored.timeout,
                              restored.accessLog, restored.displayTracebacks),
                             (["tcp:8080"], 7, 3, "-", True))
            self.assertIsNone(restored.site)
            self.assertIsInstance(restored.resource, Echo)
        assertPersists(self, service, check)


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
