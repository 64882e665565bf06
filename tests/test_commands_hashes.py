"""
Tests for the session server's hash commands
(L{services.sessionserver.hashes}): their semantics and Redis 7's error
texts, WRONGTYPE across types, memory accounting, eviction and expiry of
hashes.
"""

import pickle

from services.sessionserver.members import SMALL_COLLECTION
from services.resp import Status, encode
from services.sessionserver.store import ITEM_OVERHEAD, KEY_OVERHEAD, Hash, Set
from tests.test_commands import CommandTestCase
from tests.test_commands_sets import WRONGTYPE


class HashTests(CommandTestCase):
    """
    HSET, HSETNX, HGET, HMGET, HGETALL, HDEL, HEXISTS, HLEN, HKEYS, HVALS, HSTRLEN.
    """

    def test_setGet(self):
        """HSET counts new fields, replaces old values; HGET and HMGET read them."""
        self.assertEqual(self.run_("HSET", "h", "a", "1", "b", "2"), 2)
        self.assertEqual(self.run_("HSET", "h", "a", "10", "c", "3"), 1)
        self.assertEqual(self.run_("HGET", "h", "a"), b"10")
        self.assertIsNone(self.run_("HGET", "h", "z"))
        self.assertIsNone(self.run_("HGET", "missing", "a"))
        self.assertEqual(self.run_("HMGET", "h", "b", "z", "c"), [b"2", None, b"3"])
        self.assertEqual(self.run_("HMSET", "h", "d", "4"), Status("OK"))
        self.assertEqual(self.run_("HLEN", "h"), 4)

    def test_whole(self):
        """HGETALL, HKEYS and HVALS give the fields in the same order; a map in RESP3."""
        self.run_("HSET", "h", "a", "1", "b", "2")
        everything = self.run_("HGETALL", "h")
        self.assertEqual(everything, {b"a": b"1", b"b": b"2"})
        self.assertEqual(encode(everything), b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n")
        self.assertTrue(encode(everything, resp3=True).startswith(b"%2\r\n"))
        self.assertEqual(self.run_("HKEYS", "h"), [b"a", b"b"])
        self.assertEqual(self.run_("HVALS", "h"), [b"1", b"2"])
        self.assertEqual(self.run_("HGETALL", "missing"), {})
        self.assertEqual(self.run_("HKEYS", "missing"), [])

    def test_setnxExistsStrlen(self):
        """HSETNX writes only a new field; HEXISTS and HSTRLEN look at one field."""
        self.assertEqual(self.run_("HSETNX", "h", "a", "1"), 1)
        self.assertEqual(self.run_("HSETNX", "h", "a", "2"), 0)
        self.assertEqual(self.run_("HGET", "h", "a"), b"1")
        self.assertEqual(self.run_("HEXISTS", "h", "a"), 1)
        self.assertEqual(self.run_("HEXISTS", "h", "b"), 0)
        self.assertEqual(self.run_("HSTRLEN", "h", "a"), 1)
        self.assertEqual(self.run_("HSTRLEN", "h", "b"), 0)

    def test_deleteLastField(self):
        """HDEL counts what it removed; the last field takes the key and its memory with it."""
        self.run_("HSET", "h", "a", "1", "b", "22")
        self.assertEqual(self.store.usedMemory,
                         KEY_OVERHEAD + 1 + 2 * ITEM_OVERHEAD + len("a1b22"))
        self.assertEqual(self.run_("HDEL", "h", "a", "z"), 1)
        self.assertEqual(self.run_("HDEL", "h", "b"), 1)
        self.assertEqual(self.run_("EXISTS", "h"), 0)
        self.assertEqual(self.store.usedMemory, 0)
        self.assertEqual(self.run_("HDEL", "h", "b"), 0)

    def test_replacedValueMemory(self):
        """Replacing a field's value counts the difference in length."""
        self.run_("HSET", "h", "a", "1")
        before = self.store.usedMemory
        self.run_("HSET", "h", "a", "12345")
        self.assertEqual(self.store.usedMemory, before + 4)

    def test_arity(self):
        """HSET and HMSET need whole field-value pairs."""
        self.assertError("ERR wrong number of arguments for 'hset' command",
                         "HSET", "h", "a", "1", "b")
        self.assertError("ERR wrong number of arguments for 'hmset' command",
                         "HMSET", "h", "a", "1", "b")
        self.assertError("ERR wrong number of arguments for 'hset' command", "HSET", "h", "a")


class IncrementTests(CommandTestCase):
    """
    HINCRBY and HINCRBYFLOAT.
    """

    def test_incrby(self):
        """HINCRBY starts a missing field at 0 and stores the result."""
        self.assertEqual(self.run_("HINCRBY", "h", "n", 5), 5)
        self.assertEqual(self.run_("HINCRBY", "h", "n", -7), -2)
        self.assertEqual(self.run_("HGET", "h", "n"), b"-2")

    def test_incrbyErrors(self):
        """A non-integer field or increment, or an overflow, is Redis's error."""
        self.run_("HSET", "h", "s", "x", "big", str(2**63 - 1))
        self.assertError("ERR hash value is not an integer", "HINCRBY", "h", "s", 1)
        self.assertError("ERR value is not an integer or out of range", "HINCRBY", "h", "n", "x")
        self.assertError("ERR increment or decrement would overflow", "HINCRBY", "h", "big", 1)
        self.assertEqual(self.run_("HGET", "h", "big"), str(2**63 - 1).encode())

    def test_incrbyfloat(self):
        """HINCRBYFLOAT adds decimals as Redis shows them, without trailing zeros."""
        self.assertEqual(self.run_("HINCRBYFLOAT", "h", "f", "0.1"), b"0.1")
        self.assertEqual(self.run_("HINCRBYFLOAT", "h", "f", "0.2"), b"0.3")
        self.assertEqual(self.run_("HINCRBYFLOAT", "h", "f", "1e3"), b"1000.3")
        self.assertEqual(self.run_("HINCRBYFLOAT", "h", "f", "-1000.3"), b"0")
        self.assertEqual(self.run_("HINCRBYFLOAT", "h", "f", "1.23e-5"), b"0.0000123")
        self.assertEqual(self.run_("HINCRBYFLOAT", "h", "tiny", "1e-999999999"), b"0")
        self.assertEqual(self.run_("HINCRBYFLOAT", "h", "big", "1e20"), b"100000000000000000000")
        self.run_("HSET", "h", "i", "5")
        self.assertEqual(self.run_("HINCRBYFLOAT", "h", "i", "1.5"), b"6.5")
        self.assertEqual(self.run_("HGET", "h", "i"), b"6.5")

    def test_incrbyfloatErrors(self):
        """A bad increment, a field that is not a number, or infinity is Redis's error."""
        self.run_("HSET", "h", "s", "x", "huge", "1e308")
        self.assertError("ERR value is not a valid float", "HINCRBYFLOAT", "h", "f", "x")
        self.assertError("ERR value is not a valid float", "HINCRBYFLOAT", "h", "f", " 1")
        self.assertError("ERR value is NaN or Infinity", "HINCRBYFLOAT", "h", "f", "inf")
        self.assertError("ERR hash value is not a float", "HINCRBYFLOAT", "h", "s", "1")
        self.assertError("ERR value is not a valid float", "HINCRBYFLOAT", "h", "f", "nan")
        self.run_("HSET", "h", "infinite", "inf", "nan", "nan")
        self.assertError("ERR increment would produce NaN or Infinity",
                         "HINCRBYFLOAT", "h", "infinite", "1")
        self.assertError("ERR hash value is not a float", "HINCRBYFLOAT", "h", "nan", "1")
        self.assertError("ERR increment would produce NaN or Infinity",
                         "HINCRBYFLOAT", "h", "huge", "1e308")
        self.assertEqual(self.run_("HEXISTS", "h", "f"), 0)


class RandomFieldTests(CommandTestCase):
    """
    HRANDFIELD.
    """

    def setUp(self):
        CommandTestCase.setUp(self)
        self.run_("HSET", "h", "a", "1", "b", "2", "c", "3")

    def test_one(self):
        """Without a count, one field, or nil for a missing key."""
        self.assertIn(self.run_("HRANDFIELD", "h"), {b"a", b"b", b"c"})
        self.assertIsNone(self.run_("HRANDFIELD", "missing"))

    def test_count(self):
        """A count gives distinct fields (at most all); a negative one may repeat."""
        self.assertEqual(sorted(self.run_("HRANDFIELD", "h", 5)), [b"a", b"b", b"c"])
        self.assertEqual(len(set(self.run_("HRANDFIELD", "h", 2))), 2)
        self.assertEqual(len(self.run_("HRANDFIELD", "h", -6)), 6)
        self.assertEqual(self.run_("HRANDFIELD", "missing", 2), [])

    def test_withValues(self):
        """WITHVALUES gives field-value pairs: flat in RESP2, nested in RESP3."""
        flat = self.run_("HRANDFIELD", "h", 3, "WITHVALUES")
        self.assertEqual(dict(zip(flat[::2], flat[1::2], strict=True)),
                         {b"a": b"1", b"b": b"2", b"c": b"3"})
        self.client.resp3 = True
        nested = self.run_("HRANDFIELD", "h", -2, "withvalues")
        self.assertEqual(len(nested), 2)
        for field, value in nested:
            self.assertEqual(self.run_("HGET", "h", field), value)

    def test_errors(self):
        """A bad option or count is Redis's error."""
        self.assertError("ERR syntax error", "HRANDFIELD", "h", 1, "WITHVALUE")
        self.assertError("ERR syntax error", "HRANDFIELD", "h", 1, "WITHVALUES", "x")
        self.assertError("ERR value is not an integer or out of range", "HRANDFIELD", "h", "x")
        self.assertError("ERR value is out of range, value must between "
                         "-9223372036854775807 and 9223372036854775807",
                         "HRANDFIELD", "h", -2**63)


class ScanTests(CommandTestCase):
    """
    HSCAN.
    """

    def test_small(self):
        """A small hash comes whole, as field-value pairs, filtered by MATCH on the field."""
        self.run_("HSET", "h", "a1", "x", "b1", "y")
        cursor, found = self.run_("HSCAN", "h", 0)
        self.assertEqual(cursor, b"0")
        self.assertEqual(dict(zip(found[::2], found[1::2], strict=True)),
                         {b"a1": b"x", b"b1": b"y"})
        self.assertEqual(self.run_("HSCAN", "h", 0, "MATCH", "a*"), [b"0", [b"a1", b"x"]])

    def test_large(self):
        """A large hash is walked in steps, each field once with its value."""
        fields = {b"f%d" % i: b"v%d" % i for i in range(SMALL_COLLECTION * 3)}
        self.run_("HSET", "h", *[part for item in fields.items() for part in item])
        seen, cursor = {}, b"0"
        while True:
            cursor, found = self.run_("HSCAN", "h", cursor, "COUNT", 25)
            self.assertLessEqual(len(found), 50)
            seen.update(zip(found[::2], found[1::2], strict=True))
            if cursor == b"0":
                break
        self.assertEqual(seen, fields)

    def test_errors(self):
        """A bad cursor or option is Redis's error."""
        self.run_("HSET", "h", "a", "1")
        self.assertError("ERR invalid cursor", "HSCAN", "h", "x")
        self.assertError("ERR syntax error", "HSCAN", "h", 0, "COUNT", 0)


class WrongTypeTests(CommandTestCase):
    """
    Hash commands on other types, and other commands on hashes.
    """

    def test_hashCommandsOnOthers(self):
        """Every hash command on a string or a set is WRONGTYPE."""
        self.run_("SET", "k", "v")
        self.run_("SADD", "s", "m")
        for key in ("k", "s"):
            for args in [("HSET", key, "f", "v"), ("HSETNX", key, "f", "v"), ("HGET", key, "f"),
                         ("HMGET", key, "f"), ("HGETALL", key), ("HDEL", key, "f"),
                         ("HEXISTS", key, "f"), ("HLEN", key), ("HKEYS", key), ("HVALS", key),
                         ("HINCRBY", key, "f", 1), ("HINCRBYFLOAT", key, "f", 1),
                         ("HSTRLEN", key, "f"), ("HRANDFIELD", key), ("HSCAN", key, 0),
                         ("HMSET", key, "f", "v")]:
                self.assertError(WRONGTYPE, *args)

    def test_othersOnHash(self):
        """String and set commands on a hash are WRONGTYPE; DEL, EXPIRE and SET work."""
        self.run_("HSET", "h", "f", "v")
        for args in [("GET", "h"), ("INCRBY", "h", 1), ("STRLEN", "h"), ("SADD", "h", "m"),
                     ("SMEMBERS", "h"), ("SCARD", "h")]:
            self.assertError(WRONGTYPE, *args)
        self.assertEqual(self.run_("TYPE", "h"), Status("hash"))
        self.assertEqual(self.run_("EXPIRE", "h", 5), 1)
        self.assertEqual(self.run_("DEL", "h"), 1)
        self.assertEqual(self.store.usedMemory, 0)


class ExpiryEvictionTests(CommandTestCase):
    """
    Hashes expire and are evicted like any key.
    """

    maxmemory = 1500
    policy = "volatile-ttl"

    def test_expiry(self):
        """A hash keeps its TTL as fields change, and is gone after it."""
        self.run_("HSET", "h", "a", "1")
        self.run_("PEXPIRE", "h", 500)
        self.run_("HINCRBY", "h", "a", 1)
        self.run_("HDEL", "h", "a")
        self.assertEqual(self.run_("EXISTS", "h"), 0)
        self.run_("HSET", "h", "a", "1", "b", "2")
        self.run_("PEXPIRE", "h", 500)
        self.run_("HDEL", "h", "b")
        self.assertEqual(self.run_("PTTL", "h"), 500)
        self.clock.advance(0.5)
        self.assertEqual(self.run_("HLEN", "h"), 0)
        self.assertEqual(self.store.usedMemory, 0)

    def test_evicted(self):
        """A hash with an expiry is evicted to make room for a growing one."""
        self.run_("HSET", "old", "a", "1")
        self.run_("EXPIRE", "old", 100)
        for i in range(20):
            self.run_("HSET", "new", b"field%d" % i, "value")
            self.assertLessEqual(self.store.usedMemory, self.maxmemory)
        self.assertEqual(self.run_("EXISTS", "old"), 0)
        reply = self.run_("HSET", "new", "big", b"x" * 2000)
        self.assertTrue(reply.args[0].startswith("OOM "), reply)
        self.assertEqual(self.run_("HEXISTS", "new", "big"), 0)


class PersistenceTests(CommandTestCase):
    """
    A store without a journal pickles its hashes and sets (a .tap file).
    """

    def test_pickled(self):
        """Hashes and sets come back from a pickle with their types, expiries and memory."""
        self.run_("HSET", "h", "a", "1", "b", "2")
        self.run_("SADD", "s", "x", "y")
        self.run_("EXPIRE", "s", 100)
        restored = pickle.loads(pickle.dumps(self.store))
        restored.clock = self.clock
        self.assertEqual(restored.collection(b"h", Hash), {b"a": b"1", b"b": b"2"})
        self.assertEqual(restored.collection(b"s", Set), {b"x", b"y"})
        self.assertEqual(restored.expireAt(b"s"), self.store.expireAt(b"s"))
        self.assertEqual(restored.usedMemory, self.store.usedMemory)
        restored.removeItems(b"s", Set, [b"x", b"y"])
        restored.removeItems(b"h", Hash, [b"a", b"b"])
        self.assertEqual(restored.usedMemory, 0)
