"""
Tests for the session server's string and key commands that pin
behaviours mutation testing found no test noticing (docs/mutation.md).
"""

from services.sessionserver import keyspace
from services.resp import OK
from tests.test_commands import NOW, CommandTestCase

INT64_MAX = 2**63 - 1
INT64_MIN = -2**63


class ExpiryBoundTests(CommandTestCase):
    """
    The largest expiry times Redis accepts are accepted, one more is not.
    """

    def test_largestAbsoluteSeconds(self):
        """EXAT takes the largest number of seconds whose milliseconds fit in 64 bits."""
        self.assertEqual(self.run_("SET", "k", "v", "EXAT", INT64_MAX // 1000), OK)
        self.assertError("ERR invalid expire time in 'set' command",
                         "SET", "k", "v", "EXAT", INT64_MAX // 1000 + 1)

    def test_largestRelativeMillis(self):
        """PX, and PEXPIRE, take a time to live ending at the largest 64-bit time."""
        self.assertEqual(self.run_("SET", "k", "v", "PX", INT64_MAX - NOW), OK)
        self.assertError("ERR invalid expire time in 'set' command",
                         "SET", "k", "v", "PX", INT64_MAX - NOW + 1)
        self.assertEqual(self.run_("PEXPIRE", "k", INT64_MAX - NOW), 1)
        self.assertError("ERR invalid expire time in 'pexpire' command",
                         "PEXPIRE", "k", INT64_MAX - NOW + 1)

    def test_ttlRounding(self):
        """TTL rounds the milliseconds left to the nearest second."""
        self.run_("SET", "k", "v", "PX", 1499)
        self.assertEqual(self.run_("TTL", "k"), 1)
        self.run_("SET", "k", "v", "PX", 1500)
        self.assertEqual(self.run_("TTL", "k"), 2)


class ExpireOptionTests(CommandTestCase):
    """
    EXPIRE's NX, XX, GT and LT, at their edges.
    """

    def test_sameTimeIsNotGreaterOrLess(self):
        """GT and LT refuse the expiry the key already has."""
        self.run_("SET", "k", "v")
        when = NOW + 5000
        self.assertEqual(self.run_("PEXPIREAT", "k", when), 1)
        self.assertEqual(self.run_("PEXPIREAT", "k", when, "GT"), 0)
        self.assertEqual(self.run_("PEXPIREAT", "k", when, "LT"), 0)
        self.assertEqual(self.run_("PEXPIREAT", "k", when + 1, "GT"), 1)

    def test_nxWithLt(self):
        """NX with LT is refused as NX with XX or GT is."""
        self.run_("SET", "k", "v")
        self.assertError("ERR NX and XX, GT or LT options at the same time are not compatible",
                         "EXPIRE", "k", 10, "NX", "LT")

    def test_undecodableOption(self):
        """An unknown option that is not UTF-8 is named, not a crash."""
        self.run_("SET", "k", "v")
        self.assertError("ERR Unsupported option \ufffd", "EXPIRE", "k", 10, b"\xff")


class SetOptionTests(CommandTestCase):
    """
    SET's KEEPTTL and the options it excludes.
    """

    def test_keepTTL(self):
        """SET KEEPTTL keeps the key's expiry; GETEX has no KEEPTTL."""
        self.run_("SET", "k", "v", "EX", 100)
        self.assertEqual(self.run_("SET", "k", "w", "KEEPTTL"), OK)
        self.assertEqual(self.run_("TTL", "k"), 100)
        self.assertEqual(self.run_("GET", "k"), b"w")
        self.assertError("ERR syntax error", "GETEX", "k", "KEEPTTL")

    def test_keepTTLExcludesExpiry(self):
        """SET refuses KEEPTTL with an expiry, either way round, and NX after XX."""
        self.assertError("ERR syntax error", "SET", "k", "v", "KEEPTTL", "EX", 10)
        self.assertError("ERR syntax error", "SET", "k", "v", "EX", 10, "KEEPTTL")
        self.assertError("ERR syntax error", "SET", "k", "v", "XX", "NX")


class CounterTests(CommandTestCase):
    """
    Counters reach the 64-bit bounds exactly.
    """

    def test_bounds(self):
        """INCRBY reaches the largest 64-bit integer and DECRBY the smallest."""
        self.run_("SET", "k", 0)
        self.assertEqual(self.run_("INCRBY", "k", INT64_MAX), INT64_MAX)
        self.assertError("ERR increment or decrement would overflow", "INCR", "k")
        self.run_("SET", "k", -1)
        self.assertEqual(self.run_("DECRBY", "k", INT64_MAX), INT64_MIN)
        self.assertError("ERR increment or decrement would overflow", "DECR", "k")


class AppendTests(CommandTestCase):
    """
    APPEND's size limit and expiry.
    """

    def test_limit(self):
        """APPEND may reach the largest string exactly, not pass it."""
        self.patch(keyspace, "MAX_STRING", 10)
        self.run_("SET", "k", "12345")
        self.assertEqual(self.run_("APPEND", "k", "67890"), 10)
        self.assertError("ERR string exceeds maximum allowed size (proto-max-bulk-len)",
                         "APPEND", "k", "1")

    def test_keepsExpiry(self):
        """APPEND keeps the key's expiry."""
        self.run_("SET", "k", "v", "EX", 100)
        self.run_("APPEND", "k", "w")
        self.assertEqual(self.run_("TTL", "k"), 100)


class ScanTests(CommandTestCase):
    """
    SCAN's smallest COUNT, its TYPE filter and a negative cursor.
    """

    def setUp(self):
        CommandTestCase.setUp(self)
        for i in range(30):
            self.run_("SET", f"k{i}", "v")

    def walk(self, *options, cursor=0):
        seen = []
        while True:
            cursor, keys = self.run_("SCAN", cursor, *options)
            seen.extend(keys)
            if cursor == b"0":
                return sorted(seen)

    def test_countOne(self):
        """COUNT 1 is accepted and walks every key."""
        self.assertEqual(self.walk("COUNT", 1), sorted(b"k%d" % i for i in range(30)))

    def test_type(self):
        """TYPE string, in any case, finds the strings; another type finds none."""
        everything = sorted(b"k%d" % i for i in range(30))
        self.assertEqual(self.walk("TYPE", "string"), everything)
        self.assertEqual(self.walk("TYPE", "STRING"), everything)
        self.assertEqual(self.walk("TYPE", "hash"), [])

    def test_negativeCursor(self):
        """A negative cursor starts the walk from the beginning."""
        self.assertEqual(self.walk("COUNT", 1000, cursor=-1), self.walk("COUNT", 1000))
