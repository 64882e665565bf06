"""
A small Redis protocol (RESP2) client on Twisted, for session stores: it
talks to our session server and to a real Redis alike.

L{ReplyParser} is the sans-I/O core (L{makeReplyParser} gives the
C{hiredis} reader behind the same interface when that optional package is
installed: it parses about ten times faster); L{RedisProtocol} pipelines
commands over one connection (replies come back in order); L{RedisClient}
keeps a few such connections, reconnecting with back-off, authenticating
and selecting the database on each before using it.
"""

import collections
import dataclasses
import operator
import socket
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from twisted.internet import defer, endpoints, protocol
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure

try:
    import hiredis
except ImportError:
    hiredis = None  # type: ignore[assignment]

from services.db.url import maskURL
from services.persistence import PersistentObject

__all__ = [
    "RedisAddress", "parseRedisURL", "encodeCommand", "ReplyParser", "HiredisReplyParser",
    "makeReplyParser", "RedisError",
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


def parseRedisURL(url: str) -> RedisAddress:
    """
    Parse C{redis://[[user]:password@]host[:port][/db]}.

    @raise ValueError: with one sentence naming the URL, if it is not one.
    """
    parts = urlsplit(url)
    shown = maskURL(url)
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"{shown!r} has an invalid port") from None
    path = parts.path.strip("/")
    if parts.scheme != "redis" or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{shown!r} is not a redis://[:password@]host[:port][/db] URL")
    if path and not path.isdigit():
        raise ValueError(f"{shown!r} names database {path!r}, which is not a number")
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


def encodeCommand(args: Sequence[bytes | str | int]) -> bytes:
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

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[Any]:
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


class HiredisReplyParser:
    """
    A L{ReplyParser} made of the C{hiredis} package's reader: the same
    replies, errors and L{ProtocolError}, parsed in C.
    """

    def __init__(self) -> None:
        self._reader = hiredis.Reader(protocolError=ProtocolError, replyError=RedisError)

    def feed(self, data: bytes) -> list[Any]:
        """
        See L{ReplyParser.feed}.
        """
        reader = self._reader
        reader.feed(data)
        replies = []
        reply = reader.gets()
        while reply is not False:
            replies.append(reply)
            reply = reader.gets()
        return replies


def makeReplyParser() -> ReplyParser | HiredisReplyParser:
    """
    A new L{HiredisReplyParser} if C{hiredis} is installed, else a new
    L{ReplyParser}.
    """
    return ReplyParser() if hiredis is None else HiredisReplyParser()


