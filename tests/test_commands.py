"""
Tests for the session server's commands (L{services.sessionserver.commands}
and the handlers it dispatches to), their semantics and Redis 7's error texts.
"""

from twisted.internet.task import Clock
from twisted.logger import formatEvent
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver import commands, keyspace
from services.sessionserver.commands import Server
from services.sessionserver.glob import MAX_PATTERN_BYTES
from services.resp import ReplyError, Status
from services.sessionserver.store import Store
from tests.support import captureLog

NOW = 1_000_000  # ms on the test clock


class CommandTestCase(SynchronousTestCase):
    """
    A server over a store on a Clock, and one connected client.
    """

    password = None
    maxmemory = 0
    policy = "volatile-lru"

    def setUp(self):
        self.clock = Clock()
        self.clock.advance(NOW / 1000)
        self.store = Store(self.clock, self.maxmemory, self.policy)
        self.server = Server(self.store, self.password)
        self.client = self.server.connect("127.0.0.1:1")

    def run_(self, *args, client=None):
        args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        return self.server.execute(client or self.client, args)

    def assertError(self, text, *args):
        reply = self.run_(*args)
        self.assertIsInstance(reply, ReplyError, f"{args} gave {reply!r}")
        self.assertEqual(reply.args[0], text)


class StringTests(CommandTestCase):
    """
    GET, SET and friends.
    """

    def test_getSet(self):
        """SET stores, GET reads, missing keys are nil."""
        self.assertEqual(self.run_("SET", "k", "v"), Status("OK"))
        self.assertEqual(self.run_("get", "k"), b"v")
        self.assertIsNone(self.run_("GET", "missing"))

    def test_setExpiries(self):
        """EX, PX, EXAT and PXAT set absolute expiries."""
        self.run_("SET", "a", "v", "EX", 10)
        self.run_("SET", "b", "v", "px", 1500)
        self.run_("SET", "c", "v", "EXAT", 2000)
        self.run_("SET", "d", "v", "PXAT", 2_000_500)
        self.assertEqual([self.store.expireAt(k) for k in (b"a", b"b", b"c", b"d")],
                         [NOW + 10000, NOW + 1500, 2_000_000, 2_000_500])

    def test_setPastAbsoluteExpiry(self):
        """An EXAT in the past answers OK and leaves no key."""
        self.assertEqual(self.run_("SET", "k", "v", "EXAT", 1), Status("OK"))
        self.assertEqual(self.run_("EXISTS", "k"), 0)

    def test_setConditions(self):
        """NX sets only new keys, XX only existing ones, GET returns the old value."""
        self.assertIsNone(self.run_("SET", "k", "1", "XX"))
        self.assertEqual(self.run_("SET", "k", "1", "NX"), Status("OK"))
        self.assertIsNone(self.run_("SET", "k", "2", "NX"))
        self.assertEqual(self.run_("SET", "k", "3", "XX", "GET"), b"1")
        self.assertEqual(self.run_("SET", "k", "4", "NX", "GET"), b"3")
        self.assertEqual(self.run_("GET", "k"), b"3")

    def test_keepTTL(self):
        """KEEPTTL keeps the expiry; a plain SET drops it."""
        self.run_("SET", "k", "1", "EX", 100)
        self.run_("SET", "k", "2", "KEEPTTL")
        self.assertEqual(self.run_("TTL", "k"), 100)
        self.run_("SET", "k", "3")
        self.assertEqual(self.run_("TTL", "k"), -1)

    def test_setErrors(self):
        """Conflicting options, bad numbers and bad times have Redis's texts."""
        self.assertError("ERR syntax error", "SET", "k", "v", "NX", "XX")
        self.assertError("ERR syntax error", "SET", "k", "v", "EX", 1, "PX", 1)
        self.assertError("ERR syntax error", "SET", "k", "v", "EX", 1, "KEEPTTL")
        self.assertError("ERR syntax error", "SET", "k", "v", "EX")
        self.assertError("ERR syntax error", "SET", "k", "v", "PERSIST")
        self.assertError("ERR value is not an integer or out of range", "SET", "k", "v", "EX", "x")
        self.assertError("ERR invalid expire time in 'set' command", "SET", "k", "v", "EX", 0)
        self.assertError("ERR invalid expire time in 'set' command", "SET", "k", "v", "PX", -1)
        self.assertError("ERR invalid expire time in 'set' command",
                         "SET", "k", "v", "EX", 2**62)
        self.assertError("ERR wrong number of arguments for 'set' command", "SET", "k")

    def test_setnxSetexPsetex(self):
        """SETNX returns 1/0; SETEX and PSETEX set with an expiry."""
        self.assertEqual(self.run_("SETNX", "k", "1"), 1)
        self.assertEqual(self.run_("SETNX", "k", "2"), 0)
        self.assertEqual(self.run_("SETEX", "k", 5, "3"), Status("OK"))
        self.assertEqual(self.run_("PTTL", "k"), 5000)
        self.run_("PSETEX", "k", 1234, "4")
        self.assertEqual(self.run_("PTTL", "k"), 1234)
        self.assertError("ERR invalid expire time in 'setex' command", "SETEX", "k", 0, "v")
        self.assertError("ERR invalid expire time in 'psetex' command", "PSETEX", "k", -5, "v")

    def test_getex(self):
        """GETEX returns the value and changes or removes its expiry."""
        self.assertIsNone(self.run_("GETEX", "k", "EX", 5))
        self.run_("SET", "k", "v")
        self.assertEqual(self.run_("GETEX", "k", "EX", 5), b"v")
        self.assertEqual(self.run_("TTL", "k"), 5)
        self.assertEqual(self.run_("GETEX", "k", "PX", 300), b"v")
        self.assertEqual(self.run_("PTTL", "k"), 300)
        self.assertEqual(self.run_("GETEX", "k", "PERSIST"), b"v")
        self.assertEqual(self.run_("TTL", "k"), -1)
        self.assertEqual(self.run_("GETEX", "k"), b"v")
        self.assertError("ERR syntax error", "GETEX", "k", "EX", 5, "PERSIST")
        self.assertError("ERR syntax error", "GETEX", "k", "NX")
        self.assertError("ERR invalid expire time in 'getex' command", "GETEX", "k", "EX", 0)

    def test_getdel(self):
        """GETDEL returns and removes."""
        self.run_("SET", "k", "v")
        self.assertEqual(self.run_("GETDEL", "k"), b"v")
        self.assertIsNone(self.run_("GETDEL", "k"))

    def test_mgetMset(self):
        """MSET sets pairs; MGET returns values with nil for missing keys."""
        self.assertEqual(self.run_("MSET", "a", "1", "b", "2"), Status("OK"))
        self.assertEqual(self.run_("MGET", "a", "x", "b"), [b"1", None, b"2"])
        self.assertError("ERR wrong number of arguments for 'mset' command", "MSET", "a", "1", "b")

    def test_counters(self):
        """INCR/DECR/INCRBY/DECRBY work on integer strings and keep the expiry."""
        self.assertEqual(self.run_("INCR", "n"), 1)
        self.run_("EXPIRE", "n", 100)
        self.assertEqual(self.run_("INCRBY", "n", 41), 42)
        self.assertEqual(self.run_("DECR", "n"), 41)
        self.assertEqual(self.run_("DECRBY", "n", -9), 50)
        self.assertEqual(self.run_("GET", "n"), b"50")
        self.assertEqual(self.run_("TTL", "n"), 100)

    def test_counterErrors(self):
        """Non-integers and overflows are refused with Redis's texts."""
        self.run_("SET", "s", "abc")
        self.run_("SET", "z", "007")
        self.run_("SET", "max", 2**63 - 1)
        self.assertError("ERR value is not an integer or out of range", "INCR", "s")
        self.assertError("ERR value is not an integer or out of range", "INCR", "z")
        self.assertError("ERR value is not an integer or out of range", "INCRBY", "n", "1.5")
        self.assertError("ERR increment or decrement would overflow", "INCR", "max")
        self.assertError("ERR decrement would overflow", "DECRBY", "n", -2**63)
        self.assertError("ERR value is not an integer or out of range", "INCRBY", "n", 2**63)

    def test_appendStrlen(self):
        """APPEND creates or extends and returns the length; STRLEN reads it."""
        self.assertEqual(self.run_("APPEND", "k", "ab"), 2)
        self.assertEqual(self.run_("APPEND", "k", "cd"), 4)
        self.assertEqual(self.run_("STRLEN", "k"), 4)
        self.assertEqual(self.run_("STRLEN", "none"), 0)


