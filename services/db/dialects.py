"""
Dialects: what differs between SQLite and PostgreSQL.

A dialect is made from a L{services.db.url.DatabaseURL} and tells the pool
and the migrations:

  - C{module}, C{connectArguments()}, C{openConnection(connection)}: how to
    connect (the DB-API module's name, its C{connect} arguments, and what
    to run on each new connection);
  - C{prepare(sql, values)}, C{translate(sql)}, C{checkValues(values)}:
    how a statement with C{?} placeholders is sent (see
    L{services.db.params});
  - C{isUnavailable(error)}: whether an error means the database went away
    (L{services.db.errors.DatabaseUnavailable});
  - C{isBroken(connection)}, C{mustReplace(error)}, C{isStale(connection)}:
    whether a connection must be replaced, after a failure or before a call;
  - C{beginExclusive(cursor)}, C{executeScript(cursor, sql)}: what the
    migrations need (one migrating process at a time, a whole file run).

B{SQLite}: a database file the connection creates is mode 0600 whatever
the umask (its C{-wal}, C{-shm} and C{-journal} files follow it); an
existing file keeps its mode. Connections use WAL, a busy timeout (the
URL's C{timeout}, default 5 s) and C{foreign_keys=ON}. A file that is not
writable when a connection opens it gives a read-only connection (SQLite's
own fallback), replaced once the file is writable again; a connection
whose write fails as read-only is replaced too. C{sqlite://:memory:} is
one shared-cache database per dialect, under a name of its own.
"""

import os
import select
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from services.db.errors import DatabaseUnavailable
from services.db.params import refuseNul, translatePlaceholders
from services.db.url import DatabaseURL, maskURL

__all__ = ["SQLite", "PostgreSQL", "dialectFor"]

_SQLITE_READONLY = "attempt to write a readonly database"
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked",
                       "unable to open database", "disk i/o error", _SQLITE_READONLY)
_POSTGRES_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "53300"})
_MIGRATION_LOCK = 7270311


def _sqliteStatements(script):
    start = 0
    for end, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start:end + 1]):
            yield script[start:end + 1]
            start = end + 1
    if script[start:].strip():
        yield script[start:]


def _sqliteFailure(error, messages):
    """
    Whether C{error} is an SQLite failure whose message starts with
    C{messages} (a prefix or a tuple of them, lowercase).
    """
    return (isinstance(error, sqlite3.OperationalError)
            and str(error).lower().startswith(messages))


class _SQLiteConnection(sqlite3.Connection):
    """
    An SQLite connection that creates a missing database file privately and
    remembers whether it was opened read-only.

    @ivar readOnly: whether the file was not writable when this connection
        opened it: SQLite then opens it read-only for good, and every write
        on it fails with C{attempt to write a readonly database}.
    """

    readOnly = False

    def __init__(self, database, *args, uri=False, **kwargs):
        if not uri:
            _createPrivately(database)
        sqlite3.Connection.__init__(self, database, *args, uri=uri, **kwargs)


