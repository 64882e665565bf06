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
 - connections idle for C{timeout} seconds are closed, so slow or stalled
   clients cannot hold connections forever;
 - request heads are bounded by twisted.web itself (16 KiB, 500 headers).
"""

from twisted.internet import defer
from twisted.web import server

from appserver.persisted import PersistentService
from appserver.ports import ListeningService

__all__ = ["WebService", "LimitedSite", "LimitedRequest", "DEFAULT_MAX_BODY",
           "DEFAULT_TIMEOUT"]

DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_TIMEOUT = 60

_TOO_LARGE = (
    b"HTTP/1.1 413 Payload Too Large\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 17\r\n"
    b"Connection: close\r\n\r\n"
    b"Payload Too Large"
)


class LimitedRequest(server.Request):
    """
    A request whose body may not exceed its site's C{maxBody} bytes.
    """

    _bodyRejected = False
    _bodyReceived = 0

    def gotLength(self, length):
        """
        Refuse a declared length over the limit before reading any body.
        """
        if length is not None and length > self.channel.site.maxBody:
            self._rejectBody()
        else:
            server.Request.gotLength(self, length)

    def handleContentChunk(self, data):
        """
        Count body bytes (chunked bodies declare no length) and refuse the
        request as soon as they pass the limit.
        """
        if self._bodyRejected:
            return
        self._bodyReceived += len(data)
        if self._bodyReceived > self.channel.site.maxBody:
            self._rejectBody()
        else:
            server.Request.handleContentChunk(self, data)

    def requestReceived(self, command, path, version):
        """
        Process the request unless its body was refused.
        """
        if not self._bodyRejected:
            server.Request.requestReceived(self, command, path, version)

    def _rejectBody(self):
        self._bodyRejected = True
        self.content = None
        # No "100 Continue" after our answer: the client must not send.
        self.requestHeaders.removeHeader(b"expect")
        channel = self.channel
        channel.transport.write(_TOO_LARGE)
        channel.loseConnection()


class LimitedSite(server.Site):
    """
    A L{server.Site} with a request body limit and a choice of access log.

    @ivar maxBody: the largest request body accepted, in bytes.
    @ivar accessLog: L{None} for no access log, C{"-"} for the Twisted log,
        or a file path; lines are in the combined log format.
    """

    requestFactory = LimitedRequest

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
