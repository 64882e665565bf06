"""
Tests for the string and key commands added for Redis compatibility
(L{services.sessionserver.strings}, L{services.sessionserver.keyops}): their
semantics, Redis 7's error texts, what the journal replays and what memory
accounting counts.
"""

import os

from services.sessionserver import journal as journalModule
from services.sessionserver.journal import Journal, JournalWriteError
from services.sessionserver.store import KEY_OVERHEAD, Store
from services.sessionserver.strings import formatFloat, parseFloat
from tests.support import captureLog, tempDir
from tests.test_commands import NOW, CommandTestCase
from tests.test_journal_failures import FailingDisk

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_FLOAT = "ERR value is not a valid float"
NOT_INTEGER = "ERR value is not an integer or out of range"


class GetSetTests(CommandTestCase):
    """
    GETSET.
    """

    def test_getset(self):
        """GETSET answers the old value (nil when absent) and sets the new one."""
        self.assertIsNone(self.run_("GETSET", "k", "a"))
        self.assertEqual(self.run_("GETSET", "k", "b"), b"a")
        self.assertEqual(self.run_("GET", "k"), b"b")

    def test_getsetRemovesExpiry(self):
        """GETSET, like SET, drops the key's time to live."""
        self.run_("SET", "k", "a", "EX", 100)
        self.run_("GETSET", "k", "b")
        self.assertEqual(self.run_("TTL", "k"), -1)

    def test_getsetWrongType(self):
        """GETSET on a hash is Redis's WRONGTYPE error and changes nothing."""
        self.run_("HSET", "h", "f", "v")
        self.assertError(WRONGTYPE, "GETSET", "h", "x")
        self.assertEqual(self.run_("TYPE", "h"), "hash")

    def test_getsetArity(self):
        """GETSET takes exactly a key and a value."""
        self.assertError("ERR wrong number of arguments for 'getset' command", "GETSET", "k")


class IncrByFloatTests(CommandTestCase):
    """
    INCRBYFLOAT.
    """

    def test_incrbyfloat(self):
        """Missing keys count from 0; results are written without exponent or trailing zeros."""
        self.assertEqual(self.run_("INCRBYFLOAT", "n", "1.5"), b"1.5")
        self.assertEqual(self.run_("INCRBYFLOAT", "n", "0.1"), b"1.6")
        self.assertEqual(self.run_("INCRBYFLOAT", "n", "-1.6"), b"0")
        self.assertEqual(self.run_("INCRBYFLOAT", "n", "0x10"), b"16")
        self.assertEqual(self.run_("INCRBYFLOAT", "n", "1e20"), b"100000000000000000000")
        self.assertEqual(self.run_("GET", "n"), b"100000000000000000000")

    def test_integerValue(self):
        """An integer value is incremented as a float; 5.0e3 is read."""
        self.run_("SET", "n", "3")
        self.assertEqual(self.run_("INCRBYFLOAT", "n", "5.0e3"), b"5003")
        self.run_("SET", "n", "10.50")
        self.assertEqual(self.run_("INCRBYFLOAT", "n", "0"), b"10.5")

    def test_keepsExpiry(self):
        """INCRBYFLOAT keeps the key's time to live."""
        self.run_("SET", "n", "1", "PX", 5000)
        self.run_("INCRBYFLOAT", "n", "1")
        self.assertEqual(self.run_("PTTL", "n"), 5000)

    def test_notFloats(self):
        """Spaces, garbage and NaN, in the increment or the value, are not floats."""
        for bad in ("abc", " 1", "1 ", "", "nan", "1_0", "1e", "0x", "1e5000", "-0x1p99999",
                    "1\x002", "x" * 6000):
            self.assertError(NOT_FLOAT, "INCRBYFLOAT", "n", bad)
        self.assertEqual(self.run_("EXISTS", "n"), 0)
        self.run_("SET", "n", "1 ")
        self.assertError(NOT_FLOAT, "INCRBYFLOAT", "n", "1")
        self.assertEqual(self.run_("GET", "n"), b"1 ")

    def test_infinity(self):
        """An infinite increment or result is refused and the value kept."""
        self.run_("SET", "n", "1")
        self.assertError("ERR increment would produce NaN or Infinity",
                         "INCRBYFLOAT", "n", "inf")
        self.run_("SET", "n", "1e308")
        self.assertError("ERR increment would produce NaN or Infinity",
                         "INCRBYFLOAT", "n", "1e308")
        self.assertEqual(self.run_("GET", "n"), b"1e308")

    def test_wrongType(self):
        """INCRBYFLOAT on a set is WRONGTYPE."""
        self.run_("SADD", "s", "m")
        self.assertError(WRONGTYPE, "INCRBYFLOAT", "s", "1")

    def test_parseAndFormat(self):
        """parseFloat reads what strtold reads whole; formatFloat rounds to 17 decimals."""
        self.assertEqual(parseFloat(b"-.5E+1"), -5.0)
        self.assertEqual(parseFloat(b"0x1.8p1"), 3.0)
        self.assertEqual(parseFloat(b"-Infinity"), float("-inf"))
        self.assertEqual(formatFloat(1e-20), b"0")
        self.assertEqual(formatFloat(-0.0), b"0")
        self.assertEqual(formatFloat(2.5e-5), b"0.000025")
        self.assertEqual(formatFloat(-3.0), b"-3")


