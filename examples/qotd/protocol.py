"""
The Quote of the Day protocol (RFC 865) and its factory.
"""

from twisted.internet import defer, protocol
from twisted.logger import Logger

__all__ = ["MAX_QUOTE_LENGTH", "QOTD", "QOTDFactory"]

MAX_QUOTE_LENGTH = 512
"""
RFC 865 asks for quotes under 512 characters; longer ones are cut to their
first 512 characters, so a client never receives more than that.
"""


def formatQuote(quote):
    """
    Encode a quote for the wire: at most L{MAX_QUOTE_LENGTH} characters of
    UTF-8, then CRLF.
    """
    return quote[:MAX_QUOTE_LENGTH].encode("utf-8") + b"\r\n"


class QOTD(protocol.Protocol):
    """
    On connection: send one quote and close.
    """

    log = Logger()

    def connectionMade(self):
        d = defer.maybeDeferred(self.factory.quoter.getQuote)
        d.addCallback(self._sendQuote)
        d.addErrback(self._quoteFailed)
        d.addBoth(lambda _: self.transport.loseConnection())

    def _sendQuote(self, quote):
        self.transport.write(formatQuote(quote))

    def _quoteFailed(self, failure):
        self.log.failure("Getting a quote for {peer}", failure,
                         peer=self.transport.getPeer())


class QOTDFactory(protocol.Factory):
    """
    Make L{QOTD} protocols that ask C{quoter} for their quote.

    @ivar quoter: an L{qotd.quoters.IQuoter} provider.
    """

    protocol = QOTD
    noisy = False

    def __init__(self, quoter):
        self.quoter = quoter