class KeyTests(CommandTestCase):
    """
    DEL, EXISTS, expiry commands, TYPE, KEYS and SCAN.
    """

    def test_delUnlinkExists(self):
        """DEL and UNLINK count removed keys; EXISTS counts repeats."""
        self.run_("MSET", "a", "1", "b", "2", "c", "3")
        self.assertEqual(self.run_("EXISTS", "a", "a", "x"), 2)
        self.assertEqual(self.run_("DEL", "a", "x"), 1)
        self.assertEqual(self.run_("UNLINK", "b", "c"), 2)
        self.assertEqual(self.run_("DBSIZE"), 0)

    def test_expireFamily(self):
        """EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT set expiries; TTL/PTTL read them."""
        self.assertEqual(self.run_("EXPIRE", "k", 10), 0)
        self.run_("SET", "k", "v")
        self.assertEqual(self.run_("TTL", "k"), -1)
        self.assertEqual(self.run_("EXPIRE", "k", 10), 1)
        self.assertEqual(self.run_("TTL", "k"), 10)
        self.assertEqual(self.run_("PEXPIRE", "k", 2500), 1)
        self.assertEqual(self.run_("TTL", "k"), 3)
        self.assertEqual(self.run_("EXPIREAT", "k", 2000), 1)
        self.assertEqual(self.run_("PTTL", "k"), 1_000_000)
        self.assertEqual(self.run_("PEXPIREAT", "k", NOW + 7), 1)
        self.assertEqual(self.run_("PTTL", "k"), 7)
        self.assertEqual(self.run_("TTL", "missing"), -2)
        self.assertEqual(self.run_("PTTL", "missing"), -2)

    def test_expireInPastDeletes(self):
        """A non-positive relative expiry deletes the key."""
        self.run_("SET", "k", "v")
        self.assertEqual(self.run_("EXPIRE", "k", -1), 1)
        self.assertEqual(self.run_("EXISTS", "k"), 0)

    def test_expireOptions(self):
        """NX, XX, GT and LT condition the change."""
        self.run_("SET", "k", "v")
        self.assertEqual(self.run_("EXPIRE", "k", 10, "XX"), 0)
        self.assertEqual(self.run_("EXPIRE", "k", 10, "GT"), 0)
        self.assertEqual(self.run_("EXPIRE", "k", 10, "NX"), 1)
        self.assertEqual(self.run_("EXPIRE", "k", 20, "NX"), 0)
        self.assertEqual(self.run_("EXPIRE", "k", 5, "GT"), 0)
        self.assertEqual(self.run_("EXPIRE", "k", 20, "GT"), 1)
        self.assertEqual(self.run_("EXPIRE", "k", 30, "LT"), 0)
        self.assertEqual(self.run_("EXPIRE", "k", 15, "LT", "XX"), 1)
        self.assertEqual(self.run_("TTL", "k"), 15)
        self.assertError("ERR NX and XX, GT or LT options at the same time are not compatible",
                         "EXPIRE", "k", 1, "NX", "XX")
        self.assertError("ERR Unsupported option FOO", "EXPIRE", "k", 1, "FOO")

    def test_expireErrors(self):
        """Non-integers and overflowing times are refused."""
        self.assertError("ERR value is not an integer or out of range", "EXPIRE", "k", "x")
        self.assertError("ERR invalid expire time in 'expire' command", "EXPIRE", "k", 2**62)
        self.assertError("ERR invalid expire time in 'pexpire' command",
                         "PEXPIRE", "k", 2**63 - 1)

    def test_expireSecondsUnderflow(self):
        """EXPIRE below INT64_MIN/1000 seconds is refused and keeps the key, as in Redis."""
        self.run_("SET", "k", "v")
        self.assertError("ERR invalid expire time in 'expire' command",
                         "EXPIRE", "k", -9223372036854776)
        self.assertError("ERR invalid expire time in 'expireat' command",
                         "EXPIREAT", "k", -9223372036854776)
        self.assertEqual(self.run_("GET", "k"), b"v")
        self.assertEqual(self.run_("EXPIRE", "k", -9223372036854775), 1)
        self.assertEqual(self.run_("EXISTS", "k"), 0)

    def test_expireGreaterAndLess(self):
        """GT with LT has its own error, checked before the time, as in Redis."""
        self.run_("SET", "k", "v")
        for args in [(200, "LT", "GT"), (200, "GT", "LT"), ("x", "GT", "LT")]:
            self.assertError("ERR GT and LT options at the same time are not compatible",
                             "EXPIRE", "k", *args)
        self.assertError("ERR NX and XX, GT or LT options at the same time are not compatible",
                         "EXPIRE", "k", 200, "NX", "GT")

    def test_expiryOverflow(self):
        """Expiries that overflow int64 in milliseconds, once now is added, are refused."""
        self.run_("SET", "k", "v")
        for args in [("SET", "k", "v", "EX", 9223372036854775),
                     ("SET", "k", "v", "EXAT", 9223372036854776),
                     ("SET", "k", "v", "PX", 9223372036854000000)]:
            self.assertError("ERR invalid expire time in 'set' command", *args)
        self.assertError("ERR invalid expire time in 'psetex' command",
                         "PSETEX", "k", 9223372036854000000, "v")
        self.assertError("ERR syntax error", "GETEX", "k", "PERSIST", "EX", 10)
        self.assertEqual(self.run_("GET", "k"), b"v")
        self.assertEqual(self.run_("TTL", "k"), -1)

    def test_persist(self):
        """PERSIST removes an expiry, answering whether there was one."""
        self.run_("SET", "k", "v", "EX", 5)
        self.assertEqual(self.run_("PERSIST", "k"), 1)
        self.assertEqual(self.run_("PERSIST", "k"), 0)
        self.assertEqual(self.run_("PERSIST", "missing"), 0)

    def test_expiryWithClock(self):
        """Keys disappear for every command once the clock passes their expiry."""
        self.run_("SET", "k", "v", "PX", 100)
        self.clock.advance(0.099)
        self.assertEqual(self.run_("GET", "k"), b"v")
        self.clock.advance(0.001)
        self.assertIsNone(self.run_("GET", "k"))
        self.assertEqual(self.run_("TTL", "k"), -2)
        self.assertEqual(self.run_("TYPE", "k"), Status("none"))

    def test_type(self):
        """TYPE says string or none."""
        self.run_("SET", "k", "v")
        self.assertEqual(self.run_("TYPE", "k"), Status("string"))

    def test_keys(self):
        """KEYS matches Redis glob patterns."""
        self.run_("MSET", "user:1", "a", "user:22", "b", "other", "c", "h[x]", "d")
        self.assertEqual(sorted(self.run_("KEYS", "*")), [b"h[x]", b"other", b"user:1", b"user:22"])
        self.assertEqual(sorted(self.run_("KEYS", "user:*")), [b"user:1", b"user:22"])
        self.assertEqual(self.run_("KEYS", "user:?"), [b"user:1"])
        self.assertEqual(self.run_("KEYS", "user:[^1]*"), [b"user:22"])
        self.assertEqual(self.run_("KEYS", "[n-p]ther"), [b"other"])
        self.assertEqual(self.run_("KEYS", "[p-n]ther"), [b"other"])
        self.assertEqual(self.run_("KEYS", "h\\[x\\]"), [b"h[x]"])

    def test_scan(self):
        """SCAN walks every key with COUNT and filters with MATCH."""
        for i in range(30):
            self.run_("SET", f"k{i}", "v")
        self.run_("SET", "other", "v")
        cursor, seen = b"0", []
        while True:
            cursor, keys = self.run_("SCAN", cursor, "MATCH", "k*", "COUNT", 4)
            seen += keys
            if cursor == b"0":
                break
        self.assertEqual(sorted(seen), sorted(f"k{i}".encode() for i in range(30)))
        self.assertEqual(self.run_("SCAN", 0, "TYPE", "hash")[1], [])
        self.assertError("ERR invalid cursor", "SCAN", "x")
        self.assertError("ERR syntax error", "SCAN", 0, "COUNT", 0)
        self.assertError("ERR syntax error", "SCAN", 0, "COUNT")
        self.assertError("ERR syntax error", "SCAN", 0, "BOGUS", 1)

    def test_keysManyStars(self):
        """A pattern with twenty stars over a 40-byte key answers at once, as Redis's."""
        self.run_("SET", "a" * 40, "v")
        self.assertEqual(self.run_("KEYS", "a*" * 20 + "b"), [])
        self.assertEqual(self.run_("KEYS", "a*" * 20), [b"a" * 40])

    def test_patternTooLong(self):
        """KEYS, SCAN MATCH and CONFIG GET refuse patterns over MAX_PATTERN_BYTES."""
        pattern = "?" * (MAX_PATTERN_BYTES + 1)
        error = f"ERR pattern is longer than {MAX_PATTERN_BYTES} bytes"
        self.assertError(error, "KEYS", pattern)
        self.assertError(error, "SCAN", 0, "MATCH", pattern)
        self.assertError(error, "CONFIG", "GET", pattern)
        self.assertEqual(self.run_("KEYS", "?" * MAX_PATTERN_BYTES), [])

    def test_keysLimit(self):
        """KEYS over more keys than KEYS_LIMIT is refused with an error naming SCAN."""
        self.patch(keyspace, "KEYS_LIMIT", 3)
        self.run_("MSET", "a", "1", "b", "2", "c", "3")
        self.assertEqual(sorted(self.run_("KEYS", "*")), [b"a", b"b", b"c"])
        self.run_("SET", "d", "4")
        self.assertError("ERR KEYS is refused over more than 3 keys (there are 4); use SCAN",
                         "KEYS", "*")

    def test_scanCountLimit(self):
        """SCAN examines at most SCAN_COUNT_LIMIT keys per call, whatever COUNT says."""
        for i in range(keyspace.SCAN_COUNT_LIMIT * 2):
            self.run_("SET", f"k{i}", "v")
        cursor, found = self.run_("SCAN", 0, "COUNT", 10 ** 9)
        self.assertNotEqual(cursor, b"0")
        self.assertLessEqual(len(found), keyspace.SCAN_COUNT_LIMIT + 64)

    def test_flush(self):
        """FLUSHDB and FLUSHALL remove everything; bad modes are syntax errors."""
        self.run_("SET", "k", "v")
        self.assertEqual(self.run_("FLUSHDB"), Status("OK"))
        self.run_("SET", "k", "v")
        self.assertEqual(self.run_("FLUSHALL", "ASYNC"), Status("OK"))
        self.assertEqual(self.run_("DBSIZE"), 0)
        self.assertError("ERR syntax error", "FLUSHALL", "NOW")