class RangeTests(CommandTestCase):
    """
    SETRANGE and GETRANGE.
    """

    def test_setrange(self):
        """SETRANGE overwrites in place, pads with zero bytes, answers the new length."""
        self.run_("SET", "k", "Hello World")
        self.assertEqual(self.run_("SETRANGE", "k", 6, "Redis"), 11)
        self.assertEqual(self.run_("GET", "k"), b"Hello Redis")
        self.assertEqual(self.run_("SETRANGE", "new", 3, "ab"), 5)
        self.assertEqual(self.run_("GET", "new"), b"\0\0\0ab")
        self.assertEqual(self.run_("SETRANGE", "k", 13, "!"), 14)
        self.assertEqual(self.run_("GET", "k"), b"Hello Redis\0\0!")

    def test_setrangeEmptyValue(self):
        """An empty value changes nothing: it answers the length, creating no key."""
        self.assertEqual(self.run_("SETRANGE", "missing", 536870911, ""), 0)
        self.assertEqual(self.run_("EXISTS", "missing"), 0)
        self.run_("SET", "k", "abc")
        self.assertEqual(self.run_("SETRANGE", "k", 10, ""), 3)
        self.assertEqual(self.run_("GET", "k"), b"abc")

    def test_setrangeErrors(self):
        """Negative offsets, results over 512 MB and non-integers are Redis's errors."""
        self.assertError("ERR offset is out of range", "SETRANGE", "k", -1, "a")
        self.assertError("ERR string exceeds maximum allowed size (proto-max-bulk-len)",
                         "SETRANGE", "k", 536870912, "a")
        self.assertError(NOT_INTEGER, "SETRANGE", "k", "a", "a")
        self.run_("HSET", "h", "f", "v")
        self.assertError(WRONGTYPE, "SETRANGE", "h", 0, "a")

    def test_setrangeKeepsExpiry(self):
        """SETRANGE keeps the time to live."""
        self.run_("SET", "k", "abc", "PX", 9000)
        self.run_("SETRANGE", "k", 1, "x")
        self.assertEqual(self.run_("PTTL", "k"), 9000)

    def test_getrange(self):
        """GETRANGE takes inclusive offsets, negative ones from the end, clamped."""
        self.run_("SET", "k", "This is a string")
        cases = [((0, 3), b"This"), ((-3, -1), b"ing"), ((0, -1), b"This is a string"),
                 ((10, 100), b"string"), ((-100, 2), b"Thi"), ((5, 3), b""),
                 ((-1, -5), b""), ((100, 200), b""), ((-1, -1), b"g")]
        for (start, end), expected in cases:
            self.assertEqual(self.run_("GETRANGE", "k", start, end), expected, (start, end))
        self.assertEqual(self.run_("GETRANGE", "missing", 0, -1), b"")
        self.run_("SET", "e", "")
        self.assertEqual(self.run_("GETRANGE", "e", 0, -1), b"")

    def test_getrangeErrors(self):
        """Offsets must be integers; a hash is WRONGTYPE."""
        self.assertError(NOT_INTEGER, "GETRANGE", "k", "a", 1)
        self.run_("HSET", "h", "f", "v")
        self.assertError(WRONGTYPE, "GETRANGE", "h", 0, 1)


