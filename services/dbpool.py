"""
The database thread pool service: C{twisted.enterprise.adbapi} behind a
picklable service, for SQLite and PostgreSQL.

Controllers reach it as C{self.db}::

    rows = await self.db.runQuery("SELECT text FROM quotes WHERE id = ?", 7)
    await self.db.runOperation("INSERT INTO quotes (text) VALUES (?)", text)
    await self.db.runInteraction(moveQuote, 7, 8)   # moveQuote(cursor, a, b)

Every call runs in a pool thread, returns a Deferred, and is one
transaction: committed when it succeeds, rolled back when it raises.

B{Parameter style}: one style for both databases, C{?} placeholders with
positional values (SQLite's own style; for PostgreSQL each C{?} outside
string literals, quoted identifiers, comments and dollar-quoted strings
becomes C{%s}, and C{%} is doubled). PostgreSQL's jsonb operators C{?},
C{?|} and C{?&} therefore cannot be written in a statement that has values;
use C{jsonb_exists()} and friends. Inside C{runInteraction}, the cursor's
C{execute(sql, values)} takes the same style, values as a sequence.
PostgreSQL text cannot hold a NUL character: a str value holding one (or a
list of them) is refused with L{UnstorableText} before anything is sent.

B{Failures}: at start-up, a database that cannot be reached (or a migration
that fails) makes C{startService} raise, naming the URL without its
password, so C{twistd} exits with the reason; the check and the migrations
block, which is fine because the reactor is not serving yet. Later, a call
that fails because the database went away fails with L{DatabaseUnavailable}
(the web layer answers 503), and its connection is dropped so the next
call reconnects. Before each call a kept PostgreSQL connection with input
waiting while idle (the server closed it: a restart or
C{pg_terminate_backend}) is replaced by a fresh one, so a database that
went away and came back while idle fails no call; only the calls running
at that moment fail. A failed call is never retried: it may have been
killed on purpose.

B{SQLite}: a database file the service creates is mode 0600 whatever the
umask (its C{-wal}, C{-shm} and C{-journal} files follow it); an existing
file keeps its mode. Connections use WAL, a busy timeout (the URL's C{timeout},
default 5 s; a lock held longer makes the call fail with
L{DatabaseUnavailable}) and C{foreign_keys=ON}. A file that is not writable
when a connection opens it gives a read-only connection (SQLite's own
fallback): reads work, writes fail with L{DatabaseUnavailable}, and once
the file is writable again that connection is replaced before its next
call; a connection whose write fails as read-only (C{SQLITE_READONLY}, for
whatever reason) is replaced too. C{sqlite://:memory:} is one
shared-cache database per started service, kept alive by a connection the
service holds, and served by a single pool thread whatever the thread
settings say, because SQLite's shared cache fails concurrent writers at once
instead of waiting for them.
"""

import contextlib
import functools
import os
import re
import select
import sqlite3
import threading
import uuid

from twisted.application import service
from twisted.enterprise import adbapi
from twisted.internet import defer
from twisted.logger import Logger
from twisted.python import reflect, util

from services.dburl import databaseURL, maskURL
from services.migrations import applyMigrations, findMigrations
from services.persistence import PersistentService

__all__ = ["DatabaseService", "DatabaseUnavailable", "UnstorableText", "translatePlaceholders"]

_SQLITE_READONLY = "attempt to write a readonly database"
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked",
                       "unable to open database", "disk i/o error", _SQLITE_READONLY)
_POSTGRES_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "53300"})
_MIGRATION_LOCK = 7270311

_log = Logger()


class DatabaseUnavailable(Exception):
    """
    The database cannot be reached (or is locked past the busy timeout).

    Retrying later may succeed; the web layer answers 503.
    """


class UnstorableText(ValueError):
    """
    A value the database cannot store, refused before it is sent:
    PostgreSQL text cannot hold a NUL character (SQLite can).

    Such text comes from a client; the web layer answers 400.
    """


def _refuseNul(values):
    """
    Raise L{UnstorableText} if a str among C{values} (or in a list or tuple
    among them, an array) holds a NUL character.
    """
    for index, value in enumerate(values, 1):
        if _holdsNul(value):
            raise UnstorableText(f"PostgreSQL text cannot hold NUL characters (value {index}).")


def _holdsNul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple)):
        return any(_holdsNul(item) for item in value)
    return False


def _oneLine(error):
    return " ".join(str(error).split()) or type(error).__name__


