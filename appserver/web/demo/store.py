"""
Where the demo keeps its quotes: the C{demo_quotes} table of the app's
database, created and seeded by C{migrations/001_demo_quotes.sql}.

The SQL is the same on SQLite and PostgreSQL (C{?} placeholders, as the
database service takes them on both). Every method returns a Deferred; the
queries run in the database pool's threads, never on the reactor.
"""

import os
from typing import Any

from twisted.internet import defer

from services.db import DatabaseService

__all__ = ["QuoteStore", "MIGRATIONS", "MAX_ID"]

MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
"""
The directory of the demo's migrations, for a database service's
C{migrationDirs}.
"""

MAX_ID = 2 ** 31 - 1
"""
The largest id an C{INTEGER} column holds on PostgreSQL; larger ids cannot
exist, so they are not looked up (the query would fail, not find nothing).
"""

_COLUMNS = "SELECT id, text, author FROM demo_quotes"


def _quote(row):
    quoteId, text, author = row
    return {"id": quoteId, "text": text, "author": author}


def _quotes(rows):
    return [_quote(row) for row in rows]


def _first(rows):
    return _quote(rows[0]) if rows else None


def _isId(quoteId):
    return isinstance(quoteId, int) and 0 < quoteId <= MAX_ID


def _insert(cursor, text, author):
    cursor.execute("UPDATE demo_quote_ids SET last_id = last_id + 1")
    cursor.execute("SELECT last_id FROM demo_quote_ids")
    (quoteId,) = cursor.fetchone()
    cursor.execute("INSERT INTO demo_quotes (id, text, author) VALUES (?, ?, ?)",
                   (quoteId, text, author))
    return quoteId


def _delete(cursor, quoteId):
    cursor.execute("DELETE FROM demo_quotes WHERE id = ?", (quoteId,))
    return cursor.rowcount > 0


class QuoteStore:
    """
    Quotes as C{{"id", "text", "author"}} dicts, in a database.

    @ivar db: the database, with C{runQuery} and C{runInteraction} as
        L{services.db.DatabaseService} offers them.
    """

    def __init__(self, db: DatabaseService) -> None:
        self.db = db

    def list(self) -> defer.Deferred[list[dict[str, Any]]]:
        """
        Every quote, oldest first.
        """
        return self.db.runQuery(_COLUMNS + " ORDER BY id").addCallback(_quotes)

    def get(self, quoteId: int) -> defer.Deferred[dict[str, Any] | None]:
        """
        The quote C{quoteId}, or L{None}.
        """
        if not _isId(quoteId):
            return defer.succeed(None)
        return self.db.runQuery(_COLUMNS + " WHERE id = ?", quoteId).addCallback(_first)

    def random(self) -> defer.Deferred[dict[str, Any] | None]:
        """
        A random quote, or L{None} when there are none.
        """
        return self.db.runQuery(_COLUMNS + " ORDER BY RANDOM() LIMIT 1").addCallback(_first)

    def add(self, text: str, author: str) -> defer.Deferred[int]:
        """
        Store a new quote; fire with its id.
        """
        return self.db.runInteraction(_insert, text, author)

    def delete(self, quoteId: int) -> defer.Deferred[bool]:
        """
        Delete quote C{quoteId}; fire with whether it existed.
        """
        if not _isId(quoteId):
            return defer.succeed(False)
        return self.db.runInteraction(_delete, quoteId)