class MsetnxTests(CommandTestCase):
    """
    MSETNX.
    """

    def test_msetnx(self):
        """MSETNX sets all the keys when none exists, else none of them."""
        self.assertEqual(self.run_("MSETNX", "a", 1, "b", 2), 1)
        self.assertEqual(self.run_("MSETNX", "c", 3, "a", 9), 0)
        self.assertEqual(self.run_("MGET", "a", "b", "c"), [b"1", b"2", None])

    def test_anyTypeBlocks(self):
        """A key of any type counts as existing."""
        self.run_("SADD", "s", "m")
        self.assertEqual(self.run_("MSETNX", "c", 3, "s", 9), 0)
        self.assertEqual(self.run_("EXISTS", "c"), 0)

    def test_arity(self):
        """A key without a value is Redis's arity error."""
        for args in (("MSETNX", "a"), ("MSETNX", "a", 1, "b")):
            self.assertError("ERR wrong number of arguments for 'msetnx' command", *args)


class RenameTests(CommandTestCase):
    """
    RENAME and RENAMENX.
    """

    def test_rename(self):
        """RENAME moves value and expiry, replacing the destination and its expiry."""
        self.run_("SET", "a", "1", "PX", 5000)
        self.run_("SET", "b", "2", "PX", 9000)
        self.assertEqual(self.run_("RENAME", "a", "b"), "OK")
        self.assertEqual(self.run_("EXISTS", "a"), 0)
        self.assertEqual(self.run_("GET", "b"), b"1")
        self.assertEqual(self.run_("PTTL", "b"), 5000)
        self.run_("SET", "c", "3")
        self.run_("RENAME", "c", "b")
        self.assertEqual(self.run_("TTL", "b"), -1)

    def test_renameAnyType(self):
        """A hash or set moves whole, the same value object, keeping its type."""
        self.run_("HSET", "h", "f", "v")
        value = self.store.peek(b"h")[0]
        self.run_("RENAME", "h", "g")
        self.assertIs(self.store.peek(b"g")[0], value)
        self.assertEqual(self.run_("HGET", "g", "f"), b"v")
        self.run_("SADD", "s", "m")
        self.run_("RENAME", "s", "g")
        self.assertEqual(self.run_("TYPE", "g"), "set")

    def test_renameMissing(self):
        """A missing or expired source is 'no such key', even renamed to itself."""
        self.assertError("ERR no such key", "RENAME", "none", "x")
        self.assertError("ERR no such key", "RENAME", "none", "none")
        self.assertError("ERR no such key", "RENAMENX", "none", "x")
        self.run_("SET", "e", "1", "PX", 10)
        self.clock.advance(1)
        self.assertError("ERR no such key", "RENAME", "e", "x")

    def test_renameToItself(self):
        """RENAME of a key to itself is OK; RENAMENX answers 0."""
        self.run_("SET", "a", "1")
        self.assertEqual(self.run_("RENAME", "a", "a"), "OK")
        self.assertEqual(self.run_("RENAMENX", "a", "a"), 0)
        self.assertEqual(self.run_("GET", "a"), b"1")

    def test_renamenx(self):
        """RENAMENX renames only onto a name that does not exist."""
        self.run_("MSET", "a", 1, "b", 2)
        self.assertEqual(self.run_("RENAMENX", "a", "b"), 0)
        self.assertEqual(self.run_("MGET", "a", "b"), [b"1", b"2"])
        self.assertEqual(self.run_("RENAMENX", "a", "c"), 1)
        self.assertEqual(self.run_("MGET", "a", "c"), [None, b"1"])

    def test_memory(self):
        """Memory follows the key's new name."""
        self.run_("SET", "a", "value")
        before = self.store.usedMemory
        self.run_("RENAME", "a", "longer")
        self.assertEqual(self.store.usedMemory, before + len("longer") - len("a"))
        self.run_("SET", "x", "1")
        self.run_("RENAME", "x", "longer")
        self.assertEqual(self.store.usedMemory, len("longer") + 1 + KEY_OVERHEAD)


class RenameFullTests(CommandTestCase):
    """
    RENAME under a full noeviction store.
    """

    maxmemory = 300
    policy = "noeviction"

    def test_renameWhenFull(self):
        """RENAME neither fails nor loses the key when memory is full (it adds none)."""
        self.run_("SET", "a", "x" * 150)
        self.assertEqual(self.run_("RENAME", "a", "a-longer-name"), "OK")
        self.assertEqual(self.run_("STRLEN", "a-longer-name"), 150)