class ConnectionTests(CommandTestCase):
    """
    PING, ECHO, SELECT, CLIENT, HELLO, QUIT, unknown commands and arity.
    """

    def test_pingEcho(self):
        """PING answers PONG or its argument; ECHO echoes."""
        self.assertEqual(self.run_("PING"), Status("PONG"))
        self.assertEqual(self.run_("PING", "hi"), b"hi")
        self.assertEqual(self.run_("ECHO", "x"), b"x")
        self.assertError("ERR wrong number of arguments for 'ping' command", "PING", "a", "b")

    def test_unknownCommand(self):
        """Unknown commands quote their first arguments like Redis 7."""
        self.assertError("ERR unknown command 'foo', with args beginning with: 'a' 'b' ",
                         "foo", "a", "b")
        self.assertError("ERR unknown command 'FOO', with args beginning with: ", "FOO")
        reply = self.run_("foo", "x" * 200, "y")
        self.assertEqual(reply.args[0], "ERR unknown command 'foo', with args beginning with: '"
                         + "x" * 128 + "' ")

    def test_arity(self):
        """Wrong argument counts name the command in lower case."""
        self.assertError("ERR wrong number of arguments for 'get' command", "GET")
        self.assertError("ERR wrong number of arguments for 'get' command", "get", "a", "b")
        self.assertError("ERR wrong number of arguments for 'client|setname' command",
                         "CLIENT", "SETNAME")

    def test_select(self):
        """Only database 0 exists."""
        self.assertEqual(self.run_("SELECT", 0), Status("OK"))
        self.assertError("ERR DB index is out of range", "SELECT", 1)
        self.assertError("ERR value is not an integer or out of range", "SELECT", "x")

    def test_client(self):
        """CLIENT ID, SETNAME, GETNAME and SETINFO."""
        self.assertEqual(self.run_("CLIENT", "ID"), self.client.id)
        self.assertIsNone(self.run_("CLIENT", "GETNAME"))
        self.assertEqual(self.run_("CLIENT", "SETNAME", "web1"), Status("OK"))
        self.assertEqual(self.run_("client", "getname"), b"web1")
        self.assertEqual(self.run_("CLIENT", "SETINFO", "LIB-NAME", "redis-py"), Status("OK"))
        self.assertEqual(self.run_("CLIENT", "SETINFO", "lib-ver", "8.1"), Status("OK"))
        self.assertIn(b"lib-name=redis-py", self.run_("CLIENT", "INFO"))
        self.assertIn(b"name=web1", self.run_("CLIENT", "LIST"))
        self.assertError("ERR Client names cannot contain spaces, newlines or special "
                         "characters.", "CLIENT", "SETNAME", "a b")
        self.assertError("ERR Unrecognized option 'x'", "CLIENT", "SETINFO", "x", "y")
        self.assertError("ERR unknown subcommand 'bogus'. Try CLIENT HELP.", "CLIENT", "bogus")

    def test_clientIdsUnique(self):
        """Each connection gets its own id."""
        other = self.server.connect()
        self.assertNotEqual(other.id, self.client.id)
        self.server.disconnect(other)
        self.assertEqual(list(self.server.clients), [self.client.id])

    def test_hello(self):
        """HELLO 3 switches to RESP3 and describes the server."""
        reply = self.run_("HELLO", 3, "SETNAME", "me")
        self.assertEqual(reply[b"proto"], 3)
        self.assertEqual(reply[b"server"], b"redis")
        self.assertEqual(reply[b"id"], self.client.id)
        self.assertTrue(self.client.resp3)
        self.assertEqual(self.client.name, b"me")
        self.assertEqual(self.run_("HELLO")[b"proto"], 3)
        self.run_("HELLO", 2)
        self.assertFalse(self.client.resp3)

    def test_helloErrors(self):
        """Unknown versions and options are refused."""
        self.assertError("NOPROTO unsupported protocol version", "HELLO", 4)
        self.assertError("ERR Protocol version is not an integer or out of range", "HELLO", "x")
        self.assertError("ERR Syntax error in HELLO option 'bogus'", "HELLO", 3, "bogus")

    def test_quit(self):
        """QUIT answers OK and marks the client closing."""
        self.assertEqual(self.run_("QUIT"), Status("OK"))
        self.assertTrue(self.client.closing)

    def test_reset(self):
        """RESET drops the transaction and RESP3."""
        self.run_("HELLO", 3)
        self.run_("MULTI")
        self.assertEqual(self.run_("RESET"), Status("RESET"))
        self.assertFalse(self.client.resp3)
        self.assertIsNone(self.client.transaction)