_PLACEHOLDER_TOKENS = re.compile(
    r"""
    (?P<skip>
        (?<![A-Za-z0-9_])[Ee]'(?:[^'\\]|\\.|'')*'
      | '(?:[^']|'')*'
      | "(?:[^"]|"")*"
      | --[^\n]*
      | /\*.*?\*/
      | \$(?P<tag>[A-Za-z_][A-Za-z0-9_]*|)\$.*?\$(?P=tag)\$
    )
    | (?P<mark>\?)
    | %
    """,
    re.S | re.X,
)


def _replaceToken(match):
    if match.group("skip") is not None:
        return match.group("skip").replace("%", "%%")
    return "%s" if match.group("mark") else "%%"


@functools.lru_cache(maxsize=1024)
def translatePlaceholders(sql):
    """
    Turn C{?} placeholders into psycopg's C{%s}, doubling every C{%}.

    A C{?} inside a string literal, a quoted identifier, a comment or a
    dollar-quoted string is left alone.
    """
    return _PLACEHOLDER_TOKENS.sub(_replaceToken, sql)


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


class _SQLite:
    """
    How to talk to SQLite.
    """

    module = "sqlite3"

    def __init__(self, url):
        self.url = url
        self.memoryName = f"appserver-{uuid.uuid4().hex}" if url.inMemory else None

    def connectArguments(self):
        timeout = float(dict(self.url.parameters).get("timeout", 5))
        kwargs = {"timeout": timeout, "check_same_thread": False, "factory": _SQLiteConnection}
        if self.memoryName:
            return (f"file:{self.memoryName}?mode=memory&cache=shared",), dict(kwargs, uri=True)
        return (self.url.path,), kwargs

    def openConnection(self, connection):
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.readOnly = not (self.memoryName or _writable(self.url.path))

    def prepare(self, sql, values):
        return sql, (tuple(values) if values else None)

    def translate(self, sql):
        return sql

    def checkValues(self, values):
        pass

    def isUnavailable(self, error):
        return _sqliteFailure(error, _SQLITE_UNAVAILABLE)

    def isBroken(self, connection):
        return False

    def mustReplace(self, error):
        return _sqliteFailure(error, _SQLITE_READONLY)

    def isStale(self, connection):
        # Read-only because the file was not writable: replaced once it is.
        return connection.readOnly and _writable(self.url.path)

    def beginExclusive(self, cursor):
        cursor.execute("BEGIN IMMEDIATE")

    def executeScript(self, cursor, sql):
        for statement in _sqliteStatements(sql):
            cursor.execute(statement)


class _PostgreSQL:
    """
    How to talk to PostgreSQL, through psycopg 3.
    """

    module = "psycopg"
    memoryName = None

    def __init__(self, url):
        self.url = url
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise DatabaseUnavailable(
                f"Database {maskURL(url)} needs psycopg: pip install appserver[postgres]"
            ) from None

    def connectArguments(self):
        kwargs = {"connect_timeout": "5"}
        kwargs.update(self.url.parameters)
        fields = {"host": self.url.host, "port": self.url.port, "user": self.url.user,
                  "password": self.url.password, "dbname": self.url.database}
        kwargs.update({k: v for k, v in fields.items() if v is not None})
        return (), kwargs

    def openConnection(self, connection):
        pass

    def prepare(self, sql, values):
        if not values:
            return sql, None
        values = tuple(values)
        self.checkValues(values)
        return translatePlaceholders(sql), values

    checkValues = staticmethod(_refuseNul)

    translate = staticmethod(translatePlaceholders)

    def isUnavailable(self, error):
        import psycopg

        if isinstance(error, psycopg.InterfaceError):
            return True
        if not isinstance(error, psycopg.OperationalError):
            return False
        state = error.sqlstate
        return state is None or state.startswith("08") or state in _POSTGRES_UNAVAILABLE

    def isBroken(self, connection):
        return connection.closed or connection.broken

    def mustReplace(self, error):
        return False

    def isStale(self, connection):
        # An idle connection has nothing to read unless the server closed it
        # (or sent a notice, which costs a reconnection, nothing more).
        if self.isBroken(connection):
            return True
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
        return bool(readable)

    def beginExclusive(self, cursor):
        cursor.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")

    def executeScript(self, cursor, sql):
        # Without values psycopg uses the simple protocol: several statements.
        cursor.execute(sql)


def _dialectFor(url):
    return {"sqlite": _SQLite, "postgresql": _PostgreSQL}[url.backend](url)