class CopyTests(CommandTestCase):
    """
    COPY.
    """

    def test_copy(self):
        """COPY copies value and expiry; an existing destination needs REPLACE."""
        self.run_("SET", "a", "1", "PX", 5000)
        self.assertEqual(self.run_("COPY", "a", "b"), 1)
        self.assertEqual(self.run_("MGET", "a", "b"), [b"1", b"1"])
        self.assertEqual(self.run_("PTTL", "b"), 5000)
        self.run_("SET", "a", "2")
        self.assertEqual(self.run_("COPY", "a", "b"), 0)
        self.assertEqual(self.run_("COPY", "a", "b", "replace"), 1)
        self.assertEqual(self.run_("GET", "b"), b"2")
        self.assertEqual(self.run_("TTL", "b"), -1)
        self.assertEqual(self.run_("COPY", "missing", "c"), 0)

    def test_copyIsIndependent(self):
        """A copied hash or set is a new value: changing one leaves the other."""
        self.run_("HSET", "h", "f", "v")
        self.run_("COPY", "h", "h2")
        self.run_("HSET", "h2", "f", "changed")
        self.assertEqual(self.run_("HGET", "h", "f"), b"v")
        self.run_("SADD", "s", "m")
        self.run_("COPY", "s", "s2")
        self.run_("SREM", "s", "m")
        self.assertEqual(self.run_("SCARD", "s2"), 1)

    def test_copyMemory(self):
        """A copy is counted as a new key."""
        self.run_("SET", "a", "value")
        before = self.store.usedMemory
        self.run_("COPY", "a", "b")
        self.assertEqual(self.store.usedMemory, 2 * before)

    def test_copyOptions(self):
        """DB 0 is accepted, another DB is out of range, anything else a syntax error."""
        self.run_("SET", "a", "1")
        self.assertEqual(self.run_("COPY", "a", "b", "DB", 0), 1)
        self.assertError("ERR DB index is out of range", "COPY", "a", "c", "db", 1)
        self.assertError(NOT_INTEGER, "COPY", "a", "c", "DB", "x")
        self.assertError("ERR syntax error", "COPY", "a", "c", "DB")
        self.assertError("ERR syntax error", "COPY", "a", "c", "REPLACE", "foo")
        self.assertError("ERR source and destination objects are the same", "COPY", "a", "a")


class RandomKeyTouchTests(CommandTestCase):
    """
    RANDOMKEY and TOUCH.
    """

    def test_randomkey(self):
        """RANDOMKEY answers nil on an empty keyspace, else one of the live keys."""
        self.assertIsNone(self.run_("RANDOMKEY"))
        for i in range(50):
            self.run_("SET", f"k{i}", i)
        seen = {self.run_("RANDOMKEY") for _ in range(200)}
        self.assertTrue(seen <= {f"k{i}".encode() for i in range(50)})
        self.assertGreater(len(seen), 10)

    def test_randomkeySkipsExpired(self):
        """Expired keys are never answered (they are removed when met)."""
        self.run_("SET", "live", "1")
        for i in range(20):
            self.run_("SET", f"e{i}", i, "PX", 10)
        self.clock.advance(1)
        self.assertEqual({self.run_("RANDOMKEY") for _ in range(20)}, {b"live"})
        self.run_("DEL", "live")
        self.assertIsNone(self.run_("RANDOMKEY"))

    def test_touch(self):
        """TOUCH counts the keys that exist."""
        self.run_("MSET", "a", 1, "b", 2)
        self.run_("SADD", "s", "m")
        self.assertEqual(self.run_("TOUCH", "a", "b", "s", "missing", "a"), 4)


class TouchRecencyTests(CommandTestCase):
    """
    TOUCH under an LRU policy.
    """

    maxmemory = 3 * (KEY_OVERHEAD + 2)
    policy = "allkeys-lru"

    def test_touchMakesRecent(self):
        """A touched key is the most recently used: eviction takes another."""
        self.run_("SET", "a", "1")
        self.run_("SET", "b", "2")
        self.run_("SET", "c", "3")
        self.run_("TOUCH", "a")
        self.run_("SET", "d", "4")
        self.assertEqual(self.run_("EXISTS", "a", "b"), 1)
        self.assertEqual(self.run_("EXISTS", "a"), 1)