class AuthTests(CommandTestCase):
    """
    AUTH, NOAUTH and HELLO AUTH with a password set.
    """

    password = b"s3cret"

    def test_noauth(self):
        """Commands are refused until AUTH succeeds."""
        self.assertError("NOAUTH Authentication required.", "GET", "k")
        self.assertError("NOAUTH Authentication required.", "PING")
        self.assertError("WRONGPASS invalid username-password pair or user is disabled.",
                         "AUTH", "wrong")
        self.assertEqual(self.run_("AUTH", "s3cret"), Status("OK"))
        self.assertEqual(self.run_("PING"), Status("PONG"))

    def test_authWithUser(self):
        """AUTH default <password> works; other users do not exist."""
        self.assertError("WRONGPASS invalid username-password pair or user is disabled.",
                         "AUTH", "admin", "s3cret")
        self.assertEqual(self.run_("AUTH", "default", "s3cret"), Status("OK"))
        self.assertError("ERR syntax error", "AUTH", "a", "b", "c")

    def test_unknownBeforeAuth(self):
        """Unknown commands and wrong arity are reported before NOAUTH, as Redis does."""
        self.assertError("ERR unknown command 'nope', with args beginning with: ", "nope")
        self.assertError("ERR wrong number of arguments for 'get' command", "GET")

    def test_hello(self):
        """HELLO needs authentication first or its AUTH option."""
        reply = self.run_("HELLO", 3)
        self.assertTrue(reply.args[0].startswith("NOAUTH HELLO must be called"))
        self.assertError("WRONGPASS invalid username-password pair or user is disabled.",
                         "HELLO", 3, "AUTH", "default", "x")
        self.assertEqual(self.run_("HELLO", 3, "AUTH", "default", "s3cret")[b"proto"], 3)
        self.assertTrue(self.client.authenticated)

    def test_failedAuthCloses(self):
        """After AUTH_FAILURE_LIMIT failed AUTH or HELLO AUTH the connection is closed."""
        for i in range(commands.AUTH_FAILURE_LIMIT - 1):
            self.run_(*(("AUTH", "guess") if i % 2 else ("HELLO", 3, "AUTH", "default", "x")))
            self.assertFalse(self.client.closing)
        self.assertError("WRONGPASS invalid username-password pair or user is disabled.",
                         "AUTH", "guess")
        self.assertTrue(self.client.closing)

    def test_failedAuthLogged(self):
        """Failed AUTH is logged with the address, one line per AUTH_LOG_INTERVAL at most."""
        events = captureLog(self)
        clients = [self.server.connect(f"10.0.0.{i}:5000") for i in range(200)]
        for client in clients:
            for i in range(commands.AUTH_FAILURE_LIMIT):
                self.run_("AUTH", "guess", client=client)
        self.assertEqual([formatEvent(e) for e in events], [
            "Failed AUTH from 10.0.0.0:5000 (1 failed AUTH since the last report)"])
        self.clock.advance(commands.AUTH_LOG_INTERVAL)
        self.run_("AUTH", "guess")
        self.assertEqual(formatEvent(events[-1]), "Failed AUTH from 127.0.0.1:1 "
                         f"({200 * commands.AUTH_FAILURE_LIMIT} failed AUTH since the last report)")
        self.run_("AUTH", "s3cret")
        self.assertEqual(len(events), 2)

    def test_quitWithoutAuth(self):
        """QUIT works before authenticating."""
        self.assertEqual(self.run_("QUIT"), Status("OK"))


