"""
Helpers for web tests: drive a real L{Site} over a L{StringTransport} and
parse what it writes, all in memory.
"""

from dataclasses import dataclass

from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.web.server import Site


@dataclass
class Answer:
    """
    A parsed HTTP response.
    """

    code: int
    headers: dict
    body: bytes
    raw: bytes

    def header(self, name):
        """
        The value of header C{name} (case-insensitive), or L{None}.
        """
        return self.headers.get(name.lower())


def parseResponse(raw):
    """
    Parse one HTTP/1.1 response (Content-Length or chunked body).
    """
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    code = int(lines[0].split(b" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip()
    if headers.get("transfer-encoding") == b"chunked":
        body = b""
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            length = int(size, 16)
            if length == 0:
                break
            body, rest = body + rest[:length], rest[length + 2:]
    else:
        body = rest[: int(headers.get("content-length", len(rest)))]
    return Answer(code, headers, body, raw)


def startRequest(resource, method=b"GET", path=b"/", headers=None, body=b"",
                 site=None):
    """
    Send one request to C{resource} through a L{Site} (C{site} if given).

    @return: the L{StringTransport} the response is written to.
    """
    site = site or Site(resource, reactor=MemoryReactorClock())
    transport = StringTransport()
    channel = site.buildProtocol(None)
    channel.makeConnection(transport)
    transport.protocol = channel
    headers = dict(headers or {})
    headers.setdefault(b"Host", b"example.com")
    if body or method in (b"POST", b"PUT", b"PATCH"):
        headers.setdefault(b"Content-Length", b"%d" % len(body))
    head = b"%s %s HTTP/1.1\r\n" % (method, path)
    head += b"".join(b"%s: %s\r\n" % item for item in headers.items())
    channel.dataReceived(head + b"\r\n" + body)
    pumpProducer(transport)
    return transport


def pumpProducer(transport, limit=1000):
    """
    Drive a pull producer (as static files register) until it unregisters.
    """
    channel = getattr(transport.protocol, "_channel", transport.protocol)
    for _ in range(limit):
        producer = channel._requestProducer
        if producer is None or channel._requestProducerStreaming:
            return
        getattr(producer, "_producer", producer).resumeProducing()


def answerOf(transport):
    """
    The L{Answer} written to C{transport}, or L{None} if nothing was.
    """
    written = transport.value()
    return parseResponse(written) if written else None


def request(resource, method=b"GET", path=b"/", headers=None, body=b"", site=None):
    """
    Send one request to C{resource} and return the L{Answer} written at
    once, or L{None}.
    """
    return answerOf(startRequest(resource, method, path, headers, body, site))