class RedisProtocol(protocol.Protocol):
    """
    One connection; commands are pipelined and answered in order.

    @ivar lost: a L{Deferred} firing with this protocol when the
        connection is gone.
    @ivar timeout: seconds a command may wait for its reply, or L{None} for
        no limit; a command waiting longer fails with
        L{defer.TimeoutError} and the connection is dropped.
    @ivar clock: the L{IReactorTime} that C{timeout} is measured with.
    """

    timeout: float | None = None
    clock: Any = None
    # Any: mypy reads the methods of zope interfaces (ITransport) as taking
    # no self.
    transport: Any

    def __init__(self) -> None:
        self._parser = makeReplyParser()
        self._pending: collections.deque[Any] = collections.deque()
        self._watchdog = None
        self.lost: defer.Deferred[RedisProtocol] = defer.Deferred()

    def execute(self, *args: bytes | str | int) -> defer.Deferred[Any]:
        """
        Send one command; the L{Deferred} fires with its reply, or fails
        with L{RedisError} for an error reply. Cancelling it drops the
        connection, since the replies would no longer line up.
        """
        return self.executeMany([args]).addCallback(operator.itemgetter(0))

    def executeMany(self, commands: Sequence[Sequence[bytes | str | int]]
                    ) -> defer.Deferred[list[Any]]:
        """
        Send C{commands} (at least one; each a sequence of arguments) in one
        write; the L{Deferred} fires with the list of their replies once all
        have come, or fails with the first L{RedisError} among them.
        Cancelling it drops the connection, as for L{execute}.
        """
        d: defer.Deferred[list[Any]] = defer.Deferred(self._abort)
        sentAt = None
        if self.timeout is not None:
            sentAt = self.clock.seconds()
            if self._watchdog is None:
                self._watchdog = self.clock.callLater(self.timeout, self._watch)
        self._pending.append((d, len(commands), [], sentAt))
        self.transport.write(b"".join([encodeCommand(args) for args in commands]))
        return d

    def _abort(self, ignored=None):
        self.transport.abortConnection()

    def _watch(self):
        """
        Fail the commands waiting longer than C{timeout} and drop the
        connection, or look again when the oldest would be overdue: one
        timer per connection rather than one per command.
        """
        self._watchdog = None
        if not self._pending:
            return
        overdue = self._pending[0][3] + self.timeout - self.clock.seconds()
        if overdue > 0:
            self._watchdog = self.clock.callLater(overdue, self._watch)
            return
        now = self.clock.seconds()
        for d, _, _, sentAt in list(self._pending):
            if sentAt + self.timeout <= now and not d.called:
                d.errback(defer.TimeoutError(f"no reply within {self.timeout} seconds"))
        self._abort()

    def dataReceived(self, data: bytes) -> None:
        try:
            replies = self._parser.feed(data)
        except ProtocolError:
            self.transport.abortConnection()
            return
        for reply in replies:
            if not self._pending:
                self.transport.abortConnection()
                return
            d, count, received, _ = self._pending[0]
            received.append(reply)
            if len(received) == count:
                self._pending.popleft()
                _answer(d, received)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        pending, self._pending = self._pending, collections.deque()
        for d, _, _, _ in pending:
            if not d.called:
                d.errback(ConnectionLost(reason.getErrorMessage()))
        self.lost.callback(self)


def _answer(d, replies):
    """
    Fire C{d} with C{replies}, or with the first error among them.
    """
    if d.called:
        return
    for reply in replies:
        if isinstance(reply, RedisError):
            d.errback(reply)
            return
    d.callback(replies)


def _receiveReplies(connection, count, deadline):
    """
    Read C{count} replies from the blocking socket C{connection} before
    the C{time.monotonic()} C{deadline}.
    """
    parser = makeReplyParser()
    replies = []
    while len(replies) < count:
        connection.settimeout(max(deadline - time.monotonic(), 0.001))
        data = connection.recv(65536)
        if not data:
            raise ConnectionResetError("the server closed the connection")
        replies += parser.feed(data)
    return replies


class _Slot:
    """
    One pooled connection: made on first use, prepared (AUTH, SELECT) before
    use, and made again on the next use after it is lost.
    """

    def __init__(self, client):
        self._client = client
        self.protocol = None
        self._waiting = None

    def connection(self):
        """
        A L{Deferred} firing with a prepared L{RedisProtocol}; see also
        C{protocol}, that connection when it is ready, else L{None}.
        """
        if self.protocol is not None:
            return defer.succeed(self.protocol)
        d = defer.Deferred()
        if self._waiting is None:
            self._waiting = [d]
            self._client._connect().addCallbacks(self._connected, self._failed)
        else:
            self._waiting.append(d)
        return d

    def _connected(self, connection):
        self.protocol = connection
        connection.lost.addCallback(self._lost)
        self._fire(lambda d: d.callback(connection))

    def _failed(self, failure):
        self._fire(lambda d: d.errback(failure))

    def _fire(self, fire):
        waiting, self._waiting = self._waiting, None
        for d in waiting:
            fire(d)

    def _lost(self, connection):
        if self.protocol is connection:
            self.protocol = None

    def close(self):
        """
        Close the connection, if there is one.
        """
        connection, self.protocol = self.protocol, None
        if connection is None:
            return defer.succeed(None)
        connection.transport.loseConnection()
        return connection.lost


