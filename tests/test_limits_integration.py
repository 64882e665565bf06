"""
Integration tests: a real C{twistd web-app} under hostile load from real
sockets on loopback (slowloris, too many connections, anonymous page
views), bounded in time.
"""

import http.client
import json
import os
import socket
import time

from twisted.trial.unittest import SynchronousTestCase

from tests.support import freePort, startTwistd, tempDir

GET = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n"
TRICKLE_INTERVAL = 0.25
GIVE_UP = 20


def serveStatic(testCase, *options):
    """
    Start C{twistd web-app --static} with C{options} on a free port;
    return the port.
    """
    root = tempDir(testCase)
    site = os.path.join(root, "site")
    os.mkdir(site)
    with open(os.path.join(site, "index.html"), "wb") as f:
        f.write(b"hello")
    port = freePort()
    startTwistd(testCase, ["web-app", "--port", f"tcp:{port}:interface=127.0.0.1",
                           "--static", site, *options], root, port)
    return port


def connect(testCase, port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=GIVE_UP)
    testCase.addCleanup(sock.close)
    return sock


def readResponse(sock):
    """
    Read one response to a request for the 5-byte index page (or whatever
    comes until the server closes).
    """
    data = b""
    while not data.endswith(b"hello"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def trickleUntilClosed(socks):
    """
    Send each socket one more byte of an endless request head every
    L{TRICKLE_INTERVAL} seconds until the server closes them all; return
    what each received and how long each stayed open.

    @raise AssertionError: if one is still open after L{GIVE_UP} seconds.
    """
    start = time.monotonic()
    received = {sock: b"" for sock in socks}
    closedAfter = {}
    for sock in socks:
        sock.settimeout(TRICKLE_INTERVAL / len(socks))
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n")
    while len(closedAfter) < len(socks):
        if time.monotonic() - start > GIVE_UP:
            raise AssertionError(f"{len(socks) - len(closedAfter)} trickling connections "
                                 f"still open after {GIVE_UP} s")
        for sock in socks:
            if sock in closedAfter:
                continue
            try:
                sock.sendall(b"X")
            except OSError:
                pass  # The server closed: read what it sent first.
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                chunk = b""
            received[sock] += chunk
            if not chunk:
                closedAfter[sock] = time.monotonic() - start
    return [received[s] for s in socks], [closedAfter[s] for s in socks]


class SlowlorisTests(SynchronousTestCase):
    """
    Trickled request heads are cut off at --header-timeout while other
    clients are served.
    """

    def test_trickledHeads(self):
        """Heads trickled a byte at a time get 408 and are closed within the header timeout."""
        port = serveStatic(self, "--header-timeout", "2", "--timeout", "30")
        slow = [connect(self, port) for _ in range(5)]
        served = connect(self, port)
        served.sendall(GET)
        self.assertIn(b"200 OK", readResponse(served))
        received, closedAfter = trickleUntilClosed(slow)
        for data in received:
            self.assertTrue(data.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), data)
        self.assertLess(max(closedAfter), 2 + 5)


class MaxConnectionsTests(SynchronousTestCase):
    """
    Connections over --max-connections are answered 503 and closed at once;
    the open ones go on being served.
    """

    def test_shed(self):
        """The connection over the limit gets 503; a kept-alive one is still served."""
        port = serveStatic(self, "--max-connections", "3", "--header-timeout", "60")
        held = []
        for _ in range(3):
            # One after the other: by the time a connection is served, the
            # server has seen the close of the one that waited for its port.
            held.append(connect(self, port))
            held[-1].sendall(GET)
            self.assertIn(b"200 OK", readResponse(held[-1]))
        for _ in range(20):
            shed = connect(self, port)
            self.assertTrue(readResponse(shed).startswith(b"HTTP/1.1 503 Service Unavailable"))
            shed.close()
        held[0].sendall(GET)
        self.assertIn(b"200 OK", readResponse(held[0]))
        held[1].close()
        self.assertIn(b"200 OK", self.getOnceServed(port))

    def getOnceServed(self, port):
        """
        GET / on new connections until one is served (the server may see a
        closed connection a moment after the client closed it); return the
        response.
        """
        deadline = time.monotonic() + GIVE_UP
        while time.monotonic() < deadline:
            sock = connect(self, port)
            try:
                sock.sendall(GET)
                response = readResponse(sock)
            except ConnectionError:
                continue  # Shed while sending: the 503 may be lost to a reset.
            finally:
                sock.close()
            if not response.startswith(b"HTTP/1.1 503"):
                return response
        raise AssertionError(f"no connection served within {GIVE_UP} s of one closing")


class AnonymousSessionsTests(SynchronousTestCase):
    """
    Anonymous page views of the demo store no session in a real twistd.
    """

    def test_noSessions(self):
        """A hundred anonymous views of the demo's form page leave the store empty."""
        root = tempDir(self)
        port = freePort()
        startTwistd(self, ["web-app", "--port", f"tcp:{port}:interface=127.0.0.1",
                           "--session-max-memory", "1mb"], root, port)
        for _ in range(100):
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=GIVE_UP)
            client.request("GET", "/")
            response = client.getresponse()
            self.assertIn(b'name="csrf_token"', response.read())
            client.close()
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=GIVE_UP)
        client.request("GET", "/_appserver/services")
        tree = json.loads(client.getresponse().read())["services"][0]
        sessions = {child["name"]: child for child in tree["children"]}["sessions"]["figures"]
        self.assertEqual((sessions["sessions"], sessions["maxMemory"]), (0, 1024 * 1024))
