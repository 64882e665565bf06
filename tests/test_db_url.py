"""
Tests for L{services.db.url}: database URL parsing and password masking.
"""

import pickle
import urllib.parse

from hypothesis import given, strategies as st
from twisted.persisted import aot
from twisted.trial.unittest import SynchronousTestCase

from services.db.url import DatabaseURL, databaseURL, maskURL, parseDatabaseURL


class SQLiteURLTests(SynchronousTestCase):
    """
    SQLite URLs follow SQLAlchemy's slashes.
    """

    def test_relative(self):
        """
        Three slashes give a path relative to the working directory.
        """
        url = parseDatabaseURL("sqlite:///data/app.sqlite3")
        self.assertEqual((url.backend, url.path), ("sqlite", "data/app.sqlite3"))
        self.assertFalse(url.inMemory)

    def test_absolute(self):
        """
        Four slashes give an absolute path.
        """
        self.assertEqual(parseDatabaseURL("sqlite:////var/lib/app.db").path, "/var/lib/app.db")

    def test_memory(self):
        """
        C{sqlite://:memory:} and C{sqlite:///:memory:} are in memory.
        """
        for text in ("sqlite://:memory:", "sqlite:///:memory:"):
            url = parseDatabaseURL(text)
            self.assertTrue(url.inMemory, text)

    def test_timeout(self):
        """
        The C{timeout} parameter is kept; a bad one is refused.
        """
        url = parseDatabaseURL("sqlite:///a.db?timeout=0.5")
        self.assertEqual(url.parameters, (("timeout", "0.5"),))
        self.assertRaises(ValueError, parseDatabaseURL, "sqlite:///a.db?timeout=soon")

    def test_unknownParameter(self):
        """
        An unknown SQLite parameter is named in the error.
        """
        e = self.assertRaises(ValueError, parseDatabaseURL, "sqlite:///a.db?mode=ro")
        self.assertIn("mode", str(e))

    def test_noPath(self):
        """
        A URL without a path is refused with one sentence.
        """
        for text in ("sqlite://", "sqlite:///", "sqlite://a.db"):
            e = self.assertRaises(ValueError, parseDatabaseURL, text)
            self.assertIn("no file path", str(e))


class PostgresURLTests(SynchronousTestCase):
    """
    PostgreSQL URLs give libpq's connection fields.
    """

    def test_full(self):
        """
        User, password, host, port and database are parsed and unquoted.
        """
        url = parseDatabaseURL("postgresql://app:s%40cret@db.example:6543/shop?sslmode=require")
        self.assertEqual(
            (url.backend, url.user, url.password, url.host, url.port, url.database),
            ("postgresql", "app", "s@cret", "db.example", 6543, "shop"))
        self.assertEqual(url.parameters, (("sslmode", "require"),))

    def test_minimal(self):
        """
        Only the database name is required; C{postgres://} is accepted.
        """
        url = parseDatabaseURL("postgres:///test")
        self.assertEqual((url.backend, url.host, url.port, url.user), ("postgresql", None, None, None))

    def test_noDatabase(self):
        """
        A URL naming no database is refused, with its password masked.
        """
        e = self.assertRaises(ValueError, parseDatabaseURL, "postgresql://u:hunter2@host")
        self.assertIn("names no database", str(e))
        self.assertNotIn("hunter2", str(e))

    def test_badPort(self):
        """
        A non-numeric port is refused without showing the password.
        """
        e = self.assertRaises(ValueError, parseDatabaseURL, "postgresql://u:hunter2@h:port/db")
        self.assertIn("invalid port", str(e))
        self.assertNotIn("hunter2", str(e))


class OtherURLTests(SynchronousTestCase):
    """
    Anything else is refused with one sentence.
    """

    def test_unsupportedScheme(self):
        """
        An unknown scheme is named.
        """
        e = self.assertRaises(ValueError, parseDatabaseURL, "mysql://u:pw@h/db")
        self.assertIn("'mysql'", str(e))
        self.assertNotIn("pw@", str(e))

    def test_notAURL(self):
        """
        Text without a scheme is not a URL.
        """
        e = self.assertRaises(ValueError, parseDatabaseURL, "app.db")
        self.assertIn("is not a database URL", str(e))

    def test_coerce(self):
        """
        The option coerce function parses strings, passes values through,
        and documents itself.
        """
        url = databaseURL("sqlite:///a.db")
        self.assertIsInstance(url, DatabaseURL)
        self.assertIs(databaseURL(url), url)
        self.assertTrue(databaseURL.coerceDoc)
        self.assertRaises(ValueError, databaseURL, "nope")


class MaskTests(SynchronousTestCase):
    """
    L{maskURL} hides passwords.
    """

    def test_password(self):
        """
        The password becomes C{***}; the rest stays.
        """
        self.assertEqual(maskURL("postgresql://app:secret@h:5432/db"),
                         "postgresql://app:***@h:5432/db")

    def test_noPassword(self):
        """
        URLs without a password are unchanged.
        """
        for text in ("postgresql://app@h/db", "sqlite:///a.db", "postgresql:///db"):
            self.assertEqual(maskURL(text), text)

    def test_value(self):
        """
        A L{DatabaseURL} is masked too, including its C{str} and C{repr}.
        """
        url = parseDatabaseURL("postgresql://app:secret@h/db")
        for shown in (maskURL(url), str(url), repr(url)):
            self.assertNotIn("secret", shown)

    def test_malformed(self):
        """
        An unencoded C{/} or C{?} in a password is still masked.
        """
        self.assertEqual(maskURL("postgresql://u:pa/ss?x@h/db"), "postgresql://u:***@h/db")

    @given(st.text(min_size=1).filter(lambda p: "\x00" not in p))
    def test_anyPassword(self, password):
        """
        Whatever the (quoted) password, the masked URL does not contain it.
        """
        quoted = urllib.parse.quote(password, safe="")
        text = f"postgresql://someone:{quoted}@dbhost/db"
        masked = maskURL(text)
        self.assertEqual(masked, "postgresql://someone:***@dbhost/db")
        self.assertEqual(parseDatabaseURL(text).password, password)


class PersistenceTests(SynchronousTestCase):
    """
    A parsed URL survives pickling and AOT source.
    """

    def test_roundTrip(self):
        """
        Pickle and AOT give back an equal value.
        """
        url = parseDatabaseURL("postgresql://a:b@h:1/db?sslmode=require")
        self.assertEqual(pickle.loads(pickle.dumps(url)), url)
        self.assertEqual(aot.unjellyFromSource(aot.jellyToSource(url)), url)