class RedisClient(PersistentObject):
    """
    A few pipelined connections to one Redis-protocol server.

    Connections are made when first needed and made again after they are
    lost, each authenticated and switched to the URL's database before any
    command is sent on it; a command fails (rather than waits) while the
    server is unreachable. Configuration pickles; connections do not.

    @ivar url: the C{redis://} URL.
    @ivar address: the parsed L{RedisAddress}.
    @ivar poolSize: how many connections to spread commands over.
    @ivar timeout: seconds a connection attempt, or a command waiting for
        its reply, may take before it fails (the command's connection is
        then dropped).
    """

    _volatile = ("address", "_slots", "_next")

    def __init__(self, url: str, poolSize: int = 2, timeout: float = 5.0,
                 reactor: Any = None) -> None:
        self.url = url
        self.poolSize = poolSize
        self.timeout = timeout
        self._reactor = reactor
        self._volatileInit()

    def _volatileInit(self):
        PersistentObject._volatileInit(self)
        self.address = parseRedisURL(self.url)
        self._slots = []
        self._next = 0

    def start(self) -> None:
        """
        Allow connections to be made.
        """
        self._slots = [_Slot(self) for _ in range(self.poolSize)]

    def stop(self) -> defer.Deferred[Any]:
        """
        Close the connections; the L{Deferred} fires once they are closed.
        """
        slots, self._slots = self._slots, []
        return defer.gatherResults([slot.close() for slot in slots], consumeErrors=True)

    def _connect(self):
        reactor = self._getReactor()
        endpointType = (endpoints.TCP6ClientEndpoint if ":" in self.address.host
                        else endpoints.TCP4ClientEndpoint)
        endpoint = endpointType(reactor, self.address.host, self.address.port, timeout=self.timeout)
        d = endpoint.connect(protocol.Factory.forProtocol(RedisProtocol))
        return d.addCallback(self._prepare)

    def _setUpCommands(self):
        """
        The commands that prepare a connection: C{AUTH} with the URL's
        credentials, C{SELECT} of its database.
        """
        commands = []
        if self.address.password is not None:
            credentials = [self.address.username] if self.address.username else []
            commands.append([b"AUTH", *credentials, self.address.password])
        if self.address.db:
            commands.append([b"SELECT", self.address.db])
        return commands

    def _prepare(self, connection):
        connection.timeout = self.timeout
        connection.clock = self._getReactor()
        d = self._send(connection, self._setUpCommands())
        d.addErrback(self._unprepared, connection)
        return d.addCallback(lambda _: connection)

    def checkNow(self) -> None:
        """
        Check, blocking, that the server can be used: connect, prepare the
        connection as every connection is (C{AUTH}, C{SELECT}) and C{PING},
        all within C{timeout} seconds. For start-up, before the reactor
        runs; it needs no L{start}.

        @raise OSError: if the server cannot be reached, closes the
            connection, or does not answer in time (L{TimeoutError}).
        @raise RedisError: for an error reply, such as a wrong password or
            a database the server does not have.
        @raise ProtocolError: if the server does not speak RESP2.
        """
        commands = self._setUpCommands() + [[b"PING"]]
        deadline = time.monotonic() + self.timeout
        address = (self.address.host, self.address.port)
        with socket.create_connection(address, timeout=self.timeout) as connection:
            connection.sendall(b"".join([encodeCommand(args) for args in commands]))
            replies = _receiveReplies(connection, len(commands), deadline)
        for reply in replies:
            if isinstance(reply, RedisError):
                raise reply

    def _unprepared(self, failure, connection):
        connection.transport.loseConnection()
        return failure

    def _send(self, connection, commands):
        if not commands:
            return defer.succeed([])
        return connection.executeMany(commands)

    def executeMany(self, commands: Sequence[Sequence[bytes | str | int]]
                    ) -> defer.Deferred[list[Any]]:
        """
        Send C{commands} (lists of arguments) down one connection at once;
        the L{Deferred} fires with the list of their replies, or fails with
        the first failure (a L{RedisError} for an error reply).
        """
        if not self._slots:
            return defer.fail(RuntimeError(f"the Redis client for {self.url} is not started"))
        slot = self._slots[self._next % len(self._slots)]
        self._next += 1
        if slot.protocol is not None:
            return self._send(slot.protocol, commands)
        return slot.connection().addCallback(self._send, commands)

    def execute(self, *args: bytes | str | int) -> defer.Deferred[Any]:
        """
        Send one command; the L{Deferred} fires with its reply.
        """
        return self.executeMany([args]).addCallback(lambda replies: replies[0])
