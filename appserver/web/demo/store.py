"""
Where the demo keeps its quotes: in memory for now.

Every method returns a Deferred, so a store backed by a database pool can
take this one's place without changing the controllers.
"""

import random

from twisted.internet import defer

__all__ = ["QuoteStore", "SEED_QUOTES"]

SEED_QUOTES = [
    ("An apple a day keeps the doctor away.", "Proverb"),
    ("Simple is better than complex.", "Tim Peters"),
    ("Premature optimization is the root of all evil.", "Donald Knuth"),
    ("Talk is cheap. Show me the code.", "Linus Torvalds"),
]


class QuoteStore:
    """
    Quotes as C{{"id", "text", "author"}} dicts, kept in memory.
    """

    def __init__(self, seed=SEED_QUOTES, choose=random.choice):
        self._quotes = {}
        self._nextId = 1
        self._choose = choose
        for text, author in seed:
            self._insert(text, author)

    def _insert(self, text, author):
        quote = {"id": self._nextId, "text": text, "author": author}
        self._quotes[quote["id"]] = quote
        self._nextId += 1
        return quote

    def all(self):
        """
        Every quote, oldest first.
        """
        return defer.succeed([dict(q) for q in self._quotes.values()])

    def get(self, quoteId):
        """
        The quote C{quoteId}, or L{None}.
        """
        quote = self._quotes.get(quoteId)
        return defer.succeed(dict(quote) if quote else None)

    def random(self):
        """
        A random quote, or L{None} when there are none.
        """
        if not self._quotes:
            return defer.succeed(None)
        return defer.succeed(dict(self._choose(list(self._quotes.values()))))

    def add(self, text, author):
        """
        Store a new quote and return it, with its id.
        """
        return defer.succeed(dict(self._insert(text, author)))

    def delete(self, quoteId):
        """
        Delete quote C{quoteId}; fire with whether it existed.
        """
        return defer.succeed(self._quotes.pop(quoteId, None) is not None)