class ExpireTimeTests(CommandTestCase):
    """
    EXPIRETIME and PEXPIRETIME.
    """

    def test_expiretime(self):
        """Absolute expiry in seconds or milliseconds; -1 without one, -2 when missing."""
        self.run_("SET", "k", "v", "PX", 2500)
        self.assertEqual(self.run_("PEXPIRETIME", "k"), NOW + 2500)
        self.assertEqual(self.run_("EXPIRETIME", "k"), (NOW + 2500) // 1000)
        self.run_("SET", "p", "v")
        self.assertEqual(self.run_("EXPIRETIME", "p"), -1)
        self.assertEqual(self.run_("PEXPIRETIME", "p"), -1)
        self.assertEqual(self.run_("EXPIRETIME", "missing"), -2)
        self.assertEqual(self.run_("PEXPIRETIME", "missing"), -2)
        self.clock.advance(3)
        self.assertEqual(self.run_("EXPIRETIME", "k"), -2)


class ObjectTests(CommandTestCase):
    """
    OBJECT ENCODING, FREQ, REFCOUNT and HELP.
    """

    def test_stringEncodings(self):
        """Integers are int, up to 44 bytes embstr, longer raw; missing keys nil."""
        for value, expected in (("12345", b"int"), ("-7", b"int"), ("007", b"embstr"),
                                ("x" * 44, b"embstr"), ("x" * 45, b"raw"),
                                ("99999999999999999999", b"embstr")):
            self.run_("SET", "k", value)
            self.assertEqual(self.run_("OBJECT", "ENCODING", "k"), expected, value)
        self.assertIsNone(self.run_("OBJECT", "encoding", "missing"))

    def test_collectionEncodings(self):
        """Small hashes are listpack, big ones hashtable; integer sets intset."""
        self.run_("HSET", "h", "f", "v")
        self.assertEqual(self.run_("OBJECT", "ENCODING", "h"), b"listpack")
        self.run_("HSET", "h", "g", "x" * 65)
        self.assertEqual(self.run_("OBJECT", "ENCODING", "h"), b"hashtable")
        self.run_("SADD", "s", 1, 2, 3)
        self.assertEqual(self.run_("OBJECT", "ENCODING", "s"), b"intset")
        self.run_("SADD", "s", "a")
        self.assertEqual(self.run_("OBJECT", "ENCODING", "s"), b"hashtable")

    def test_freq(self):
        """FREQ is Redis's error under a non-LFU policy, nil for a missing key."""
        self.run_("SET", "k", "v")
        self.assertError("ERR An LFU maxmemory policy is not selected, access frequency not "
                         "tracked. Please note that when switching between policies at "
                         "runtime LRU and LFU data will take some time to adjust.",
                         "OBJECT", "FREQ", "k")
        self.assertIsNone(self.run_("OBJECT", "FREQ", "missing"))

    def test_refcount(self):
        """Small non-negative integers are shared as in Redis, other values counted once."""
        for value, expected in (("1", 2**31 - 1), ("9999", 2**31 - 1), ("10000", 1),
                                ("-1", 1), ("abc", 1)):
            self.run_("SET", "k", value)
            self.assertEqual(self.run_("OBJECT", "REFCOUNT", "k"), expected, value)
        self.run_("SADD", "s", "1")
        self.assertEqual(self.run_("OBJECT", "REFCOUNT", "s"), 1)
        self.assertIsNone(self.run_("OBJECT", "REFCOUNT", "missing"))

    def test_helpAndErrors(self):
        """HELP lists the subcommands; unknown ones and wrong arities are Redis's errors."""
        help = self.run_("OBJECT", "HELP")
        self.assertEqual(help[0], "OBJECT <subcommand> [<arg> [value] [opt] ...]. "
                                  "Subcommands are:")
        self.assertIn("ENCODING <key>", help)
        self.assertEqual(help[-2:], ["HELP", "    Prints this help."])
        self.assertError("ERR unknown subcommand 'nope'. Try OBJECT HELP.", "OBJECT", "nope")
        self.assertError("ERR wrong number of arguments for 'object|encoding' command",
                         "OBJECT", "ENCODING")
        self.assertError("ERR wrong number of arguments for 'object' command", "OBJECT")


class LRURefcountTests(CommandTestCase):
    """
    OBJECT REFCOUNT under an LRU policy bounding memory.
    """

    maxmemory = 10_000
    policy = "allkeys-lru"

    def test_notShared(self):
        """Redis stops sharing integers when LRU eviction needs a time per key."""
        self.run_("SET", "k", "1")
        self.assertEqual(self.run_("OBJECT", "REFCOUNT", "k"), 1)


class TimeSwapdbTests(CommandTestCase):
    """
    TIME and SWAPDB.
    """

    def test_time(self):
        """TIME answers the clock's seconds and microseconds as bulk strings."""
        self.clock.advance(0.123456)
        self.assertEqual(self.run_("TIME"), [b"%d" % (NOW // 1000), b"123456"])

    def test_swapdb(self):
        """Only database 0 exists: swapping it with itself is OK, anything else refused."""
        self.assertEqual(self.run_("SWAPDB", 0, 0), "OK")
        self.assertError("ERR DB index is out of range", "SWAPDB", 0, 1)
        self.assertError("ERR DB index is out of range", "SWAPDB", -1, 0)
        self.assertError("ERR invalid first DB index", "SWAPDB", "a", 0)
        self.assertError("ERR invalid second DB index", "SWAPDB", 0, "b")


class JournalReplayTests(CommandTestCase):
    """
    What the new writing commands journal replays to the same keyspace.
    """

    def test_replayIdentically(self):
        """GETSET, INCRBYFLOAT, SETRANGE, MSETNX, RENAME(NX) and COPY replay, any type."""
        path = os.path.join(tempDir(self), "journal.aof")
        journal = Journal(path, "no", self.clock)
        journal.load(self.store)
        self.server.journal = journal
        for command in (("SET", "f", "1.5", "PX", 60000), ("INCRBYFLOAT", "f", "0.25"),
                        ("GETSET", "g", "old"), ("GETSET", "g", "new"),
                        ("SETRANGE", "r", 2, "xy"), ("MSETNX", "m1", 1, "m2", 2),
                        ("HSET", "h", "a", "1", "b", "2"), ("EXPIRE", "h", 100),
                        ("RENAME", "h", "h2"), ("COPY", "h2", "h3"), ("SADD", "s", "x"),
                        ("RENAMENX", "s", "s2"), ("COPY", "f", "f2"),
                        ("RENAME", "m1", "m2")):
            self.run_(*command)
            self.server.commit()
        journal.close()
        restored = Store(self.clock)
        Journal(path, "no", self.clock).load(restored)
        self.assertEqual(sorted(restored.items()), sorted(self.store.items()))
        self.assertEqual(restored.peek(b"f"), (b"1.75", NOW + 60000))
        self.assertEqual(restored.usedMemory, self.store.usedMemory)



class FailedJournalTests(CommandTestCase):
    """
    The new writing commands, when the journal cannot be written.
    """

    def test_undone(self):
        """RENAME, COPY, INCRBYFLOAT, SETRANGE, GETSET and MSETNX are refused and undone."""
        disk = FailingDisk(journalModule._writeAll)
        self.patch(journalModule, "_writeAll", disk)
        captureLog(self)
        journal = Journal(os.path.join(tempDir(self), "journal.aof"), "always", self.clock)
        journal.load(self.store)
        self.addCleanup(journal.close)
        self.server.journal = journal
        for command in (("SET", "a", "1.5"), ("HSET", "h", "f", "v"), ("PEXPIRE", "h", 5000)):
            self.run_(*command)
        self.server.commit()
        before, memory = sorted(self.store.items()), self.store.usedMemory
        disk.full = True
        for command in (("RENAME", "a", "b"), ("RENAME", "h", "a"), ("COPY", "h", "c"),
                        ("INCRBYFLOAT", "a", 1), ("SETRANGE", "a", 5, "x"),
                        ("GETSET", "a", 2), ("MSETNX", "x", 1, "y", 2)):
            self.run_(*command)
            self.assertRaises(JournalWriteError, self.server.commit)
            self.assertEqual(sorted(self.store.items()), before, command)
        self.assertEqual(self.store.usedMemory, memory)
