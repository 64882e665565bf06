"""
Tests for L{services.db.DatabaseService} on SQLite, with real pool
threads and the real reactor.
"""

import os
import sqlite3
import stat
import subprocess
import time

from twisted.internet import defer, reactor, task
from twisted.trial.unittest import SkipTest, SynchronousTestCase, TestCase

from services.db import DatabaseService, DatabaseUnavailable, MigrationError, translatePlaceholders
from tests.support import assertPersists, freePort, tempDir

# A statement that keeps SQLite busy for a while (about a second here) in a
# pool thread.
SLOW_SQL = ("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
            "WHERE n < ?) SELECT count(*) FROM c")


def writeMigration(directory, name, text):
    """
    Write a migration file, creating its directory.
    """
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "w") as f:
        f.write(text)


class PlaceholderTests(SynchronousTestCase):
    """
    L{translatePlaceholders} turns C{?} into C{%s} outside quoted text.
    """

    def test_marks(self):
        """
        Bare marks become C{%s}; C{%} is doubled.
        """
        self.assertEqual(translatePlaceholders("SELECT ? WHERE x LIKE 'a%' AND y = ?"),
                         "SELECT %s WHERE x LIKE 'a%%' AND y = %s")

    def test_quoted(self):
        """
        Marks in literals, identifiers, comments and dollar quotes stay.
        """
        sql = ("SELECT '?', 'it''s ?', E'\\'?', \"col?\", $$?$$, $t$ ? $t$ "
               "-- ?\n /* ? */ , ?")
        self.assertEqual(
            translatePlaceholders(sql),
            "SELECT '?', 'it''s ?', E'\\'?', \"col?\", $$?$$, $t$ ? $t$ -- ?\n /* ? */ , %s")

    def test_positional(self):
        """
        PostgreSQL's own C{$1} is not a dollar quote.
        """
        self.assertEqual(translatePlaceholders("SELECT $1, ?"), "SELECT $1, %s")


class ConfigurationTests(SynchronousTestCase):
    """
    Configuration is checked, and persists without threads or connections.
    """

    def test_defaults(self):
        """
        Threads default to 3 and 10.
        """
        db = DatabaseService("sqlite:///a.db")
        self.assertEqual((db.minThreads, db.maxThreads), (3, 10))

    def test_badThreads(self):
        """
        Thread counts out of order are refused.
        """
        self.assertRaises(ValueError, DatabaseService, "sqlite:///a.db", 5, 2)
        self.assertRaises(ValueError, DatabaseService, "sqlite:///a.db", 0, 0)
        db = DatabaseService("sqlite:///a.db")
        self.assertRaises(ValueError, db.setThreads, 4, 3)

    def test_badURL(self):
        """
        A bad URL is refused when the service is made.
        """
        self.assertRaises(ValueError, DatabaseService, "nope")

    def test_persists(self):
        """
        The configured service pickles and comes back with its settings.
        """
        db = DatabaseService("postgresql://u:p@h/db", 2, 7, migrationDirs=["m"])

        def check(restored):
            self.assertEqual(restored.url, db.url)
            self.assertEqual((restored.minThreads, restored.maxThreads), (2, 7))
            self.assertEqual(restored.migrationDirs, ("m",))
            self.assertIsNone(restored.pool)

        assertPersists(self, db, check)

    def test_notStarted(self):
        """
        A call before the service starts fails with L{DatabaseUnavailable}.
        """
        db = DatabaseService("sqlite:///a.db")
        self.failureResultOf(db.runQuery("SELECT 1"), DatabaseUnavailable)


