"""
Listening ports for every command of ours.

A port option takes a bare number (C{8007} means C{tcp:8007}) or any Twisted
endpoint description (C{tcp:8007:interface=127.0.0.1}, C{unix:/run/q.sock},
C{ssl:443:privateKey=key.pem}, C{systemd:domain=INET:index=0}).

TCP, TLS and UNIX ports listen with a backlog (the kernel's queue of
connections not yet accepted) of L{DEFAULT_BACKLOG}, as gunicorn does, so
that a burst of connections waits instead of being dropped (Twisted's own
default is 50); a C{backlog=N} in the description wins. The kernel caps it
at C{net.core.somaxconn}.

L{ListeningService} keeps only the description string and the factory, so a
configured service tree pickles; the endpoint is built and bound in
C{privilegedStartService} (before C{twistd --uid} drops root), or in
C{startService} under C{twist}, which never calls C{privilegedStartService}.
"""

from typing import Any

from twisted.application import service
from twisted.application.internet import StreamServerEndpointService
from twisted.internet import endpoints
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory
from twisted.internet.error import CannotListenError
from zope.interface import implementer

from services.errors import StartupError
from services.figures import IServiceFigures, portAddress
from services.persistence import PersistentService

__all__ = ["parsePort", "withBacklog", "ListeningService", "DEFAULT_BACKLOG"]

DEFAULT_BACKLOG = 2048

_BACKLOG_TYPES = frozenset(("tcp", "tcp6", "ssl", "unix"))


def parsePort(value: object) -> str:
    """
    Turn a C{--port} value into an endpoint description string.

    @param value: a port number or an endpoint description.
    @raise ValueError: with one sentence naming the value, if it is neither.
    """
    text = str(value).strip()
    if text.isdigit():
        number = int(text)
        if not 0 <= number <= 65535:
            raise ValueError(f"port {text} is out of range (0-65535)")
        return f"tcp:{number}"
    try:
        endpoints._parseServer(text, None)
    except Exception as e:
        raise ValueError(
            f"{text!r} is neither a port number nor an endpoint description ({e})"
        ) from None
    return text


parsePort.coerceDoc = "A port number or a Twisted endpoint description."  # type: ignore[attr-defined]


def withBacklog(description: str, backlog: int = DEFAULT_BACKLOG) -> str:
    """
    C{description} with C{backlog} added, for an endpoint type that takes
    one and a description that does not give its own.
    """
    args, kwargs = endpoints._parse(description)
    if args and args[0].lower() in _BACKLOG_TYPES and "backlog" not in kwargs:
        return f"{description}:backlog={backlog}"
    return description


@implementer(IServiceFigures)
class ListeningService(PersistentService):
    """
    Listen on an endpoint description with a factory, picklable.

    @ivar description: the endpoint description string.
    @ivar factory: the protocol factory to listen with.
    @ivar port: the L{IListeningPort} once listening, else L{None}.
    """

    _volatile = ("_endpointService", "port")
    _endpointService: StreamServerEndpointService | None

    def __init__(self, description: str, factory: Factory, reactor: Any = None) -> None:
        self.description = description
        self.factory = factory
        self._reactor = reactor
        self._volatileInit()

    def _listen(self):
        try:
            endpoint = endpoints.serverFromString(self._getReactor(),
                                                  withBacklog(self.description))
            self._endpointService = StreamServerEndpointService(endpoint, self.factory)
            self._endpointService._raiseSynchronously = True
            self._endpointService.privilegedStartService()
        except CannotListenError as e:
            self._endpointService = None
            reason = getattr(e.socketError, "strerror", None) or e.socketError
            raise StartupError(f"{reason}: cannot listen on {self.description}") from e
        except (OSError, ValueError) as e:
            self._endpointService = None
            raise StartupError(f"{e}: cannot listen on {self.description}") from e
        self._endpointService._waitingForPort.addCallback(self._listening)

    def _listening(self, port):
        self.port = port
        return port

    def privilegedStartService(self) -> None:
        """
        Bind the port, raising the reason if it cannot be bound.
        """
        service.Service.privilegedStartService(self)
        self._listen()

    def startService(self) -> None:
        """
        Start, binding the port first if C{privilegedStartService} did not.
        """
        service.Service.startService(self)
        if self._endpointService is None:
            self._listen()

    def stopService(self) -> Deferred[None] | None:
        """
        Stop listening; the returned Deferred fires once the port is closed.
        """
        service.Service.stopService(self)
        endpointService, self._endpointService = self._endpointService, None
        self.port = None
        if endpointService is not None:
            return endpointService.stopService()
        return None

    def figures(self) -> dict[str, Any]:
        """
        While listening, the address bound and the description it came
        from; nothing otherwise.
        """
        if self.port is None:
            return {}
        return {"ports": [portAddress(self.port)], "configuredPorts": [self.description]}
