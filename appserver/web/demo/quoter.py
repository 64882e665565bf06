"""
The demo's quotes for the Quote of the Day service: a quoter that reads
them from the database, so a quote added on the web page is served on the
QOTD port too.
"""

from zope.interface import implementer

from appserver.web.demo.store import QuoteStore
from qotd.quoters import IQuoter

__all__ = ["DatabaseQuoter", "formatQuote"]


def formatQuote(quote):
    """
    A demo quote as one line of text: C{"text — author"}, or the text alone
    when it has no author, or C{""} for no quote at all.
    """
    if quote is None:
        return ""
    if quote["author"]:
        return f"{quote['text']} \N{EM DASH} {quote['author']}"
    return quote["text"]


@implementer(IQuoter)
class DatabaseQuoter:
    """
    Return a random quote of the demo's table, without blocking the reactor:
    L{getQuote} returns a Deferred (the query runs in the database pool).

    Only the database service is kept, so the quoter pickles with the
    service tree and works again once that service has started.

    @ivar db: the L{services.db.DatabaseService} holding the quotes.
    """

    def __init__(self, db):
        self.db = db

    def getQuote(self):
        """
        A Deferred firing with a random quote (see L{formatQuote}), or
        failing if the database cannot be reached.
        """
        return QuoteStore(self.db).random().addCallback(formatQuote)