class StartupFailureTests(SynchronousTestCase):
    """
    A database that cannot be used stops start-up with the reason.
    """

    def test_sqliteUnreachable(self):
        """
        An SQLite file that cannot be opened names the URL.
        """
        db = DatabaseService("sqlite:////nonexistent/dir/app.db")
        e = self.assertRaises(DatabaseUnavailable, db.startService)
        self.assertIn("sqlite:////nonexistent/dir/app.db", str(e))
        self.assertFalse(db.running)
        self.assertIsNone(db.pool)

    def test_postgresUnreachableMasksPassword(self):
        """
        A PostgreSQL server that does not answer names the URL, without its
        password.
        """
        port = freePort()
        db = DatabaseService(f"postgresql://app:hunter2@127.0.0.1:{port}/db")
        e = self.assertRaises(DatabaseUnavailable, db.startService)
        self.assertIn(f"postgresql://app:***@127.0.0.1:{port}/db", str(e))
        self.assertNotIn("hunter2", str(e))
        self.assertFalse(db.running)

    def test_migrationFailure(self):
        """
        A failing migration stops start-up, naming the file.
        """
        base = tempDir(self)
        migrations = os.path.join(base, "migrations")
        writeMigration(migrations, "001_bad.sql", "CREATE TABLE;")
        db = DatabaseService(f"sqlite:///{base}/a.db", migrationDirs=[migrations])
        e = self.assertRaises(MigrationError, db.startService)
        self.assertIn("001_bad.sql", str(e))
        self.assertFalse(db.running)


def makeUnwritable(testCase, path):
    """
    Make the file C{path} unwritable, even for root (who ignores modes: the
    file is made immutable with C{chattr +i} instead); return a function
    that makes it writable again, which also runs when the test ends.
    """
    if os.geteuid() != 0:
        os.chmod(path, 0o444)

        def restore():
            os.chmod(path, 0o644)
    else:
        if subprocess.run(["chattr", "+i", path], capture_output=True).returncode:
            raise SkipTest(f"chattr +i does not work on {path}")

        def restore():
            subprocess.run(["chattr", "-i", path], check=True)
    testCase.addCleanup(restore)
    return restore


