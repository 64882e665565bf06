"""
The Redis protocol over a Twisted transport: bytes in go to a
L{resp.Parser}, each command to L{commands.Server.execute}, and replies go
out strictly in order, batched per read.

A client that sends faster than it reads is not buffered without bound: the
protocol registers itself as a streaming producer with its transport, and
when the transport's write buffer is full it stops both executing buffered
commands and reading from the socket until the buffer drains.
"""

from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Factory, Protocol
from zope.interface import implementer

from services.sessionserver.resp import Parser, ProtocolError, ReplyError, encode

__all__ = ["RedisProtocol", "RedisFactory"]

FLUSH_BYTES = 64 * 1024


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
        peer = self.transport.getPeer()
        address = f"{getattr(peer, 'host', '')}:{getattr(peer, 'port', '')}"
        self.client = self.factory.server.connect(address)
        self.parser = Parser(authenticated=self.client.authenticated)
        self.transport.registerProducer(self, True)

    def dataReceived(self, data):
        """
        Parse and execute every complete command received so far.
        """
        if self._closed:
            return
        self.parser.feed(data)
        self._process()

    def _process(self):
        server, client, parser = self.factory.server, self.client, self.parser
        out, size = [], 0
        while not self._paused and not self._closed:
            try:
                args = parser.next()
            except ProtocolError as e:
                out.append(encode(ReplyError("ERR " + e.args[0])))
                self._close(out)
                return
            if args is None:
                break
            reply = encode(server.execute(client, args), client.resp3)
            out.append(reply)
            parser.authenticated = client.authenticated
            if client.closing:
                self._close(out)
                return
            size += len(reply)
            if size >= FLUSH_BYTES:
                self._send(out)
                out, size = [], 0
        self._send(out)

    def _send(self, out):
        if out:
            self.factory.server.commit()
            self.transport.write(b"".join(out))

    def _close(self, out):
        self._send(out)
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


class RedisFactory(Factory):
    """
    Builds L{RedisProtocol}s sharing one L{commands.Server}; picklable.

    @ivar server: the L{services.sessionserver.commands.Server}.
    """

    protocol = RedisProtocol

    def __init__(self, server):
        self.server = server
