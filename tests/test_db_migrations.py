"""
Tests for L{services.db.migrations}, on SQLite.
"""

import os
import sqlite3

from twisted.trial.unittest import SynchronousTestCase

from services.db.dialects import SQLite
from services.db.migrations import (TABLE, MigrationError, applyMigrations,
                                    findMigrations)
from services.db.url import parseDatabaseURL
from tests.support import tempDir


def write(directory, name, text):
    """
    Write C{text} to C{directory/name}, creating the directory.
    """
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class FindTests(SynchronousTestCase):
    """
    L{findMigrations} lists files in the order they apply.
    """

    def setUp(self):
        self.dir = os.path.join(tempDir(self), "migrations")

    def test_numericOrder(self):
        """
        Files apply by number, not by spelling; other files are ignored.
        """
        write(self.dir, "10_later.sql", "")
        write(self.dir, "002_second.sql", "")
        write(self.dir, "001_first.sql", "")
        write(self.dir, "README.txt", "")
        names = [m.name for m in findMigrations([self.dir])]
        self.assertEqual(names, ["001_first.sql", "002_second.sql", "10_later.sql"])

    def test_directoriesInOrder(self):
        """
        Directories apply in the order given.
        """
        other = os.path.join(os.path.dirname(self.dir), "other")
        write(self.dir, "001_b.sql", "")
        write(other, "001_a.sql", "")
        names = [m.name for m in findMigrations([self.dir, other])]
        self.assertEqual(names, ["001_b.sql", "001_a.sql"])

    def test_missingDirectory(self):
        """
        A directory that does not exist has no migrations.
        """
        self.assertEqual(findMigrations([self.dir]), [])

    def test_notADirectory(self):
        """
        A file given as a directory is an error.
        """
        path = write(os.path.dirname(self.dir), "file", "")
        self.assertRaises(MigrationError, findMigrations, [path])

    def test_misnamed(self):
        """
        A C{.sql} file without a number is an error naming it.
        """
        write(self.dir, "init.sql", "")
        e = self.assertRaises(MigrationError, findMigrations, [self.dir])
        self.assertIn("init.sql", str(e))

    def test_sameNumber(self):
        """
        Two files with one number in a directory are an error naming both.
        """
        write(self.dir, "001_a.sql", "")
        write(self.dir, "1_b.sql", "")
        e = self.assertRaises(MigrationError, findMigrations, [self.dir])
        self.assertIn("001_a.sql", str(e))
        self.assertIn("1_b.sql", str(e))

    def test_sameNameTwice(self):
        """
        One file name in two directories is an error.
        """
        other = os.path.join(os.path.dirname(self.dir), "other")
        write(self.dir, "001_a.sql", "")
        write(other, "001_a.sql", "")
        e = self.assertRaises(MigrationError, findMigrations, [self.dir, other])
        self.assertIn("same name", str(e))

    def test_checksum(self):
        """
        The checksum is the SHA-256 of the bytes.
        """
        write(self.dir, "001_a.sql", "x")
        [migration] = findMigrations([self.dir])
        self.assertEqual(migration.checksum,
                         "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881")


class ApplyTests(SynchronousTestCase):
    """
    L{applyMigrations} applies each file once, in a transaction.
    """

    def setUp(self):
        base = tempDir(self)
        self.dir = os.path.join(base, "migrations")
        url = parseDatabaseURL(f"sqlite:///{base}/db.sqlite3")
        self.dialect = SQLite(url)
        self.connection = sqlite3.connect(url.path)
        self.addCleanup(self.connection.close)

    def apply(self):
        return applyMigrations(self.connection, self.dialect, findMigrations([self.dir]))

    def rows(self, sql):
        return self.connection.execute(sql).fetchall()

    def test_appliesInOrder(self):
        """
        Files run in order, and each is recorded with its checksum.
        """
        write(self.dir, "001_t.sql", "CREATE TABLE t (x TEXT);")
        write(self.dir, "002_fill.sql", "INSERT INTO t VALUES ('a; b');\nINSERT INTO t VALUES ('c')")
        self.assertEqual(self.apply(), ["001_t.sql", "002_fill.sql"])
        self.assertEqual(self.rows("SELECT x FROM t"), [("a; b",), ("c",)])
        recorded = self.rows(f"SELECT name, length(checksum) FROM {TABLE} ORDER BY name")
        self.assertEqual(recorded, [("001_t.sql", 64), ("002_fill.sql", 64)])

    def test_idempotent(self):
        """
        Applying again does nothing; a new file is applied alone.
        """
        write(self.dir, "001_t.sql", "CREATE TABLE t (x TEXT);")
        self.apply()
        self.assertEqual(self.apply(), [])
        write(self.dir, "002_u.sql", "CREATE TABLE u (x TEXT);")
        self.assertEqual(self.apply(), ["002_u.sql"])

    def test_changedFile(self):
        """
        A file changed after it was applied is an error naming it, and
        nothing after it is applied.
        """
        path = write(self.dir, "001_t.sql", "CREATE TABLE t (x TEXT);")
        self.apply()
        write(self.dir, "001_t.sql", "CREATE TABLE t (x TEXT, y TEXT);")
        write(self.dir, "002_u.sql", "CREATE TABLE u (x TEXT);")
        e = self.assertRaises(MigrationError, self.apply)
        self.assertIn(path, str(e))
        self.assertIn("changed", str(e))
        self.assertEqual(self.rows("SELECT name FROM sqlite_master WHERE name = 'u'"), [])

    def test_failureRollsBack(self):
        """
        A failing file leaves neither its changes nor its record; the files
        before it stay applied.
        """
        write(self.dir, "001_t.sql", "CREATE TABLE t (x TEXT);")
        path = write(self.dir, "002_bad.sql",
                     "CREATE TABLE u (x TEXT);\nINSERT INTO nowhere VALUES (1);")
        e = self.assertRaises(MigrationError, self.apply)
        self.assertIn(path, str(e))
        self.assertIn("nowhere", str(e))
        tables = {row[0] for row in self.rows("SELECT name FROM sqlite_master")}
        self.assertIn("t", tables)
        self.assertNotIn("u", tables)
        self.assertEqual(self.rows(f"SELECT name FROM {TABLE}"), [("001_t.sql",)])

    def test_trigger(self):
        """
        Statements with inner semicolons, such as triggers, run whole.
        """
        write(self.dir, "001_t.sql", """
            CREATE TABLE t (x TEXT);
            CREATE TABLE log (x TEXT);
            CREATE TRIGGER t_log AFTER INSERT ON t BEGIN
                INSERT INTO log VALUES (new.x); INSERT INTO log VALUES ('again');
            END;
            -- a trailing comment
        """)
        self.apply()
        self.connection.execute("INSERT INTO t VALUES ('z')")
        self.assertEqual(self.rows("SELECT x FROM log"), [("z",), ("again",)])
