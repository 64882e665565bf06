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
 - connections idle for C{timeout} seconds are closed, so slow or stalled
   clients cannot hold connections forever;
 - request heads are bounded by twisted.web itself (16 KiB, 500 headers).
"""

from twisted.internet import defer
from twisted.web import http, server

from appserver.persisted import PersistentService
from appserver.ports import ListeningService

__all__ = ["WebService", "LimitedSite", "LimitedChannel", "LimitedRequest",
           "DEFAULT_MAX_BODY", "DEFAULT_TIMEOUT", "HOST_REQUIRED", "plainResponse"]

DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_TIMEOUT = 60

HOST_REQUIRED = b"Bad Request: send exactly one Host header."


def plainResponse(status, reason, body=None):
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


class LimitedChannel(http.HTTPChannel):
    """
    An HTTP/1.1 channel that refuses requests without exactly one C{Host}
    header (see the module docstring).
    """

    def allHeadersReceived(self):
        """
        Refuse the request if its C{Host} headers are wrong, then go on as
        usual (a refused request reads no body and is never served).
        """
        if not _hostCountValid(self.requests[-1], self._version):
            self.requests[-1].refuse(_BAD_HOST)
        http.HTTPChannel.allHeadersReceived(self)


class LimitedSite(server.Site):
    """
    A L{server.Site} with a request body limit and a choice of access log.

    @ivar maxBody: the largest request body accepted, in bytes.
    @ivar accessLog: L{None} for no access log, C{"-"} for the Twisted log,
        or a file path; lines are in the combined log format.
    """

    requestFactory = LimitedRequest
    # The channel itself rather than Twisted's HTTP/1.1-or-2 switch, which
    # would bypass these limits on a connection that negotiated HTTP/2.
    protocol = LimitedChannel

    def __init__(self, resource, maxBody=DEFAULT_MAX_BODY, timeout=DEFAULT_TIMEOUT,
                 accessLog=None, reactor=None):
        logPath = accessLog if accessLog not in (None, "-") else None
        server.Site.__init__(self, resource, logPath=logPath, timeout=timeout,
                             reactor=reactor)
        self.maxBody = maxBody
        self.accessLog = accessLog

    def log(self, request):
        """
        Write an access log line, if there is an access log.
        """
        if self.accessLog is not None:
            server.Site.log(self, request)


class WebService(PersistentService):
    """
    Serve C{resource} over HTTP on every endpoint description in C{ports}.

    @ivar site: the L{LimitedSite} while running, else L{None}.
    @ivar listeners: the L{ListeningService} of each port while running.
    """

    _volatile = ("_reactor", "site", "listeners")

    def __init__(self, resource, ports, maxBody=DEFAULT_MAX_BODY, timeout=DEFAULT_TIMEOUT,
                 accessLog=None, displayTracebacks=False, reactor=None):
        self.resource = resource
        self.ports = list(ports)
        self.maxBody = maxBody
        self.timeout = timeout
        self.accessLog = accessLog
        self.displayTracebacks = displayTracebacks
        self._reactor = reactor
        self.site = None
        self.listeners = []

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._reactor = None
        self.site = None
        self.listeners = []

    def buildSite(self):
        """
        A new L{LimitedSite} for the configured resource and limits.
        """
        site = LimitedSite(self.resource, self.maxBody, self.timeout, self.accessLog,
                           reactor=self._reactor)
        site.displayTracebacks = self.displayTracebacks
        return site

    def _makeListeners(self):
        self.site = self.buildSite()
        self.listeners = [ListeningService(description, self.site, self._reactor)
                          for description in self.ports]

    def privilegedStartService(self):
        """
        Build the site and bind every port, raising if one cannot be bound.
        """
        PersistentService.privilegedStartService(self)
        self._makeListeners()
        for listener in self.listeners:
            listener.privilegedStartService()

    def startService(self):
        """
        Start, binding the ports if C{privilegedStartService} did not.
        """
        PersistentService.startService(self)
        if self.site is None:
            self._makeListeners()
        for listener in self.listeners:
            listener.startService()

    def stopService(self):
        """
        Stop listening; fires when every port is closed.
        """
        PersistentService.stopService(self)
        listeners, self.listeners, self.site = self.listeners, [], None
        return defer.gatherResults(
            [defer.maybeDeferred(listener.stopService) for listener in listeners]
        )
