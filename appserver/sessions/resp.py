"""
A small Redis protocol (RESP2) client on Twisted, for session stores: it
talks to our session server and to a real Redis alike.

L{ReplyParser} is the sans-I/O core; L{RedisProtocol} pipelines commands
over one connection (replies come back in order); L{RedisClient} keeps a
few such connections, reconnecting with back-off, authenticating and
selecting the database on each before using it.
"""

import dataclasses
from urllib.parse import unquote, urlsplit

from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet import defer, endpoints, protocol
from twisted.internet.error import ConnectionLost
from twisted.logger import Logger

from appserver.persisted import keepAlive

__all__ = [
    "RedisAddress", "parseRedisURL", "encodeCommand", "ReplyParser", "RedisError",
    "ProtocolError", "RedisProtocol", "RedisClient",
]

DEFAULT_PORT = 6379


class RedisError(Exception):
    """
    An error reply from the server, such as C{ERR wrong number of
    arguments}; the message is the reply's text.
    """


class ProtocolError(Exception):
    """
    The server sent bytes that are not RESP2.
    """


@dataclasses.dataclass(frozen=True)
class RedisAddress:
    """
    Where a Redis-protocol server is and how to log in to it.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    db: int = 0
    password: str | None = dataclasses.field(default=None, repr=False)
    username: str | None = None


def parseRedisURL(url):
    """
    Parse C{redis://[[user]:password@]host[:port][/db]}.

    @raise ValueError: with one sentence naming the URL, if it is not one.
    """
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    path = parts.path.strip("/")
    if parts.scheme != "redis" or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{url!r} is not a redis://[:password@]host[:port][/db] URL")
    if path and not path.isdigit():
        raise ValueError(f"{url!r} names database {path!r}, which is not a number")
    return RedisAddress(
        host=parts.hostname, port=port, db=int(path or 0),
        password=None if parts.password is None else unquote(parts.password),
        username=unquote(parts.username) if parts.username else None,
    )


def _bytes(arg):
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode("utf-8")
    if isinstance(arg, int):
        return str(arg).encode("ascii")
    raise TypeError(f"cannot send {type(arg).__name__} to Redis")


def encodeCommand(args):
    """
    A command (a sequence of bytes, str or int arguments) as a RESP array of
    bulk strings.
    """
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = _bytes(arg)
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class _Incomplete(Exception):
    pass


class ReplyParser:
    """
    Turn received bytes into replies: C{bytes} for simple and bulk strings,
    C{int}, L{None} for null, lists for arrays, L{RedisError} instances for
    error replies (returned, not raised).
    """

    def __init__(self):
        self._buffer = b""

    def feed(self, data):
        """
        Add C{data} and return the replies now complete, in order.

        @raise ProtocolError: if the bytes are not RESP2.
        """
        self._buffer += data
        replies = []
        position = 0
        while position < len(self._buffer):
            try:
                reply, position = self._parse(position)
            except _Incomplete:
                break
            replies.append(reply)
        self._buffer = self._buffer[position:]
        return replies

    def _line(self, position):
        end = self._buffer.find(b"\r\n", position)
        if end < 0:
            raise _Incomplete()
        return self._buffer[position + 1:end], end + 2

    def _int(self, text):
        try:
            return int(text)
        except ValueError:
            raise ProtocolError(f"expected an integer, got {text[:40]!r}") from None

    def _parse(self, position):
        kind = self._buffer[position:position + 1]
        line, position = self._line(position)
        if kind == b"+":
            return line, position
        if kind == b"-":
            return RedisError(line.decode("utf-8", "replace")), position
        if kind == b":":
            return self._int(line), position
        if kind == b"$":
            return self._bulk(self._int(line), position)
        if kind == b"*":
            return self._array(self._int(line), position)
        raise ProtocolError(f"unexpected reply type {kind!r}")

    def _bulk(self, length, position):
        if length < 0:
            return None, position
        end = position + length
        if len(self._buffer) < end + 2:
            raise _Incomplete()
        if self._buffer[end:end + 2] != b"\r\n":
            raise ProtocolError("a bulk string is not followed by CRLF")
        return self._buffer[position:end], end + 2

    def _array(self, length, position):
        if length < 0:
            return None, position
        items = []
        for _ in range(length):
            item, position = self._parse(position)
            items.append(item)
        return items, position


class RedisProtocol(protocol.Protocol):
    """
    One connection; commands are pipelined and answered in order.
    """

    def __init__(self):
        self._parser = ReplyParser()
        self._pending = []

    def execute(self, *args):
        """
        Send one command; the L{Deferred} fires with its reply, or fails
        with L{RedisError} for an error reply. Cancelling it drops the
        connection, since the replies would no longer line up.
        """
        d = defer.Deferred(lambda _: self.transport.abortConnection())
        self._pending.append(d)
        self.transport.write(encodeCommand(args))
        return d

    def dataReceived(self, data):
        try:
            replies = self._parser.feed(data)
        except ProtocolError:
            self.transport.abortConnection()
            return
        for reply in replies:
            if not self._pending:
                self.transport.abortConnection()
                return
            d = self._pending.pop(0)
            if d.called:
                continue
            if isinstance(reply, RedisError):
                d.errback(reply)
            else:
                d.callback(reply)

    def connectionLost(self, reason):
        pending, self._pending = self._pending, []
        for d in pending:
            if not d.called:
                d.errback(ConnectionLost(f"connection to the Redis server lost: {reason.getErrorMessage()}"))


class _Factory(protocol.Factory):
    protocol = RedisProtocol
    noisy = False


class RedisClient:
    """
    A few pipelined connections to one Redis-protocol server.

    Configuration pickles; connections exist between L{start} and L{stop}.

    @ivar url: the C{redis://} URL.
    @ivar address: the parsed L{RedisAddress}.
    @ivar poolSize: how many connections to spread commands over.
    @ivar timeout: seconds a command may wait for its reply before its
        connection is dropped and the command fails.
    """

    log = Logger()

    def __init__(self, url, poolSize=2, timeout=5.0, reactor=None):
        self.url = url
        self.address = parseRedisURL(url)
        self.poolSize = poolSize
        self.timeout = timeout
        self._reactor = reactor
        self._services = []
        self._next = 0

    def __getstate__(self):
        state = dict(self.__dict__, _reactor=None, _services=[], _next=0)
        return keepAlive(self, state)

    def _getReactor(self):
        if self._reactor is None:
            from twisted.internet import reactor

            self._reactor = reactor
        return self._reactor

    def start(self):
        """
        Start connecting (and keep reconnecting) to the server.
        """
        reactor = self._getReactor()
        endpoint = endpoints.TCP4ClientEndpoint(
            reactor, self.address.host, self.address.port, timeout=self.timeout
        ) if ":" not in self.address.host else endpoints.TCP6ClientEndpoint(
            reactor, self.address.host, self.address.port, timeout=self.timeout
        )
        for _ in range(self.poolSize):
            service = ClientService(
                endpoint, _Factory(), clock=reactor,
                retryPolicy=backoffPolicy(initialDelay=0.1, maxDelay=5.0),
                prepareConnection=self._prepare,
            )
            service.startService()
            self._services.append(service)

    def stop(self):
        """
        Close the connections; the L{Deferred} fires once they are closed.
        """
        services, self._services = self._services, []
        return defer.gatherResults([s.stopService() for s in services], consumeErrors=True)

    def _withTimeout(self, d):
        return d.addTimeout(self.timeout, self._getReactor())

    def _prepare(self, connection):
        commands = []
        if self.address.password is not None:
            credentials = [self.address.username] if self.address.username else []
            commands.append([b"AUTH", *credentials, self.address.password])
        if self.address.db:
            commands.append([b"SELECT", self.address.db])
        return self._send(connection, commands)

    def _send(self, connection, commands):
        return defer.gatherResults(
            [self._withTimeout(connection.execute(*command)) for command in commands],
            consumeErrors=True,
        ).addErrback(lambda f: f.value.subFailure)

    def _connection(self):
        if not self._services:
            return defer.fail(RuntimeError(f"the Redis client for {self.url} is not started"))
        service = self._services[self._next % len(self._services)]
        self._next += 1
        return service.whenConnected(failAfterFailures=1)

    def executeMany(self, commands):
        """
        Send C{commands} (lists of arguments) down one connection at once;
        the L{Deferred} fires with the list of their replies, or fails with
        the first failure (a L{RedisError} for an error reply).
        """
        return self._connection().addCallback(self._send, commands)

    def execute(self, *args):
        """
        Send one command; the L{Deferred} fires with its reply.
        """
        return self.executeMany([args]).addCallback(lambda replies: replies[0])
