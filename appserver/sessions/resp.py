"""
A small Redis protocol client on Twisted, for session stores: it talks to
our session server and to a real Redis alike.

The codec is L{services.resp}'s (requests written with C{encodeCommand},
replies read with C{makeReplyParser}, the C{hiredis} reader when that
optional package is installed); L{RedisProtocol} pipelines commands over
one connection (replies come back in order); L{RedisClient} keeps a few
such connections, reconnecting with back-off, authenticating and selecting
the database on each before using it.
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

from services.db.url import maskURL
from services.persistence import PersistentObject
from services.resp import ProtocolError, ReplyError, encodeCommand, makeReplyParser

__all__ = ["RedisAddress", "parseRedisURL", "RedisError", "RedisProtocol", "RedisClient"]

DEFAULT_PORT = 6379


class RedisError(ReplyError):
    """
    An error reply from the server, such as C{ERR wrong number of
    arguments}, as the client's callers get it (a command's L{Deferred}
    fails with it); the message is the reply's text.
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
        self._parser = makeReplyParser(RedisError)
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
    parser = makeReplyParser(RedisError)
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
        @raise ProtocolError: if the server does not speak RESP.
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
