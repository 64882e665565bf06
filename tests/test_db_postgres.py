"""
Tests for L{services.db.DatabaseService} against a real PostgreSQL on
127.0.0.1:5432 (database C{test}), each test in its own schema.
"""

import os
import time
import uuid

from twisted.internet import defer, reactor, task
from twisted.trial.unittest import TestCase

from services.db import DatabaseService, DatabaseUnavailable, MigrationError, UnstorableText
from tests.support import requireService, tempDir

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def admin(sql, *values):
    """
    Run one statement on a connection of its own, outside any pool, and
    return its rows (or L{None}).
    """
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        cursor = connection.execute(sql, values or None)
        return cursor.fetchall() if cursor.description else None


def writeMigration(directory, name, text):
    """
    Write a migration file, creating its directory.
    """
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "w") as f:
        f.write(text)


class PostgresServiceTests(TestCase):
    """
    A running service on PostgreSQL.
    """

    timeout = 60

    def setUp(self):
        requireService("PostgreSQL", "127.0.0.1", 5432)
        self.schema = f"appserver_test_{uuid.uuid4().hex[:12]}"
        admin(f"CREATE SCHEMA {self.schema}")
        self.addCleanup(admin, f"DROP SCHEMA {self.schema} CASCADE")
        self.migrations = os.path.join(tempDir(self), "migrations")
        writeMigration(self.migrations, "001_items.sql", """
            CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL);
            INSERT INTO items (name) VALUES ('100% seeded');
        """)
        self.url = (f"postgresql://postgres:secret@127.0.0.1:5432/test"
                    f"?options=-csearch_path%3D{self.schema}"
                    f"&application_name={self.schema}")
        self.db = self.startDatabase()

    def startDatabase(self):
        db = DatabaseService(self.url, migrationDirs=[self.migrations])
        db.startService()
        self.addCleanup(db.stopService)
        return db

    def terminateOurConnections(self):
        """
        Kill every server process serving this test's pool, and wait until
        they are gone.
        """
        return admin("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                     "WHERE application_name = %s", self.schema)

    @defer.inlineCallbacks
    def test_placeholders(self):
        """
        C{?} placeholders work on PostgreSQL, with C{%} and C{?} in literals.
        """
        yield self.db.runOperation("INSERT INTO items (name) VALUES (?)", "50% off?")
        rows = yield self.db.runQuery(
            "SELECT name, '?' FROM items WHERE name LIKE '%off%' AND id > ?", 0)
        self.assertEqual(rows, [("50% off?", "?")])
        rows = yield self.db.runQuery("SELECT name FROM items WHERE name LIKE '100%'")
        self.assertEqual(rows, [("100% seeded",)])

    @defer.inlineCallbacks
    def test_interactionRollsBack(self):
        """
        An interaction that raises leaves nothing behind.
        """
        def add(cursor):
            cursor.execute("INSERT INTO items (name) VALUES (?)", ("lost",))
            raise ValueError("no")

        yield self.assertFailure(self.db.runInteraction(add), ValueError)
        rows = yield self.db.runQuery("SELECT count(*) FROM items")
        self.assertEqual(rows, [(1,)])

    @defer.inlineCallbacks
    def test_nulRefused(self):
        """
        Text holding a NUL character, which PostgreSQL cannot store, fails
        the call with L{UnstorableText} naming the value, in a statement or
        any row of C{executemany}; nothing is stored and the pool goes on.
        """
        failure = yield self.assertFailure(
            self.db.runOperation("INSERT INTO items (name) VALUES (?)", "a\x00b"), UnstorableText)
        self.assertEqual(str(failure), "PostgreSQL text cannot hold NUL characters (value 1).")

        def addMany(cursor):
            cursor.executemany("INSERT INTO items (name) VALUES (?)", [("ok",), (["\x00"],)])

        yield self.assertFailure(self.db.runInteraction(addMany), UnstorableText)
        rows = yield self.db.runQuery("SELECT count(*) FROM items")
        self.assertEqual(rows, [(1,)])

    def test_migrations(self):
        """
        Migrations apply once; a changed file stops the next start.
        """
        self.assertEqual(self.db.appliedMigrations, ["001_items.sql"])
        self.db.stopService()
        self.db.startService()
        self.assertEqual(self.db.appliedMigrations, [])
        self.db.stopService()
        writeMigration(self.migrations, "001_items.sql", "CREATE TABLE other (x INT);")
        e = self.assertRaises(MigrationError, self.db.startService)
        self.assertIn("001_items.sql", str(e))

    @defer.inlineCallbacks
    def test_recoversAfterTerminate(self):
        """
        After the server kills the pool's idle connections, the next calls
        reconnect and succeed.
        """
        yield defer.gatherResults([self.db.runQuery("SELECT 1") for _ in range(6)])
        self.assertTrue(self.terminateOurConnections())
        rows = yield defer.gatherResults(
            [self.db.runQuery("SELECT count(*) FROM items") for _ in range(6)])
        self.assertEqual(rows, [[(1,)]] * 6)

    @defer.inlineCallbacks
    def test_killedQueryIsUnavailable(self):
        """
        A query whose connection is killed while it runs fails with
        L{DatabaseUnavailable}, naming the masked URL; the pool then
        recovers without a restart.
        """
        slow = self.db.runQuery("SELECT pg_sleep(10)")
        deadline = time.monotonic() + 10
        while not admin("SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                        "AND query LIKE 'SELECT pg_sleep%%'", self.schema):
            self.assertLess(time.monotonic(), deadline, "the slow query never started")
            yield task.deferLater(reactor, 0.02, lambda: None)
        self.terminateOurConnections()
        failure = yield self.assertFailure(slow, DatabaseUnavailable)
        self.assertIn("postgresql://postgres:***@127.0.0.1:5432/test", str(failure))
        self.assertNotIn("secret", str(failure))
        rows = yield self.db.runQuery("SELECT count(*) FROM items")
        self.assertEqual(rows, [(1,)])

    @defer.inlineCallbacks
    def test_reactorNeverWaits(self):
        """
        While C{pg_sleep} runs in the pool, the reactor keeps running timed
        calls every 10 ms.
        """
        slow = self.db.runQuery("SELECT pg_sleep(0.5)")
        ticks = []
        tick = task.LoopingCall(lambda: ticks.append(time.monotonic()))
        tick.start(0.01)
        yield slow
        tick.stop()
        self.assertGreaterEqual(len(ticks), 10)
        self.assertLess(max(b - a for a, b in zip(ticks, ticks[1:])), 0.25)

    def test_stats(self):
        """
        The figures show the masked URL and the backend.
        """
        stats = self.db.figures()
        self.assertEqual(stats["backend"], "postgresql")
        self.assertNotIn("secret", stats["url"])