class SQLiteServiceTests(TestCase):
    """
    A running service on an SQLite file.
    """

    timeout = 30

    def setUp(self):
        self.base = tempDir(self)
        self.migrations = os.path.join(self.base, "migrations")
        writeMigration(self.migrations, "001_items.sql", """
            CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE tags (item INTEGER NOT NULL REFERENCES items (id), tag TEXT);
        """)
        self.path = os.path.join(self.base, "app.sqlite3")
        self.db = self.startDatabase(f"sqlite:///{self.path}?timeout=0.2")

    def startDatabase(self, url, **kw):
        db = DatabaseService(url, migrationDirs=[self.migrations], **kw)
        db.startService()
        self.addCleanup(db.stopService)
        return db

    @defer.inlineCallbacks
    def test_queryAndOperation(self):
        """
        C{?} placeholders carry values in and rows come back as tuples.
        """
        yield self.db.runOperation("INSERT INTO items (name) VALUES (?)", "pen")
        yield self.db.runOperation("INSERT INTO items (name) VALUES (?)", "ink's")
        rows = yield self.db.runQuery("SELECT name FROM items WHERE name <> ? ORDER BY id", "x")
        self.assertEqual(rows, [("pen",), ("ink's",)])

    @defer.inlineCallbacks
    def test_interactionCommitsOrRollsBack(self):
        """
        An interaction commits when it returns and rolls back when it raises.
        """
        def add(cursor, name, fail):
            cursor.execute("INSERT INTO items (name) VALUES (?)", (name,))
            if fail:
                raise ValueError("no")
            return name

        self.assertEqual((yield self.db.runInteraction(add, "kept", False)), "kept")
        yield self.assertFailure(self.db.runInteraction(add, "lost", True), ValueError)
        rows = yield self.db.runQuery("SELECT name FROM items")
        self.assertEqual(rows, [("kept",)])

    @defer.inlineCallbacks
    def test_executemany(self):
        """
        The interaction cursor's C{executemany} takes C{?} too.
        """
        def fill(cursor):
            cursor.executemany("INSERT INTO items (name) VALUES (?)", [("a",), ("b",)])

        yield self.db.runInteraction(fill)
        self.assertEqual((yield self.db.runQuery("SELECT count(*) FROM items")), [(2,)])

    @defer.inlineCallbacks
    def test_pragmas(self):
        """
        Pool connections use WAL, a busy timeout and foreign keys.
        """
        [(mode,)] = yield self.db.runQuery("PRAGMA journal_mode")
        [(keys,)] = yield self.db.runQuery("PRAGMA foreign_keys")
        [(busy,)] = yield self.db.runQuery("PRAGMA busy_timeout")
        self.assertEqual((mode, keys, busy), ("wal", 1, 200))
        yield self.assertFailure(
            self.db.runOperation("INSERT INTO tags VALUES (?, ?)", 42, "x"),
            sqlite3.IntegrityError)

    def test_migrationsApplied(self):
        """
        Migrations are applied at start and listed in the figures.
        """
        self.assertEqual(self.db.appliedMigrations, ["001_items.sql"])
        self.assertEqual(self.db.figures()["appliedMigrations"], ["001_items.sql"])

    @defer.inlineCallbacks
    def test_restartKeepsData(self):
        """
        Stopping and starting again keeps the data and applies nothing anew.
        """
        yield self.db.runOperation("INSERT INTO items (name) VALUES (?)", "pen")
        self.db.stopService()
        self.assertIsNone(self.db.pool)
        self.db.startService()
        self.assertEqual(self.db.appliedMigrations, [])
        self.assertEqual((yield self.db.runQuery("SELECT name FROM items")), [("pen",)])

    def test_persistsWhileRunning(self):
        """
        A running service pickles without its pool.
        """
        assertPersists(self, self.db, lambda restored: self.assertIsNone(restored.pool))

    @defer.inlineCallbacks
    def test_setThreads(self):
        """
        Thread counts change at run time, in the pool and in the figures.
        """
        self.db.setThreads(1, 2)
        self.assertEqual((self.db.pool.threadpool.min, self.db.pool.threadpool.max), (1, 2))
        yield defer.gatherResults([self.db.runQuery("SELECT 1") for _ in range(5)])
        stats = self.db.figures()
        self.assertEqual((stats["minThreads"], stats["maxThreads"]), (1, 2))
        self.assertLessEqual(stats["threads"], 2)
        self.assertEqual(stats["url"], f"sqlite:///{self.path}?timeout=0.2")

    @defer.inlineCallbacks
    def test_lockedDatabase(self):
        """
        A write blocked by a lock past the busy timeout fails with
        L{DatabaseUnavailable}; once the lock goes, writes work again.
        """
        holder = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(holder.close)
        holder.execute("BEGIN IMMEDIATE")
        failure = yield self.assertFailure(
            self.db.runOperation("INSERT INTO items (name) VALUES (?)", "x"),
            DatabaseUnavailable)
        self.assertIn("locked", str(failure))
        holder.execute("ROLLBACK")
        yield self.db.runOperation("INSERT INTO items (name) VALUES (?)", "x")

    def restartUnwritable(self):
        """
        Restart the service, with one connection, while its file is not
        writable; return the function that makes it writable again.
        """
        self.db.stopService()
        self.db.setThreads(1, 1)
        restore = makeUnwritable(self, self.path)
        self.db.startService()
        return restore

    @defer.inlineCallbacks
    def test_unwritableFile(self):
        """
        While the file is not writable, reads work and writes fail with
        L{DatabaseUnavailable} (the web layer's 503) saying so.
        """
        self.restartUnwritable()
        self.assertEqual((yield self.db.runQuery("SELECT count(*) FROM items")), [(0,)])
        failure = yield self.assertFailure(
            self.db.runOperation("INSERT INTO items (name) VALUES (?)", "x"),
            DatabaseUnavailable)
        self.assertIn("attempt to write a readonly database", str(failure))

    @defer.inlineCallbacks
    def test_readOnlyConnectionReplaced(self):
        """
        A connection opened while the file was not writable (SQLite then
        opens it read-only, for good) is replaced once the file is writable
        again: no write fails after that.
        """
        restore = self.restartUnwritable()
        self.assertEqual((yield self.db.runQuery("SELECT count(*) FROM items")), [(0,)])
        restore()
        for name in ["a", "b", "c"]:
            yield self.db.runOperation("INSERT INTO items (name) VALUES (?)", name)
        self.assertEqual((yield self.db.runQuery("SELECT count(*) FROM items")), [(3,)])

    @defer.inlineCallbacks
    def test_readOnlyFailureReplacesConnection(self):
        """
        A connection whose write fails as read-only (SQLITE_READONLY) is
        replaced, so the next call does not fail the same way.
        """
        self.db.setThreads(1, 1)

        def readOnlyWrite(cursor):
            cursor.execute("PRAGMA query_only = ON")
            cursor.execute("INSERT INTO items (name) VALUES (?)", ("x",))

        yield self.assertFailure(self.db.runInteraction(readOnlyWrite), DatabaseUnavailable)
        yield self.db.runOperation("INSERT INTO items (name) VALUES (?)", "y")
        self.assertEqual((yield self.db.runQuery("SELECT name FROM items")), [("y",)])

    @defer.inlineCallbacks
    def test_reactorNeverWaits(self):
        """
        While a slow query runs in the pool, the reactor keeps running
        timed calls promptly.
        """
        slow = self.db.runQuery(SLOW_SQL, 3_000_000)
        finished = []
        slow.addCallback(lambda rows: finished.append(time.monotonic()))
        ticks = []
        tick = task.LoopingCall(lambda: ticks.append(time.monotonic()))
        tick.start(0.01)
        yield task.deferLater(reactor, 0.1, lambda: None)
        self.assertEqual(finished, [], "the slow query finished too soon to prove anything")
        self.assertGreaterEqual(len(ticks), 5)
        yield slow
        tick.stop()
        self.assertLess(max(b - a for a, b in zip(ticks, ticks[1:])), 0.5)


