"""
Tests for the session server's set commands (L{services.sessionserver.sets}):
their semantics and Redis 7's error texts, WRONGTYPE across types, TYPE and
SCAN TYPE, memory accounting, eviction and expiry of sets.
"""

from services.sessionserver.members import REPEATS_LIMIT, SMALL_COLLECTION
from services.resp import Status
from services.sessionserver.store import ITEM_OVERHEAD, KEY_OVERHEAD
from tests.test_commands import CommandTestCase

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


class SetTests(CommandTestCase):
    """
    SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD.
    """

    def test_addRemove(self):
        """SADD and SREM count the members they really add or remove."""
        self.assertEqual(self.run_("SADD", "s", "a", "b", "a"), 2)
        self.assertEqual(self.run_("SADD", "s", "b", "c"), 1)
        self.assertEqual(sorted(self.run_("SMEMBERS", "s")), [b"a", b"b", b"c"])
        self.assertEqual(self.run_("SREM", "s", "a", "z"), 1)
        self.assertEqual(self.run_("SCARD", "s"), 2)
        self.assertEqual(self.run_("SREM", "missing", "a"), 0)

    def test_membership(self):
        """SISMEMBER and SMISMEMBER answer 1 or 0 per value, 0 for a missing key."""
        self.run_("SADD", "s", "a")
        self.assertEqual(self.run_("SISMEMBER", "s", "a"), 1)
        self.assertEqual(self.run_("SISMEMBER", "s", "b"), 0)
        self.assertEqual(self.run_("SMISMEMBER", "s", "b", "a"), [0, 1])
        self.assertEqual(self.run_("SMISMEMBER", "missing", "a"), [0])
        self.assertEqual(self.run_("SMEMBERS", "missing"), [])
        self.assertEqual(self.run_("SCARD", "missing"), 0)

    def test_lastMemberDeletesKey(self):
        """A set emptied of its last member is gone, its memory given back."""
        before = self.store.usedMemory
        self.run_("SADD", "s", "a", "b")
        self.assertEqual(self.store.usedMemory,
                         before + KEY_OVERHEAD + 1 + 2 * (ITEM_OVERHEAD + 1))
        self.run_("SREM", "s", "a", "b")
        self.assertEqual(self.run_("EXISTS", "s"), 0)
        self.assertEqual(self.run_("TYPE", "s"), Status("none"))
        self.assertEqual(self.store.usedMemory, before)

    def test_arity(self):
        """SADD needs a member."""
        self.assertError("ERR wrong number of arguments for 'sadd' command", "SADD", "s")


class PopTests(CommandTestCase):
    """
    SPOP and SRANDMEMBER.
    """

    def setUp(self):
        CommandTestCase.setUp(self)
        self.run_("SADD", "s", "a", "b", "c")

    def test_popOne(self):
        """SPOP removes and returns one member; nil once the set is gone."""
        popped = {self.run_("SPOP", "s") for _ in range(3)}
        self.assertEqual(popped, {b"a", b"b", b"c"})
        self.assertEqual(self.run_("EXISTS", "s"), 0)
        self.assertIsNone(self.run_("SPOP", "s"))

    def test_popCount(self):
        """SPOP with a count removes that many distinct members, at most all."""
        first = self.run_("SPOP", "s", 2)
        self.assertEqual(len(set(first)), 2)
        self.assertEqual(self.run_("SCARD", "s"), 1)
        self.assertEqual(len(self.run_("SPOP", "s", 5)), 1)
        self.assertEqual(self.run_("SPOP", "s", 2), [])
        self.assertEqual(self.run_("SPOP", "s", 0), [])

    def test_popErrors(self):
        """A negative or non-numeric count, or more arguments, are Redis's errors."""
        for count in ("-1", "x"):
            self.assertError("ERR value is out of range, must be positive", "SPOP", "s", count)
        self.assertError("ERR syntax error", "SPOP", "s", 1, 2)

    def test_randomMember(self):
        """SRANDMEMBER leaves the set alone: distinct members, or repeats for a negative count."""
        self.assertIn(self.run_("SRANDMEMBER", "s"), {b"a", b"b", b"c"})
        self.assertEqual(sorted(self.run_("SRANDMEMBER", "s", 10)), [b"a", b"b", b"c"])
        self.assertEqual(len(set(self.run_("SRANDMEMBER", "s", 2))), 2)
        repeated = self.run_("SRANDMEMBER", "s", -7)
        self.assertEqual(len(repeated), 7)
        self.assertLessEqual(set(repeated), {b"a", b"b", b"c"})
        self.assertEqual(self.run_("SCARD", "s"), 3)
        self.assertIsNone(self.run_("SRANDMEMBER", "missing"))
        self.assertEqual(self.run_("SRANDMEMBER", "missing", 3), [])

    def test_randomMemberErrors(self):
        """Redis's range error for the smallest count; too many repeats are refused."""
        self.assertError("ERR value is out of range, value must between "
                         "-9223372036854775807 and 9223372036854775807",
                         "SRANDMEMBER", "s", -2**63)
        self.assertError("ERR value is not an integer or out of range", "SRANDMEMBER", "s", "x")
        self.assertError("ERR value is out of range",
                         "SRANDMEMBER", "s", -REPEATS_LIMIT - 1)
        self.assertError("ERR syntax error", "SRANDMEMBER", "s", 1, 2)