def _createPrivately(path):
    """
    Create the database file C{path}, if there is none, empty and with mode
    0600 whatever the umask: it holds the application's data, and SQLite
    would create it with the umask's mode (readable by all under the usual
    022). Its C{-wal}, C{-shm} and C{-journal} files take the database
    file's mode. An existing file is left as it is.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError:
        # It exists, or cannot be created: SQLite opens it or says why.
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _writable(path):
    """
    Whether C{path} opens for writing now, as SQLite tries first.
    """
    try:
        os.close(os.open(path, os.O_RDWR))
    except OSError:
        return False
    return True


class SQLite:
    """
    How to talk to SQLite.

    @ivar memoryName: the shared-cache name of an in-memory database, or
        L{None} for a file.
    """

    module = "sqlite3"

    def __init__(self, url: DatabaseURL) -> None:
        self.url = url
        self.memoryName = f"appserver-{uuid.uuid4().hex}" if url.inMemory else None

    def connectArguments(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        timeout = float(dict(self.url.parameters).get("timeout", 5))
        kwargs: dict[str, Any] = {"timeout": timeout, "check_same_thread": False,
                                  "factory": _SQLiteConnection}
        if self.memoryName:
            return (f"file:{self.memoryName}?mode=memory&cache=shared",), dict(kwargs, uri=True)
        return (self.url.path,), kwargs

    def openConnection(self, connection: Any) -> None:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.readOnly = not (self.memoryName or _writable(self.url.path))

    def prepare(self, sql: str, values: Sequence[Any] | None
                ) -> tuple[str, Sequence[Any] | None]:
        return sql, (tuple(values) if values else None)

    def translate(self, sql: str) -> str:
        return sql

    def checkValues(self, values: Sequence[Any] | None) -> None:
        pass

    def isUnavailable(self, error: BaseException) -> bool:
        return _sqliteFailure(error, _SQLITE_UNAVAILABLE)

    def isBroken(self, connection: Any) -> bool:
        return False

    def mustReplace(self, error: BaseException) -> bool:
        return _sqliteFailure(error, _SQLITE_READONLY)

    def isStale(self, connection: Any) -> bool:
        # Read-only because the file was not writable: replaced once it is.
        return connection.readOnly and _writable(self.url.path)

    def beginExclusive(self, cursor: Any) -> None:
        cursor.execute("BEGIN IMMEDIATE")

    def executeScript(self, cursor: Any, sql: str) -> None:
        for statement in _sqliteStatements(sql):
            cursor.execute(statement)


class PostgreSQL:
    """
    How to talk to PostgreSQL, through psycopg 3.
    """

    module = "psycopg"
    memoryName = None

    def __init__(self, url: DatabaseURL) -> None:
        """
        @raise DatabaseUnavailable: if psycopg is not installed.
        """
        self.url = url
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise DatabaseUnavailable(
                f"Database {maskURL(url)} needs psycopg: pip install appserver[postgres]"
            ) from None

    def connectArguments(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        kwargs: dict[str, Any] = {"connect_timeout": "5"}
        kwargs.update(self.url.parameters)
        fields = {"host": self.url.host, "port": self.url.port, "user": self.url.user,
                  "password": self.url.password, "dbname": self.url.database}
        kwargs.update({k: v for k, v in fields.items() if v is not None})
        return (), kwargs

    def openConnection(self, connection: Any) -> None:
        pass

    def prepare(self, sql: str, values: Sequence[Any] | None
                ) -> tuple[str, Sequence[Any] | None]:
        if not values:
            return sql, None
        values = tuple(values)
        self.checkValues(values)
        return translatePlaceholders(sql), values

    checkValues = staticmethod(refuseNul)

    translate = staticmethod(translatePlaceholders)

    def isUnavailable(self, error: BaseException) -> bool:
        import psycopg

        if isinstance(error, psycopg.InterfaceError):
            return True
        if not isinstance(error, psycopg.OperationalError):
            return False
        state = error.sqlstate
        return state is None or state.startswith("08") or state in _POSTGRES_UNAVAILABLE

    def isBroken(self, connection: Any) -> bool:
        return connection.closed or connection.broken

    def mustReplace(self, error: BaseException) -> bool:
        return False

    def isStale(self, connection: Any) -> bool:
        # An idle connection has nothing to read unless the server closed it
        # (or sent a notice, which costs a reconnection, nothing more).
        if self.isBroken(connection):
            return True
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
        return bool(readable)

    def beginExclusive(self, cursor: Any) -> None:
        cursor.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")

    def executeScript(self, cursor: Any, sql: str) -> None:
        # Without values psycopg uses the simple protocol: several statements.
        cursor.execute(sql)


def dialectFor(url: DatabaseURL) -> SQLite | PostgreSQL:
    """
    The dialect of C{url}'s backend, for C{url}.
    """
    dialects: dict[str, Callable[[DatabaseURL], SQLite | PostgreSQL]] = {
        "sqlite": SQLite, "postgresql": PostgreSQL}
    return dialects[url.backend](url)
