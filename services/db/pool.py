"""
The connection pool: C{twisted.enterprise.adbapi} with one failure type
and connections that recover.

A call that fails because the database went away fails with
L{DatabaseUnavailable}, and its connection is dropped so the next call
reconnects. Before each call a kept connection the dialect finds stale (a
PostgreSQL connection the server closed while idle, an SQLite connection
opened read-only whose file is writable again) is replaced by a fresh one.
A failed call is never retried: it may have been killed on purpose.

B{Twisted's private API}: L{Pool} overrides
C{adbapi.ConnectionPool._runInteraction}, the step C{runInteraction} runs
in a pool thread, because adbapi's public C{runWithConnection} rolls back
again after a failed call and logs C{Rollback failed} with a traceback
whenever the connection is gone (every lost connection), and its
connection wrapper can only drop its connection by connecting again at
once. The override relies on C{_runInteraction(self, interaction, *args,
**kw)}, C{connectionFactory}, C{connections}, C{threadID}, C{connect} and
C{disconnect}: setup.py pins the Twisted releases it was checked against,
and C{tests/test_db_adbapi.py} fails if any of them changes.
"""

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from twisted.enterprise import adbapi
from twisted.logger import Logger

from services.db.errors import DatabaseUnavailable, oneLine
from services.db.url import maskURL

__all__ = ["Cursor", "Pool"]

_log = Logger()


class Cursor:
    """
    A DB-API cursor that takes C{?} placeholders on every database; its
    other attributes are the driver's cursor's.
    """

    def __init__(self, dialect: Any, cursor: Any) -> None:
        self._dialect = dialect
        self._cursor = cursor

    def execute(self, sql: str, values: Sequence[Any] | None = None) -> Any:
        """
        Run C{sql} with C{?} placeholders and C{values}, a sequence.
        """
        sql, values = self._dialect.prepare(sql, values)
        if values is None:
            return self._cursor.execute(sql)
        return self._cursor.execute(sql, values)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        """
        Run C{sql} with C{?} placeholders once for each sequence in C{rows}.
        """
        rows = [tuple(row) for row in rows]
        for row in rows:
            self._dialect.checkValues(row)
        return self._cursor.executemany(self._dialect.translate(sql), rows)

    def close(self) -> None:
        """
        Close the driver's cursor.
        """
        self._cursor.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class Pool(adbapi.ConnectionPool):
    """
    An adbapi pool that reports a lost database as L{DatabaseUnavailable}
    and replaces dead connections.

    adbapi's own C{cp_reconnect} is off: it logs tracebacks for every lost
    connection and still fails the call with the driver's error; this does
    the same recovery in one place, with one exception type.
    """

    def __init__(self, dialect: Any, minThreads: int, maxThreads: int, reactor: Any) -> None:
        args, kwargs = dialect.connectArguments()
        adbapi.ConnectionPool.__init__(
            self, dialect.module, *args, cp_min=minThreads, cp_max=maxThreads,
            cp_openfun=dialect.openConnection, cp_reactor=reactor,
            cp_name="appserver-db", **kwargs)
        self.dialect = dialect
        self.url = dialect.url

    def connect(self) -> Any:
        """
        Return this thread's connection, replacing a stale one first.

        @raise DatabaseUnavailable: if the database cannot be reached.
        """
        kept = self.connections.get(self.threadID())
        if kept is None:
            self._closeOrphans()
        elif self.dialect.isStale(kept):
            self.disconnect(kept)
        try:
            return adbapi.ConnectionPool.connect(self)
        except Exception as e:
            if self.dialect.isUnavailable(e):
                raise DatabaseUnavailable(self._unavailable(e)) from e
            raise

    def _closeOrphans(self):
        # Threads ended by a smaller pool leave their connections behind.
        alive = {thread.ident for thread in threading.enumerate()}
        for threadID in [t for t in list(self.connections) if t not in alive]:
            connection = self.connections.pop(threadID, None)
            if connection is not None:
                self._closeOrphan(connection)

    def _closeOrphan(self, connection):
        try:
            connection.close()
        except Exception:
            _log.failure("Closing a connection to {url} failed", url=maskURL(self.url))

    def _unavailable(self, error):
        return f"Database {maskURL(self.url)} is unavailable: {oneLine(error)}"

    def _runInteraction(self, interaction, *args, **kw):
        connection = self.connectionFactory(self)
        try:
            cursor = Cursor(self.dialect, connection.cursor())
            result = interaction(cursor, *args, **kw)
            cursor.close()
        except BaseException as e:
            self._abort(connection, e)
            raise
        try:
            connection.commit()
        except Exception as e:
            self._abort(connection, e)
            raise
        return result

    def _abort(self, connection, error):
        try:
            connection.rollback()
        except Exception as e:
            _log.debug("Rollback failed on {url}: {error}", url=maskURL(self.url), error=e)
        raw = self.connections.get(self.threadID())
        if raw is not None and (self.dialect.isBroken(raw) or self.dialect.mustReplace(error)):
            self.disconnect(raw)
        if self.dialect.isUnavailable(error):
            raise DatabaseUnavailable(self._unavailable(error)) from error
