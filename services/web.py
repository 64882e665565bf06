"""
The HTTP service: serve a resource on endpoints, with limits and an access
log.

L{WebService} takes any L{IResource} and knows nothing about what it is.
It keeps only configuration in its pickle; the L{Site} and the listening
ports are made when it starts.

Limits:
 - request bodies larger than C{maxBody} bytes get C{413 Payload Too Large}
   and the connection is closed: a too large C{Content-Length} is refused
   before any of the body is read, and a chunked body is counted as it
   arrives and refused as soon as it passes the limit, so neither is held
   in memory or on disk;
 - an HTTP/1.1 request without a C{Host} header, or any request with more
   than one, gets C{400 Bad Request} (RFC 9112, section 3.2) and is not
   served;
 - a request's head (request line and headers) must arrive whole within
   C{headerTimeout} seconds of the connection opening, or on a kept-alive
   connection of the previous response being sent, however slowly its
   bytes trickle in: past that, a client that sent part of a head gets
   C{408 Request Timeout}, one that sent nothing is closed unanswered;
 - its body must arrive whole within C{bodyTimeout} seconds of the end of
   the head, else C{408 Request Timeout}; no deadline runs while the
   server prepares its answer;
 - connections silent for C{timeout} seconds are closed unless an answer
   is being prepared (Twisted's idle timeout, restarted by every byte);
 - at most C{maxConnections} connections are open at once: one more is
   accepted, answered C{503 Service Unavailable} and closed at once, so it
   costs the open ones next to nothing (an attacker's idle connections
   are ended by the deadlines above); starting with more than the
   process's file limit allows (L{descriptorLimit}, less L{FILE_HEADROOM})
   logs a warning;
 - request heads are bounded by twisted.web itself (16 KiB, 500 headers).
"""

from collections.abc import Iterable
from functools import partial
from resource import RLIMIT_NOFILE, getrlimit
from typing import Any

from twisted.internet import defer, protocol
from twisted.logger import Logger
from twisted.web import server
from twisted.web.http import HTTPChannel
from twisted.web.resource import IResource
from zope.interface import implementer

from services.figures import IServiceFigures, portAddress
from services.persistence import PersistentService
from services.ports import ListeningService

__all__ = ["WebService", "LimitedSite", "LimitedChannel", "LimitedRequest", "LIMITS",
           "DEFAULT_MAX_BODY", "DEFAULT_TIMEOUT", "DEFAULT_HEADER_TIMEOUT",
           "DEFAULT_BODY_TIMEOUT", "DEFAULT_MAX_CONNECTIONS", "HOST_REQUIRED", "FILE_HEADROOM",
           "plainResponse", "descriptorLimit"]

DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_TIMEOUT = 60
DEFAULT_HEADER_TIMEOUT = 20
DEFAULT_BODY_TIMEOUT = 120
DEFAULT_MAX_CONNECTIONS = 1000

LIMITS = ("maxBody", "timeout", "headerTimeout", "bodyTimeout", "maxConnections")
"""The names of the limits of L{LimitedSite} and L{WebService}."""

_SHED_WARNING_INTERVAL = 60

FILE_HEADROOM = 32
"""Files a web-app process keeps open besides its connections (logs,
database, listening ports), for the check of C{maxConnections} against
L{descriptorLimit}."""
_log = Logger()

HOST_REQUIRED = b"Bad Request: send exactly one Host header."


def plainResponse(status: int, reason: bytes, body: bytes | None = None) -> bytes:
    """
    A complete C{text/plain} response with C{Connection: close}, as bytes,
    for answers written before (or instead of) a request being served; the
    body is the reason phrase unless given.
    """
    body = reason if body is None else body
    return (b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (status, reason, len(body), body))


_TOO_LARGE = plainResponse(413, b"Payload Too Large")
_BAD_HOST = plainResponse(400, b"Bad Request", HOST_REQUIRED)
_TOO_SLOW = plainResponse(408, b"Request Timeout")
_TOO_MANY = plainResponse(503, b"Service Unavailable")


def descriptorLimit() -> int:
    """
    How many files (connections included) this process may have open: its
    soft C{RLIMIT_NOFILE}.
    """
    return getrlimit(RLIMIT_NOFILE)[0]


