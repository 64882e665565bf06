"""
The Redis protocol over a Twisted transport: bytes in go to a
L{services.resp.RequestParser}, each command to L{commands.Server.execute}, and replies go
out strictly in order, batched per read. The journal is committed before a
batch of replies is sent; if that fails, the replies of the commands that
changed something become errors (and their changes are undone).

A client that sends faster than it reads is not buffered without bound: the
protocol registers itself as a streaming producer with its transport, and
when the transport's write buffer is full it stops both executing buffered
commands and reading from the socket until the buffer drains.
"""

from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Factory, Protocol
from zope.interface import implementer

from services.sessionserver.commands import Server
from services.sessionserver.journal import JournalWriteError
from services.resp import ProtocolError, ReplyError, RequestParser, encode

__all__ = ["RedisProtocol", "RedisFactory", "MISCONF"]

FLUSH_BYTES = 64 * 1024
MISCONF = "MISCONF Errors writing to the AOF file: "
"""Redis's reply to a write its append-only file could not take."""


@implementer(IPushProducer)
class RedisProtocol(Protocol):
    """
    One client connection speaking RESP.
    """

    client = None
    _paused = False
    _closed = False

    def connectionMade(self):
        """
        Register the client and become the transport's producer.
        """
        self.client = self.factory.server.connect(
            _hostPort(self.transport.getPeer()), _hostPort(self.transport.getHost()))
        self.client.fd = getattr(self.transport, "fileno", lambda: -1)()
        self.client.kill = self._kill
        self.parser = RequestParser(authenticated=self.client.authenticated)
        self.transport.registerProducer(self, True)

    def dataReceived(self, data):
        """
        Parse and execute every complete command received so far (the
        client's last interaction, for C{CLIENT LIST}'s C{idle}, is now).
        """
        if self._closed:
            return
        self.client.lastInteraction = self.factory.server.store.now()
        self.parser.feed(data)
        self._process()

    def _process(self):
        client, parser = self.client, self.parser
        out, changed, size = [], [], 0
        while not self._paused and not self._closed:
            try:
                args = parser.next()
            except ProtocolError as e:
                out.append(encode(ReplyError("ERR " + e.args[0])))
                self._close(out, changed)
                return
            if args is None:
                break
            reply, changes = self._execute(args)
            if changes:
                changed.append(len(out))
            out.append(reply)
            parser.authenticated = client.authenticated
            if client.closing:
                self._close(out, changed)
                return
            size += len(reply)
            if size >= FLUSH_BYTES:
                self._send(out, changed)
                out, changed, size = [], [], 0
        self._send(out, changed)

    def _execute(self, args):
        """
        Run one command: its encoded reply, and whether it changed anything
        the journal has to write before the reply may be sent.
        """
        server, client = self.factory.server, self.client
        journal = server.journal
        if journal is None:
            return encode(server.execute(client, args), client.resp3), False
        pending = journal.pendingCount
        reply = encode(server.execute(client, args), client.resp3)
        return reply, journal.pendingCount != pending

    def _send(self, out, changed):
        """
        Commit the changes made by the commands whose replies are in C{out}
        (at the indexes C{changed}), then send the replies; if the changes
        could not be journaled, they were undone and those commands are
        answered with Redis's C{MISCONF} error instead.
        """
        if not out:
            return
        try:
            self.factory.server.commit()
        except JournalWriteError as e:
            error = encode(ReplyError(MISCONF + e.strerror), self.client.resp3)
            for index in changed:
                out[index] = error
        self.transport.write(b"".join(out))

    def _close(self, out, changed):
        self._send(out, changed)
        self._closed = True
        self.transport.loseConnection()

    def _kill(self):
        """
        Close the connection now, unanswered (C{CLIENT KILL} from another
        client).
        """
        self._closed = True
        self.transport.loseConnection()

    def pauseProducing(self):
        """
        The transport's buffer is full: stop executing and reading.
        """
        self._paused = True
        self.transport.pauseProducing()

    def resumeProducing(self):
        """
        The transport drained: run the commands already received, then read
        again unless that filled the buffer once more.
        """
        self._paused = False
        self._process()
        if not self._paused and not self._closed:
            self.transport.resumeProducing()

    def stopProducing(self):
        """
        The connection is going away; nothing more will be written.
        """
        self._closed = True

    def connectionLost(self, reason):
        """
        Forget the client.
        """
        if self.client is not None:
            self.factory.server.disconnect(self.client)


def _hostPort(address):
    """
    C{host:port} of a transport's address (empty parts when it has none).
    """
    return f"{getattr(address, 'host', '')}:{getattr(address, 'port', '')}"


class RedisFactory(Factory):
    """
    Builds L{RedisProtocol}s sharing one L{commands.Server}; picklable.

    @ivar server: the L{services.sessionserver.commands.Server}.
    """

    protocol = RedisProtocol

    def __init__(self, server: Server) -> None:
        self.server = server
