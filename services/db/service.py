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
list of them) is refused with L{services.db.errors.UnstorableText} before
anything is sent.

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
import os
from collections.abc import Callable, Iterable
from typing import Any

from twisted.application import service
from twisted.internet import defer
from twisted.python import reflect, util
from zope.interface import implementer

from services.db.dialects import dialectFor
from services.db.errors import DatabaseUnavailable, oneLine
from services.db.migrations import applyMigrations, findMigrations
from services.db.pool import Pool
from services.db.url import DatabaseURL, databaseURL, maskURL
from services.figures import IServiceFigures
from services.persistence import PersistentService

__all__ = ["DatabaseService"]


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


@implementer(IServiceFigures)
class DatabaseService(PersistentService):
    """
    A database thread pool, started and stopped with the service tree.

    Only the configuration is pickled; the pool, its threads and connections
    are made in C{startService}.

    @ivar url: the L{services.db.url.DatabaseURL}.
    @ivar minThreads: the fewest pool threads kept.
    @ivar maxThreads: the most pool threads (and connections) used.
    @ivar migrationDirs: directories of C{NNN_name.sql} files applied at
        start-up, in order (see L{services.db.migrations}).
    @ivar pool: the running L{adbapi.ConnectionPool}, or L{None}.
    @ivar appliedMigrations: the names of the migrations applied by the last
        start.
    @ivar owner: the C{(uid, gid)} the process will run as after C{twistd
        --uid} drops root, or L{None}: the database is prepared as that
        user (see L{privilegedStartService}).
    """

    _volatile = ("pool", "_keeper", "appliedMigrations", "_prepared")
    pool: Pool | None
    owner = None

    def __init__(self, url: str | DatabaseURL, minThreads: int = 3, maxThreads: int = 10,
                 migrationDirs: Iterable[str] = (), reactor: Any = None,
                 owner: Any = None) -> None:
        """
        @param url: a database URL string or L{services.db.url.DatabaseURL}.
        @raise ValueError: for a bad URL or thread counts.
        """
        _checkThreads(minThreads, maxThreads)
        self.url = databaseURL(url)
        self.minThreads = minThreads
        self.maxThreads = maxThreads
        self.migrationDirs = tuple(migrationDirs)
        self.owner = owner
        self._reactor = reactor
        self._volatileInit()

    def _volatileInit(self):
        PersistentService._volatileInit(self)
        self.appliedMigrations = []

    def _poolSize(self) -> tuple[int, int]:
        if self.url.inMemory:
            return 1, 1
        return self.minThreads, self.maxThreads

    def privilegedStartService(self) -> None:
        """
        Prepare the database before C{twistd --uid} drops root: import the
        driver, connect and apply the migrations as L{owner}, so that an
        SQLite database is created owned by the user the process runs as,
        and a database that user cannot use fails while twistd can still
        remove its pidfile.

        @raise DatabaseUnavailable: naming the masked URL (and the owner),
            if the database cannot be reached.
        @raise services.db.migrations.MigrationError: naming the file, if a
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

    def startService(self) -> None:
        """
        Prepare the database if L{privilegedStartService} did not (under
        C{twist}), then start the pool.

        @raise DatabaseUnavailable: naming the masked URL, if the database
            cannot be reached.
        @raise services.db.migrations.MigrationError: naming the file, if a
            migration changed or failed.
        """
        dialect, self._prepared = self._prepared or self._prepare(), None
        self.pool = Pool(dialect, *self._poolSize(), self._getReactor())
        self.pool.start()
        service.Service.startService(self)

    def _prepare(self):
        """
        Connect (blocking; this imports the driver), apply the migrations,
        and return the dialect.
        """
        dialect = dialectFor(self.url)
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
                f"Cannot connect to database {maskURL(self.url)}: {oneLine(e)}") from e
        return connection

    def stopService(self) -> Any:
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

    def setThreads(self, minThreads: int, maxThreads: int) -> None:
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

    def runQuery(self, sql: str, *values: Any) -> defer.Deferred[list[Any]]:
        """
        Run one statement with C{?} placeholders and fire with its rows, a
        list of tuples.
        """
        return self._call(_query, sql, values)

    def runOperation(self, sql: str, *values: Any) -> defer.Deferred[None]:
        """
        Run one statement with C{?} placeholders and fire with L{None}.
        """
        return self._call(_operation, sql, values)

    def runInteraction(self, interaction: Callable[..., Any], *args: Any,
                       **kw: Any) -> defer.Deferred[Any]:
        """
        Call C{interaction(cursor, *args, **kw)} in a pool thread, in one
        transaction, and fire with its result.

        The cursor's C{execute(sql, values)} takes C{?} placeholders; the
        transaction commits when the function returns and rolls back when
        it raises.
        """
        return self._call(interaction, *args, **kw)

    def figures(self) -> dict[str, Any]:
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
