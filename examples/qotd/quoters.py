"""
The heart of Quote of the Day: objects that return quotes.

This module imports nothing from Twisted, on purpose: the business object
knows nothing of networks, so any interface (a TCP protocol, a web page, a
database-backed service) can be put in front of it.
"""

import random

from zope.interface import Interface, implementer

__all__ = ["IQuoter", "StaticQuoter", "FortuneQuoter", "parseFortunes"]


class IQuoter(Interface):
    """
    An object that returns quotes.
    """

    def getQuote():
        """
        Return a quote as a L{str}.

        A quoter that must wait for its quote (a database, say) may instead
        return a Deferred that fires with the quote; the QOTD protocol
        accepts both.
        """


@implementer(IQuoter)
class StaticQuoter:
    """
    Return the same quote every time.
    """

    def __init__(self, quote):
        self.quote = quote

    def getQuote(self):
        return self.quote


def parseFortunes(data):
    """
    Split the bytes of a fortune-format file into quotes.

    Quotes are separated by a line holding only C{%}. CRLF line ends are
    accepted, empty quotes (a trailing C{%}, say) are dropped, and bytes that
    are not UTF-8 are replaced rather than refused.

    @rtype: L{list} of L{str}
    """
    text = data.decode("utf-8", errors="replace")
    quotes, current = [], []
    for line in text.splitlines():
        if line.rstrip() == "%":
            quotes.append("\n".join(current).strip())
            current = []
        else:
            current.append(line)
    quotes.append("\n".join(current).strip())
    return [quote for quote in quotes if quote]


@implementer(IQuoter)
class FortuneQuoter:
    """
    Return a random quote from one or more fortune-format files.

    The files are read once, when the first quote is asked for; a pickled
    quoter keeps only the file names.

    @ivar filenames: the paths of the fortune files.
    """

    def __init__(self, filenames, choice=random.choice):
        self.filenames = list(filenames)
        self._choice = choice
        self._quotes = None

    def __getstate__(self):
        return {"filenames": self.filenames}

    def __setstate__(self, state):
        self.__init__(state["filenames"])

    def load(self):
        """
        Read every file and return all of their quotes.

        @raise OSError: if a file cannot be read.
        """
        quotes = []
        for name in self.filenames:
            with open(name, "rb") as f:
                quotes.extend(parseFortunes(f.read()))
        self._quotes = quotes
        return quotes

    def getQuote(self):
        quotes = self._quotes if self._quotes is not None else self.load()
        return self._choice(quotes) if quotes else ""