class NoPasswordAuthTests(CommandTestCase):
    """
    AUTH without a configured password.
    """

    def test_auth(self):
        """AUTH <password> is an error when no password is set, as in Redis."""
        self.assertError("ERR AUTH <password> called without any password configured for "
                         "the default user. Are you sure your configuration is correct?",
                         "AUTH", "x")
        self.assertEqual(self.run_("AUTH", "default", "anything"), Status("OK"))


class TransactionTests(CommandTestCase):
    """
    MULTI, EXEC and DISCARD.
    """

    def test_execRunsQueued(self):
        """Commands after MULTI are queued and run by EXEC, replies in an array."""
        self.assertEqual(self.run_("MULTI"), Status("OK"))
        self.assertEqual(self.run_("SET", "k", "1"), Status("QUEUED"))
        self.assertEqual(self.run_("INCR", "k"), Status("QUEUED"))
        self.assertEqual(self.run_("GET", "k"), Status("QUEUED"))
        self.assertIsNone(self.store.get(b"k"))
        self.assertEqual(self.run_("EXEC"), [Status("OK"), 2, b"2"])

    def test_runtimeErrorsInArray(self):
        """A command failing at EXEC time gives its error in the array only."""
        self.run_("SET", "s", "abc")
        self.run_("MULTI")
        self.run_("INCR", "s")
        self.run_("SET", "k", "v")
        reply = self.run_("EXEC")
        self.assertIsInstance(reply[0], ReplyError)
        self.assertEqual(reply[1], Status("OK"))

    def test_queueErrorAborts(self):
        """An unknown command or wrong arity while queueing aborts EXEC."""
        self.run_("MULTI")
        self.assertIsInstance(self.run_("nope"), ReplyError)
        self.run_("SET", "k", "v")
        self.assertError("EXECABORT Transaction discarded because of previous errors.", "EXEC")
        self.assertIsNone(self.store.get(b"k"))
        self.assertIsNone(self.client.transaction)

    def test_discard(self):
        """DISCARD forgets the queue."""
        self.run_("MULTI")
        self.run_("SET", "k", "v")
        self.assertEqual(self.run_("DISCARD"), Status("OK"))
        self.assertIsNone(self.store.get(b"k"))

    def test_errors(self):
        """EXEC/DISCARD without MULTI and nested MULTI are refused."""
        self.assertError("ERR EXEC without MULTI", "EXEC")
        self.assertError("ERR DISCARD without MULTI", "DISCARD")
        self.run_("MULTI")
        self.assertError("ERR MULTI calls can not be nested", "MULTI")