class ScanTests(CommandTestCase):
    """
    SSCAN.
    """

    def walk(self, key, *options):
        seen, cursor = [], b"0"
        for _ in range(10_000):
            cursor, found = self.run_("SSCAN", key, cursor, *options)
            seen.extend(found)
            if cursor == b"0":
                return seen
        self.fail("SSCAN did not end")

    def test_small(self):
        """A small set comes whole in one step, filtered by MATCH."""
        self.run_("SADD", "s", "a1", "a2", "b1")
        self.assertEqual(sorted(self.run_("SSCAN", "s", 0)[1]), [b"a1", b"a2", b"b1"])
        self.assertEqual(self.run_("SSCAN", "s", 0)[0], b"0")
        self.assertEqual(sorted(self.run_("SSCAN", "s", 0, "MATCH", "a*")[1]), [b"a1", b"a2"])
        self.assertEqual(self.run_("SSCAN", "missing", 0), [b"0", []])

    def test_large(self):
        """A large set is walked in steps of about COUNT, each member at least once."""
        members = [b"m%d" % i for i in range(SMALL_COLLECTION * 4)]
        self.run_("SADD", "s", *members)
        cursor, found = self.run_("SSCAN", "s", 0, "COUNT", 50)
        self.assertNotEqual(cursor, b"0")
        self.assertEqual(len(found), 50)
        self.assertEqual(set(self.walk("s", "COUNT", 7)), set(members))

    def test_removedDuringWalk(self):
        """Members present for the whole walk are returned though others go."""
        members = [b"m%d" % i for i in range(SMALL_COLLECTION * 2)]
        self.run_("SADD", "s", *members)
        cursor, found = self.run_("SSCAN", "s", 0, "COUNT", 20)
        gone = members[::3]
        self.run_("SREM", "s", *gone)
        rest = list(found)
        while cursor != b"0":
            cursor, found = self.run_("SSCAN", "s", cursor, "COUNT", 20)
            rest.extend(found)
        self.assertLessEqual(set(members) - set(gone), set(rest))

    def test_shrunkDuringWalk(self):
        """A set shrinking to a small one during the walk still gives every member kept."""
        kept = [b"k%d" % i for i in range(SMALL_COLLECTION // 2)]
        gone = [b"g%d" % i for i in range(SMALL_COLLECTION * 2)]
        self.run_("SADD", "s", *kept, *gone)
        cursor, found = self.run_("SSCAN", "s", 0, "COUNT", 10)
        self.run_("SREM", "s", *gone)
        rest = list(found)
        while cursor != b"0":
            cursor, found = self.run_("SSCAN", "s", cursor, "COUNT", 10)
            rest.extend(found)
        self.assertLessEqual(set(kept), set(rest))

    def test_errors(self):
        """A bad cursor, option or COUNT is Redis's error."""
        self.run_("SADD", "s", "a")
        self.assertError("ERR invalid cursor", "SSCAN", "s", "x")
        self.assertError("ERR syntax error", "SSCAN", "s", 0, "COUNT", 0)
        self.assertError("ERR syntax error", "SSCAN", "s", 0, "COUNT")
        self.assertError("ERR syntax error", "SSCAN", "s", 0, "FOO", 1)


class WrongTypeTests(CommandTestCase):
    """
    Set commands on other types, and other commands on sets.
    """

    def test_setCommandsOnString(self):
        """Every set command on a string key is WRONGTYPE."""
        self.run_("SET", "k", "v")
        for args in [("SADD", "k", "a"), ("SREM", "k", "a"), ("SMEMBERS", "k"),
                     ("SISMEMBER", "k", "a"), ("SMISMEMBER", "k", "a"), ("SCARD", "k"),
                     ("SPOP", "k"), ("SRANDMEMBER", "k"), ("SSCAN", "k", 0)]:
            self.assertError(WRONGTYPE, *args)
        self.assertEqual(self.run_("GET", "k"), b"v")

    def test_stringCommandsOnSet(self):
        """String commands reading a set are WRONGTYPE; MGET answers nil; SET replaces it."""
        self.run_("SADD", "s", "a")
        for args in [("GET", "s"), ("GETEX", "s"), ("GETDEL", "s"), ("STRLEN", "s"),
                     ("APPEND", "s", "x"), ("INCR", "s"), ("DECRBY", "s", 2),
                     ("SET", "s", "v", "GET"), ("HGET", "s", "f"), ("GETSET", "s", "v"),
                     ("INCRBYFLOAT", "s", "1.5"), ("SETRANGE", "s", 0, "x"),
                     ("GETRANGE", "s", 0, -1), ("DECR", "s"), ("INCRBY", "s", 2)]:
            self.assertError(WRONGTYPE, *args)
        self.assertEqual(self.run_("MGET", "s", "missing"), [None, None])
        self.assertEqual(self.run_("SETNX", "s", "v"), 0)
        self.assertEqual(self.run_("MSETNX", "s", "v", "other", "v"), 0)
        self.assertIsNone(self.run_("SET", "s", "v", "NX"))
        self.assertEqual(self.run_("TYPE", "s"), Status("set"))
        self.assertEqual(self.run_("SET", "s", "v", "XX"), Status("OK"))
        self.assertEqual(self.run_("GET", "s"), b"v")

    def test_type(self):
        """TYPE and SCAN's TYPE tell strings, hashes and sets apart."""
        self.run_("SET", "str", "v")
        self.run_("SADD", "set", "a")
        self.run_("HSET", "hash", "f", "v")
        self.assertEqual([self.run_("TYPE", k) for k in ("str", "set", "hash")],
                         [Status("string"), Status("set"), Status("hash")])
        for kind, key in [("string", b"str"), ("set", b"set"), ("hash", b"hash")]:
            self.assertEqual(self.run_("SCAN", 0, "TYPE", kind, "COUNT", 100), [b"0", [key]])
        self.assertEqual(self.run_("SCAN", 0, "TYPE", "list")[1], [])


class ExpiryTests(CommandTestCase):
    """
    Sets expire like any key, and keep their expiry as members change.
    """

    def test_expiry(self):
        """A set keeps its TTL as members come and go, and is gone after it."""
        self.run_("SADD", "s", "a")
        self.run_("EXPIRE", "s", 10)
        self.run_("SADD", "s", "b")
        self.run_("SREM", "s", "a")
        self.assertEqual(self.run_("TTL", "s"), 10)
        self.clock.advance(10)
        self.assertEqual(self.run_("SCARD", "s"), 0)
        self.assertEqual(self.run_("SADD", "s", "c"), 1)
        self.assertEqual(self.run_("TTL", "s"), -1)

    def test_sweep(self):
        """The periodic sweep removes an expired set and its memory."""
        self.run_("SADD", "s", "a", "b")
        self.run_("PEXPIRE", "s", 100)
        self.clock.advance(1)
        self.assertEqual(self.store.expireDue(), 1)
        self.assertEqual(self.store.usedMemory, 0)


class EvictionTests(CommandTestCase):
    """
    Sets count against maxmemory and are evicted like strings.
    """

    maxmemory = 2000
    policy = "allkeys-lru"

    def test_evicted(self):
        """Growing sets evict the least recently used keys; memory stays under the bound."""
        self.run_("SADD", "old", "a")
        for i in range(30):
            self.run_("SADD", "new", b"member%d" % i)
            self.assertLessEqual(self.store.usedMemory, self.maxmemory)
        self.assertEqual(self.run_("EXISTS", "old"), 0)
        self.assertGreater(self.store.evictedKeys, 0)

    def test_writeIsRecent(self):
        """Adding to a set makes it recently used: the key left alone is evicted first."""
        self.run_("SADD", "first", "a")
        self.run_("SADD", "second", "a")
        self.run_("SADD", "first", "b")
        for i in range(30):
            self.run_("SET", b"filler%d" % i, "v")
            if self.run_("EXISTS", "second") == 0:
                break
        self.assertEqual(self.run_("EXISTS", "first"), 1)
        self.assertEqual(self.run_("EXISTS", "second"), 0)

    def test_outOfMemory(self):
        """A member bigger than maxmemory is refused with OOM."""
        reply = self.run_("SADD", "s", b"x" * 5000)
        self.assertTrue(reply.args[0].startswith("OOM "), reply)
        self.assertEqual(self.run_("EXISTS", "s"), 0)