class _Transaction(adbapi.Transaction):
    """
    A cursor that takes C{?} placeholders on every database.
    """

    def execute(self, sql, values=None):
        sql, values = self._pool.dialect.prepare(sql, values)
        if values is None:
            return self._cursor.execute(sql)
        return self._cursor.execute(sql, values)

    def executemany(self, sql, rows):
        dialect = self._pool.dialect
        rows = [tuple(row) for row in rows]
        for row in rows:
            dialect.checkValues(row)
        return self._cursor.executemany(dialect.translate(sql), rows)


class _Pool(adbapi.ConnectionPool):
    """
    An adbapi pool that reports a lost database as L{DatabaseUnavailable}
    and replaces dead connections.

    adbapi's own C{cp_reconnect} is off: it logs tracebacks for every lost
    connection and still fails the call with the driver's error; this does
    the same recovery in one place, with one exception type.
    """

    transactionFactory = _Transaction

    def __init__(self, dialect, minThreads, maxThreads, reactor):
        args, kwargs = dialect.connectArguments()
        adbapi.ConnectionPool.__init__(
            self, dialect.module, *args, cp_min=minThreads, cp_max=maxThreads,
            cp_openfun=dialect.openConnection, cp_reactor=reactor,
            cp_name="appserver-db", **kwargs)
        self.dialect = dialect
        self.url = dialect.url

    def connect(self):
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
                self._close(connection)

    def _unavailable(self, error):
        return f"Database {maskURL(self.url)} is unavailable: {_oneLine(error)}"

    def _runInteraction(self, interaction, *args, **kw):
        connection = self.connectionFactory(self)
        try:
            cursor = self.transactionFactory(self, connection)
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


def _query(cursor, sql, values):
    cursor.execute(sql, values)
    return cursor.fetchall()


def _operation(cursor, sql, values):
    cursor.execute(sql, values)


@contextlib.contextmanager
def _actingAs(owner):
    """
    Run the block with the effective user, group and supplementary groups
    of C{owner}, a C{(uid, gid)}, as C{twistd --uid/--gid} will switch to
    them (files made are that user's, and what that user may not do
    fails); root again afterwards. Without an owner, or unless root, the
    block runs as is.
    """
    if owner is None or os.geteuid() != 0:
        yield
        return
    uid, gid = owner
    groups, egid = os.getgroups(), os.getegid()
    util.initgroups(uid, gid)
    os.setegid(gid)
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(egid)
        os.setgroups(groups)


def _checkThreads(minThreads, maxThreads):
    if not (isinstance(minThreads, int) and isinstance(maxThreads, int)
            and 0 <= minThreads <= maxThreads and maxThreads >= 1):
        raise ValueError(f"database threads {minThreads!r}-{maxThreads!r} are not "
                         f"0 <= min <= max with max >= 1")