class MemoryTests(CommandTestCase):
    """
    OOM under noeviction.
    """

    maxmemory = 1000
    policy = "noeviction"

    def test_oom(self):
        """Writes are refused with Redis's OOM text once memory is full; reads work."""
        for i in range(3):
            self.run_("SET", f"k{i}", "x" * 100)
        self.assertError("OOM command not allowed when used memory > 'maxmemory'.",
                         "SET", "big", "x" * 2000)
        self.assertEqual(self.run_("GET", "k0"), b"x" * 100)
        self.assertEqual(self.run_("DEL", "k0"), 1)


class ServerTests(CommandTestCase):
    """
    COMMAND, INFO, CONFIG GET, DBSIZE.
    """

    def test_commandCount(self):
        """COMMAND COUNT counts the table; COMMAND lists every command."""
        count = self.run_("COMMAND", "COUNT")
        self.assertGreater(count, 40)
        self.assertEqual(len(self.run_("COMMAND")), count)

    def test_commandInfo(self):
        """COMMAND INFO gives Redis's 10-field entries, nil for unknown names."""
        info, missing = self.run_("COMMAND", "INFO", "get", "nope")
        self.assertIsNone(missing)
        self.assertEqual(info[:6], [b"get", 2, [Status("readonly"), Status("fast")], 1, 1, 1])
        self.assertEqual(len(info), 10)

    def test_commandDocs(self):
        """COMMAND DOCS maps names to summaries."""
        docs = self.run_("COMMAND", "DOCS", "set")
        self.assertEqual(list(docs), [b"set"])
        self.assertIn(b"summary", docs[b"set"])
        self.assertGreater(len(self.run_("COMMAND", "DOCS")), 40)

    def test_help(self):
        """CLIENT, CONFIG and COMMAND HELP answer Redis's help lines for what we support."""
        for name, subcommands in [("CLIENT", ["GETNAME", "ID", "INFO", "KILL <ip:port>",
                                              "KILL <option> <value> [<option> <value> [...]]",
                                              "LIST [options ...]", "NO-EVICT (ON|OFF)",
                                              "SETNAME <name>", "SETINFO <option> <value>"]),
                                  ("CONFIG", ["GET <pattern>", "SET <directive> <value>",
                                              "RESETSTAT"]),
                                  ("COMMAND", ["(no subcommand)", "COUNT",
                                               "GETKEYS <full-command>", "LIST",
                                               "INFO [<command-name> ...]",
                                               "DOCS [<command-name> ...]"])]:
            lines = self.run_(name, "help")
            self.assertIsInstance(lines, list, name)
            self.assertTrue(all(isinstance(line, Status) for line in lines))
            self.assertEqual(lines[0], f"{name} <subcommand> [<arg> [value] [opt] ...]. "
                                       "Subcommands are:")
            self.assertEqual(lines[-2:], ["HELP", "    Prints this help."])
            self.assertEqual([line for line in lines[1:-2] if not line.startswith(" ")],
                             subcommands)
        self.assertError("ERR wrong number of arguments for 'client|help' command",
                         "CLIENT", "HELP", "extra")

    def test_info(self):
        """INFO has the sections Redis clients read."""
        self.run_("SET", "k", "v", "EX", 10)
        text = self.run_("INFO").decode()
        for section in ("Server", "Clients", "Memory", "Persistence", "Stats", "Keyspace"):
            self.assertIn(f"# {section}\r\n", text)
        self.assertIn("redis_version:7.0.0\r\n", text)
        self.assertIn("db0:keys=1,expires=1,avg_ttl=0\r\n", text)
        only = self.run_("INFO", "memory").decode()
        self.assertTrue(only.startswith("# Memory\r\n"))
        self.assertNotIn("# Server", only)

    def test_configGet(self):
        """CONFIG GET answers save, appendonly and maxmemory, with globs."""
        self.assertEqual(self.run_("CONFIG", "GET", "save"), {b"save": b""})
        self.assertEqual(self.run_("CONFIG", "GET", "appendonly"), {b"appendonly": b"no"})
        self.assertEqual(self.run_("CONFIG", "GET", "maxmemory*"),
                         {b"maxmemory": b"0", b"maxmemory-policy": b"volatile-lru"})
        self.assertEqual(self.run_("CONFIG", "GET", "nothing"), {})
        self.assertError("ERR unknown subcommand 'REWRITE'. Try CONFIG HELP.",
                         "CONFIG", "REWRITE")