def _checkedLimits(limits):
    unknown = sorted(set(limits) - set(LIMITS))
    if unknown:
        raise TypeError(f"unknown limits: {', '.join(unknown)}")
    return limits


class LimitedRequest(server.Request):
    """
    A request whose body may not exceed its site's C{maxBody} bytes, and
    which its channel may L{refuse} before it is served.
    """

    _refused = False
    _bodyReceived = 0

    def gotLength(self, length):
        """
        Refuse a declared length over the limit before reading any body.
        """
        if self._refused:
            return
        if length is not None and length > self.channel.site.maxBody:
            self.refuse(_TOO_LARGE)
        else:
            server.Request.gotLength(self, length)

    def handleContentChunk(self, data):
        """
        Count body bytes (chunked bodies declare no length) and refuse the
        request as soon as they pass the limit.
        """
        if self._refused:
            return
        self._bodyReceived += len(data)
        if self._bodyReceived > self.channel.site.maxBody:
            self.refuse(_TOO_LARGE)
        else:
            server.Request.handleContentChunk(self, data)

    def requestReceived(self, command, path, version):
        """
        Process the request unless it was refused.
        """
        if not self._refused:
            server.Request.requestReceived(self, command, path, version)

    def refuse(self, response):
        """
        Answer with C{response} (complete response bytes) and close the
        connection; the request is never served and the rest of its body is
        ignored.
        """
        self._refused = True
        self.content = None
        # No "100 Continue" after our answer: the client must not send.
        self.requestHeaders.removeHeader(b"expect")
        channel = self.channel
        channel.transport.write(response)
        channel.loseConnection()


def _hostCountValid(request, version):
    hosts = request.requestHeaders.getRawHeaders(b"host", ())
    return len(hosts) == 1 or (not hosts and version != b"HTTP/1.1")


class _Deadline:
    """
    A deadline that moves often and rarely passes: setting or clearing it
    costs no reactor call, its one timer is rescheduled lazily when it fires
    early, or brought forward when the deadline moves sooner.
    """

    def __init__(self, clock, passed):
        self._clock = clock
        self._passed = passed
        self._at = None
        self._call = None

    def set(self, seconds):
        """
        Call C{passed} in C{seconds} unless cleared or set again before.
        """
        self._at = self._clock.seconds() + seconds
        if self._call is None:
            self._call = self._clock.callLater(seconds, self._check)
        elif self._call.getTime() > self._at:
            self._call.reset(seconds)

    def clear(self):
        """
        No deadline until the next L{set}.
        """
        self._at = None

    def stop(self):
        """
        Clear, and cancel the timer.
        """
        self._at = None
        if self._call is not None:
            self._call.cancel()
            self._call = None

    def _check(self):
        self._call = None
        if self._at is None:
            return
        left = self._at - self._clock.seconds()
        if left > 0:
            self._call = self._clock.callLater(left, self._check)
        else:
            self._at = None
            self._passed()


class LimitedChannel(HTTPChannel):
    """
    An HTTP/1.1 channel with deadlines for a request's head and body,
    counted among its site's open connections, that refuses requests
    without exactly one C{Host} header (see the module docstring).
    """

    _deadline = None
    # Whether a byte came since the head deadline started.
    _heardFrom = False

    def connectionMade(self):
        """
        Count the connection and start waiting for a request head.
        """
        HTTPChannel.connectionMade(self)
        self.site.openConnections += 1
        self._deadline = _Deadline(self.site.reactor, self._deadlinePassed)
        self._awaitHead()

    def _awaitHead(self):
        self._heardFrom = False
        self._deadline.set(self.site.headerTimeout)

    def dataReceived(self, data):
        """
        Note that the client spoke, then parse as usual.
        """
        self._heardFrom = True
        HTTPChannel.dataReceived(self, data)

    def allHeadersReceived(self):
        """
        Refuse the request if its C{Host} headers are wrong (a refused
        request reads no body and is never served), then give its body
        the body deadline.
        """
        if not _hostCountValid(self.requests[-1], self._version):
            self.requests[-1].refuse(_BAD_HOST)
        HTTPChannel.allHeadersReceived(self)
        if self.length != 0:
            self._deadline.set(self.site.bodyTimeout)

    def allContentReceived(self):
        """
        The request is all here: no deadline while it is answered.
        """
        self._deadline.clear()
        HTTPChannel.allContentReceived(self)

    def requestDone(self, request):
        """
        The response is sent: on a kept-alive connection, the next head is
        due from now (set before pipelined requests are parsed, which may
        complete at once).
        """
        if self.persistent:
            self._awaitHead()
        HTTPChannel.requestDone(self, request)

    def connectionLost(self, reason):
        """
        Stop the deadline and stop counting the connection.
        """
        self._release()
        HTTPChannel.connectionLost(self, reason)

    def _release(self):
        self._deadline.stop()
        self.site.openConnections -= 1

    def _protocolUpgradeForWebsockets(self, protocol):
        """
        Hand the connection over to C{protocol} (a websocket), counting it
        until it is lost: Twisted gives the protocol this channel's
        C{connectionLost}.
        """
        HTTPChannel._protocolUpgradeForWebsockets(self, protocol)
        self.connectionLost = partial(self._upgradedConnectionLost, protocol.connectionLost)

    def _upgradedConnectionLost(self, protocolConnectionLost, reason):
        self._release()
        protocolConnectionLost(reason)

    def _deadlinePassed(self):
        if self.transport.disconnecting:
            # A refused request, answered, whose client still has not read
            # the answer nor closed.
            self.transport.abortConnection()
            return
        if self._heardFrom:
            self.transport.write(_TOO_SLOW)
        self.timeoutConnection()