class DatabaseService(PersistentService):
    """
    A database thread pool, started and stopped with the service tree.

    Only the configuration is pickled; the pool, its threads and connections
    are made in C{startService}.

    @ivar url: the L{services.dburl.DatabaseURL}.
    @ivar minThreads: the fewest pool threads kept.
    @ivar maxThreads: the most pool threads (and connections) used.
    @ivar migrationDirs: directories of C{NNN_name.sql} files applied at
        start-up, in order (see L{services.migrations}).
    @ivar pool: the running L{adbapi.ConnectionPool}, or L{None}.
    @ivar appliedMigrations: the names of the migrations applied by the last
        start.
    @ivar owner: the C{(uid, gid)} the process will run as after C{twistd
        --uid} drops root, or L{None}: the database is prepared as that
        user (see L{privilegedStartService}).
    """

    _volatile = ("_reactor", "pool", "_keeper", "appliedMigrations", "_prepared")
    owner = None

    def __init__(self, url, minThreads=3, maxThreads=10, migrationDirs=(), reactor=None,
                 owner=None):
        """
        @param url: a database URL string or L{services.dburl.DatabaseURL}.
        @raise ValueError: for a bad URL or thread counts.
        """
        _checkThreads(minThreads, maxThreads)
        self.url = databaseURL(url)
        self.minThreads = minThreads
        self.maxThreads = maxThreads
        self.migrationDirs = tuple(migrationDirs)
        self.owner = owner
        self._reactor = reactor
        self.pool = None
        self._keeper = None
        self._prepared = None
        self.appliedMigrations = []

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._reactor = None
        self.pool = None
        self._keeper = None
        self._prepared = None
        self.appliedMigrations = []

    def _getReactor(self):
        if self._reactor is None:
            from twisted.internet import reactor

            self._reactor = reactor
        return self._reactor

    def _poolSize(self):
        if self.url.inMemory:
            return 1, 1
        return self.minThreads, self.maxThreads

    def privilegedStartService(self):
        """
        Prepare the database before C{twistd --uid} drops root: import the
        driver, connect and apply the migrations as L{owner}, so that an
        SQLite database is created owned by the user the process runs as,
        and a database that user cannot use fails while twistd can still
        remove its pidfile.

        @raise DatabaseUnavailable: naming the masked URL (and the owner),
            if the database cannot be reached.
        @raise services.migrations.MigrationError: naming the file, if a
            migration changed or failed.
        """
        service.Service.privilegedStartService(self)
        try:
            with _actingAs(self.owner):
                self._prepared = self._prepare()
        except DatabaseUnavailable as e:
            if self.owner is None:
                raise
            raise DatabaseUnavailable(f"{e} (as uid {self.owner[0]}, the user twistd --uid "
                                      "runs as)") from e

    def startService(self):
        """
        Prepare the database if L{privilegedStartService} did not (under
        C{twist}), then start the pool.

        @raise DatabaseUnavailable: naming the masked URL, if the database
            cannot be reached.
        @raise services.migrations.MigrationError: naming the file, if a
            migration changed or failed.
        """
        dialect, self._prepared = self._prepared or self._prepare(), None
        self.pool = _Pool(dialect, *self._poolSize(), self._getReactor())
        self.pool.start()
        service.Service.startService(self)

    def _prepare(self):
        """
        Connect (blocking; this imports the driver), apply the migrations,
        and return the dialect.
        """
        dialect = _dialectFor(self.url)
        connection = self._connectNow(dialect)
        try:
            self.appliedMigrations = applyMigrations(
                connection, dialect, findMigrations(self.migrationDirs))
        except BaseException:
            connection.close()
            raise
        if dialect.memoryName:
            self._keeper = connection
        else:
            connection.close()
        return dialect

    def _connectNow(self, dialect):
        args, kwargs = dialect.connectArguments()
        try:
            connection = reflect.namedModule(dialect.module).connect(*args, **kwargs)
            dialect.openConnection(connection)
        except Exception as e:
            raise DatabaseUnavailable(
                f"Cannot connect to database {maskURL(self.url)}: {_oneLine(e)}") from e
        return connection

    def stopService(self):
        """
        Stop the pool; this waits for the queries running in its threads.
        """
        service.Service.stopService(self)
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.close()
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.close()

    def setThreads(self, minThreads, maxThreads):
        """
        Change the pool's thread counts, at once if it is running.

        An SQLite database in memory keeps its single thread.

        @raise ValueError: unless C{0 <= minThreads <= maxThreads}, C{maxThreads >= 1}.
        """
        _checkThreads(minThreads, maxThreads)
        self.minThreads, self.maxThreads = minThreads, maxThreads
        if self.pool is not None:
            low, high = self._poolSize()
            self.pool.min, self.pool.max = low, high
            self.pool.threadpool.adjustPoolsize(low, high)

    def _call(self, interaction, *args, **kw):
        if self.pool is None:
            return defer.fail(DatabaseUnavailable(
                f"Database {maskURL(self.url)} is not started"))
        return self.pool.runInteraction(interaction, *args, **kw)

    def runQuery(self, sql, *values):
        """
        Run one statement with C{?} placeholders and fire with its rows, a
        list of tuples.
        """
        return self._call(_query, sql, values)

    def runOperation(self, sql, *values):
        """
        Run one statement with C{?} placeholders and fire with L{None}.
        """
        return self._call(_operation, sql, values)

    def runInteraction(self, interaction, *args, **kw):
        """
        Call C{interaction(cursor, *args, **kw)} in a pool thread, in one
        transaction, and fire with its result.

        The cursor's C{execute(sql, values)} takes C{?} placeholders; the
        transaction commits when the function returns and rolls back when
        it raises.
        """
        return self._call(interaction, *args, **kw)

    def stats(self):
        """
        Figures for a status page: masked URL, backend, thread settings,
        threads started, threads busy, and migrations applied at start.
        """
        threadpool = self.pool.threadpool if self.pool is not None else None
        return {
            "url": maskURL(self.url),
            "backend": self.url.backend,
            "running": bool(self.running),
            "minThreads": self.minThreads,
            "maxThreads": self.maxThreads,
            "threads": threadpool.workers if threadpool else 0,
            "busy": len(threadpool.working) if threadpool else 0,
            "appliedMigrations": list(self.appliedMigrations),
        }