class MemoryTests(TestCase):
    """
    C{sqlite://:memory:} is one database for the whole running service.
    """

    timeout = 30

    @defer.inlineCallbacks
    def test_shared(self):
        """
        Tables made by migrations and rows written by one call are seen by
        the next, through a single pool thread.
        """
        base = tempDir(self)
        writeMigration(base, "001_t.sql", "CREATE TABLE t (x INTEGER);")
        db = DatabaseService("sqlite://:memory:", 3, 10, migrationDirs=[base])
        db.startService()
        self.addCleanup(db.stopService)
        self.assertEqual((db.pool.threadpool.min, db.pool.threadpool.max), (1, 1))
        yield defer.gatherResults(
            [db.runOperation("INSERT INTO t VALUES (?)", n) for n in range(10)])
        self.assertEqual((yield db.runQuery("SELECT count(*) FROM t")), [(10,)])
        db.setThreads(2, 20)
        self.assertEqual(db.pool.threadpool.max, 1)


class FileModeTests(TestCase):
    """
    An SQLite database the service creates is private to its owner whatever
    the umask; an existing file keeps the mode its operator gave it.
    """

    timeout = 30

    def setUp(self):
        self.addCleanup(os.umask, os.umask(0o000))
        self.path = os.path.join(tempDir(self), "app.sqlite3")

    def mode(self, path):
        return stat.S_IMODE(os.stat(path).st_mode)

    @defer.inlineCallbacks
    def test_createdPrivate(self):
        """
        Under umask 000 the new database and its -wal and -shm files are
        0600, and so is a -journal file made by a rollback-journal transaction.
        """
        db = DatabaseService(f"sqlite:///{self.path}")
        db.startService()
        self.addCleanup(db.stopService)
        yield db.runOperation("CREATE TABLE t (x)")
        self.assertEqual(self.mode(self.path), 0o600)
        for suffix in ("-wal", "-shm"):
            self.assertEqual(self.mode(self.path + suffix), 0o600, suffix)

        def journal(cursor):
            cursor.execute("PRAGMA journal_mode=DELETE")
            cursor.execute("PRAGMA locking_mode=EXCLUSIVE")
            cursor.execute("INSERT INTO t VALUES (1)")
            return self.mode(self.path + "-journal")

        db.setThreads(1, 1)
        self.assertEqual((yield db.runInteraction(journal)), 0o600)

    def test_createdPrivateBeforeMigrations(self):
        """
        The database is 0600 from the moment it exists, whoever opens it
        first: preparing it at start-up too.
        """
        db = DatabaseService(f"sqlite:///{self.path}")
        db.privilegedStartService()
        self.addCleanup(db.stopService)
        self.assertEqual(self.mode(self.path), 0o600)

    def test_existingModeKept(self):
        """
        A database file that exists keeps its mode.
        """
        sqlite3.connect(self.path).close()
        os.chmod(self.path, 0o640)
        db = DatabaseService(f"sqlite:///{self.path}")
        db.startService()
        self.addCleanup(db.stopService)
        self.assertEqual(self.mode(self.path), 0o640)