class _Shed(protocol.Protocol):
    """
    A connection over the site's limit: answered 503 and closed at once.
    """

    def connectionMade(self):
        """
        Answer and close.
        """
        self.transport.write(_TOO_MANY)
        self.transport.loseConnection()


class LimitedSite(server.Site):
    """
    A L{server.Site} with the limits of the module docstring and a choice
    of access log.

    @ivar maxBody: the largest request body accepted, in bytes.
    @ivar timeOut: the idle timeout in seconds (Twisted's name; C{timeout}
        to the constructor and L{setLimits}).
    @ivar headerTimeout: seconds for a request's head to arrive.
    @ivar bodyTimeout: seconds for a request's body to arrive.
    @ivar maxConnections: the most connections open at once.
    @ivar openConnections: how many are open now.
    @ivar shedConnections: how many were answered 503 for being too many.
    @ivar accessLog: L{None} for no access log, C{"-"} for the Twisted log,
        or a file path; lines are in the combined log format.
    """

    requestFactory = LimitedRequest
    # The channel itself rather than Twisted's HTTP/1.1-or-2 switch, which
    # would bypass these limits on a connection that negotiated HTTP/2.
    protocol = LimitedChannel  # type: ignore[assignment]
    openConnections = 0
    shedConnections = 0
    _nextShedWarning = 0

    def __init__(self, resource: IResource, maxBody: int = DEFAULT_MAX_BODY,
                 timeout: float = DEFAULT_TIMEOUT, accessLog: str | None = None,
                 reactor: Any = None, headerTimeout: float = DEFAULT_HEADER_TIMEOUT,
                 bodyTimeout: float = DEFAULT_BODY_TIMEOUT,
                 maxConnections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        logPath = accessLog if accessLog not in (None, "-") else None
        server.Site.__init__(self, resource, logPath=logPath, reactor=reactor)
        self.accessLog = accessLog
        self.setLimits(maxBody=maxBody, timeout=timeout, headerTimeout=headerTimeout,
                       bodyTimeout=bodyTimeout, maxConnections=maxConnections)

    def setLimits(self, **limits: float) -> None:
        """
        Change some of the L{LIMITS}, by keyword; they apply to connections
        and deadlines from now on.
        """
        for name, value in _checkedLimits(limits).items():
            setattr(self, "timeOut" if name == "timeout" else name, value)

    def buildProtocol(self, addr):
        """
        A channel, or for a connection over C{maxConnections} a protocol
        that answers 503 and closes.
        """
        if self.openConnections >= self.maxConnections:
            return self._shed()
        return server.Site.buildProtocol(self, addr)

    def _shed(self):
        self.shedConnections += 1
        now = self.reactor.seconds()
        if now >= self._nextShedWarning:
            self._nextShedWarning = now + _SHED_WARNING_INTERVAL
            _log.warn("{open} connections are open, the most allowed: new ones are answered "
                      "503 ({shed} so far)", open=self.openConnections, shed=self.shedConnections)
        return _Shed()

    def log(self, request):
        """
        Write an access log line, if there is an access log.
        """
        if self.accessLog is not None:
            server.Site.log(self, request)


@implementer(IServiceFigures)
class WebService(PersistentService):
    """
    Serve C{resource} over HTTP on every endpoint description in C{ports},
    with the L{LIMITS} given by keyword (see L{LimitedSite}).

    @ivar site: the L{LimitedSite} while running, else L{None}.
    @ivar listeners: the L{ListeningService} of each port while running.
    """

    _volatile = ("site", "listeners")
    # Class defaults, so that a service pickled before these limits existed
    # gets them.
    headerTimeout = DEFAULT_HEADER_TIMEOUT
    bodyTimeout = DEFAULT_BODY_TIMEOUT
    maxConnections = DEFAULT_MAX_CONNECTIONS

    def __init__(self, resource: IResource, ports: Iterable[str],
                 maxBody: int = DEFAULT_MAX_BODY, timeout: float = DEFAULT_TIMEOUT,
                 accessLog: str | None = None, displayTracebacks: bool = False,
                 reactor: Any = None, headerTimeout: float = DEFAULT_HEADER_TIMEOUT,
                 bodyTimeout: float = DEFAULT_BODY_TIMEOUT,
                 maxConnections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        self.resource = resource
        self.ports = list(ports)
        self.accessLog = accessLog
        self.displayTracebacks = displayTracebacks
        self._reactor = reactor
        self._volatileInit()
        self.setLimits(maxBody=maxBody, timeout=timeout, headerTimeout=headerTimeout,
                       bodyTimeout=bodyTimeout, maxConnections=maxConnections)

    def _volatileInit(self):
        PersistentService._volatileInit(self)
        self.listeners = []

    def limits(self) -> dict[str, Any]:
        """
        The L{LIMITS} as a dict of keyword arguments.
        """
        return {name: getattr(self, name) for name in LIMITS}

    def setLimits(self, **limits: float) -> None:
        """
        Change some of the L{LIMITS}, by keyword, for the running site too.
        """
        self.__dict__.update(_checkedLimits(limits))
        if self.site is not None:
            self.site.setLimits(**limits)

    def buildSite(self) -> LimitedSite:
        """
        A new L{LimitedSite} for the configured resource and limits.
        """
        site = LimitedSite(self.resource, accessLog=self.accessLog, reactor=self._reactor,
                           **self.limits())
        site.displayTracebacks = self.displayTracebacks
        return site

    def _makeListeners(self):
        self._checkDescriptorLimit()
        self.site = self.buildSite()
        self.listeners = [ListeningService(description, self.site, self._reactor)
                          for description in self.ports]

    def _checkDescriptorLimit(self):
        limit = descriptorLimit()
        if self.maxConnections + FILE_HEADROOM > limit:
            _log.warn("max-connections {max} is more than the {limit} files this process may "
                      "open (ulimit -n) allow, with room for its other files: raise the limit "
                      "or lower max-connections, else new connections wait unanswered once the "
                      "files run out", max=self.maxConnections, limit=limit)

    def privilegedStartService(self) -> None:
        """
        Build the site and bind every port, raising if one cannot be bound.
        """
        PersistentService.privilegedStartService(self)
        self._makeListeners()
        for listener in self.listeners:
            listener.privilegedStartService()

    def startService(self) -> None:
        """
        Start, binding the ports if C{privilegedStartService} did not.
        """
        PersistentService.startService(self)
        if self.site is None:
            self._makeListeners()
        for listener in self.listeners:
            listener.startService()

    def stopService(self) -> defer.Deferred[Any]:
        """
        Stop listening; fires when every port is closed.
        """
        PersistentService.stopService(self)
        listeners, self.listeners, self.site = self.listeners, [], None
        return defer.gatherResults(
            [defer.maybeDeferred(listener.stopService) for listener in listeners]
        )

    def figures(self) -> dict[str, Any]:
        """
        The addresses the ports are bound to and their descriptions, and
        while running the open connections and those shed (answered 503)
        for being over C{maxConnections}.
        """
        figures = {"ports": [portAddress(listener.port) for listener in self.listeners
                             if listener.port is not None],
                   "configuredPorts": list(self.ports)}
        if self.site is not None:
            figures.update(openConnections=self.site.openConnections,
                           shedConnections=self.site.shedConnections)
        return figures
