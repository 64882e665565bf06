"""
Tests for WATCH and UNWATCH (L{services.sessionserver.transactions}): EXEC
answers nil when a watched key changed since WATCH, whatever changed it — a
write by any client, an expiry, an eviction or a flush — and watches end
with EXEC, DISCARD, UNWATCH, RESET and the connection.
"""

from services.resp import encode
from services.resp.encoding import NIL_ARRAY
from services.sessionserver.store import KEY_OVERHEAD
from tests.test_commands import CommandTestCase

WRITES = [
    ("SET", "k", "2"), ("SETEX", "k", 10, "2"), ("GETSET", "k", "2"), ("APPEND", "k", "x"),
    ("INCR", "k"), ("INCRBY", "k", 2), ("DECR", "k"), ("INCRBYFLOAT", "k", "1.5"),
    ("SETRANGE", "k", 0, "9"), ("MSET", "k", "2", "other", "3"), ("DEL", "k"),
    ("UNLINK", "k"), ("GETDEL", "k"), ("EXPIRE", "k", 100), ("PEXPIREAT", "k", 1),
    ("GETEX", "k", "EX", 100), ("RENAME", "k", "elsewhere"), ("RENAME", "other", "k"),
    ("COPY", "other", "k", "REPLACE"), ("FLUSHALL",), ("FLUSHDB",),
]
"""Writes that change the key C{k} (holding 1, C{other} holding 3)."""


class WatchTestCase(CommandTestCase):
    """
    A second client to make changes while the first watches.
    """

    def setUp(self):
        CommandTestCase.setUp(self)
        self.other = self.server.connect("127.0.0.1:2")

    def transaction(self):
        """
        Queue C{SET result done} in a transaction and return EXEC's reply.
        """
        self.run_("MULTI")
        self.run_("SET", "result", "done")
        return self.run_("EXEC")

    def assertAborted(self):
        """
        The transaction is refused: EXEC answers nil and it did not run.
        """
        self.assertIs(self.transaction(), NIL_ARRAY)
        self.assertEqual(self.run_("EXISTS", "result"), 0)

    def assertRuns(self):
        """
        The transaction runs.
        """
        self.assertEqual(self.transaction(), ["OK"])
        self.assertEqual(self.run_("GET", "result"), b"done")
        self.run_("DEL", "result")


class InvalidationTests(WatchTestCase):
    """
    Every kind of change to a watched key makes EXEC answer nil.
    """

    def test_nilIsANullArray(self):
        """EXEC's nil is RESP2's null array, as Redis sends it, and RESP3's null."""
        self.run_("WATCH", "k")
        self.run_("SET", "k", "1", client=self.other)
        reply = self.transaction()
        self.assertEqual(encode(reply), b"*-1\r\n")
        self.assertEqual(encode(reply, resp3=True), b"_\r\n")

    def test_unchanged(self):
        """Without a change in between, EXEC runs the transaction."""
        self.run_("SET", "k", "1")
        self.assertEqual(self.run_("WATCH", "k", "missing"), "OK")
        self.run_("GET", "k", client=self.other)
        self.run_("EXISTS", "k", "missing", client=self.other)
        self.assertRuns()

    def test_everyWrite(self):
        """Each string and key write by another client invalidates the watch."""
        for write in WRITES:
            self.run_("MSET", "k", "1", "other", "3")
            self.run_("PERSIST", "k")
            self.run_("WATCH", "k")
            reply = self.run_(*write, client=self.other)
            self.assertFalse(isinstance(reply, Exception), (write, reply))
            self.assertIs(self.transaction(), NIL_ARRAY, write)

    def test_persist(self):
        """Removing a watched key's expiry is a change."""
        self.run_("SET", "k", "1", "EX", 100)
        self.run_("WATCH", "k")
        self.run_("PERSIST", "k", client=self.other)
        self.assertAborted()

    def test_ownWrite(self):
        """A write by the watching client itself, before MULTI, counts too."""
        self.run_("WATCH", "k")
        self.run_("SET", "k", "1")
        self.assertAborted()

    def test_creation(self):
        """Creating a watched key that did not exist is a change."""
        self.run_("WATCH", "k")
        self.run_("SETNX", "k", "1", client=self.other)
        self.assertAborted()

    def test_collections(self):
        """Every write to a watched hash or set (HSET, HINCRBY, SREM, SPOP...) is a change."""
        for setup, write in ((("HSET", "k", "f", "v"), ("HSET", "k", "g", "w")),
                             (("HSET", "k", "f", "v", "g", "w"), ("HDEL", "k", "f")),
                             (("SADD", "k", "a"), ("SADD", "k", "b")),
                             (("SADD", "k", "a", "b"), ("SREM", "k", "a")),
                             (("HSET", "k", "n", "1"), ("HINCRBY", "k", "n", 1)),
                             (("HSET", "k", "n", "1"), ("HINCRBYFLOAT", "k", "n", 1)),
                             (("HSET", "k", "n", "1"), ("HSETNX", "k", "m", 1)),
                             (("SADD", "k", "a", "b"), ("SPOP", "k")),
                             (("SADD", "k", "a"), ("SPOP", "k", 5))):
            self.run_("DEL", "k")
            self.run_(*setup)
            self.run_("WATCH", "k")
            self.run_(*write, client=self.other)
            self.assertIs(self.transaction(), NIL_ARRAY, write)

    def test_noChangeNoInvalidation(self):
        """Writes that change nothing (a refused SETNX, deleting a missing key) do not count."""
        self.run_("SET", "k", "1")
        self.run_("WATCH", "k", "missing")
        self.run_("SETNX", "k", "2", client=self.other)
        self.run_("DEL", "missing", client=self.other)
        self.run_("PERSIST", "k", client=self.other)
        self.run_("SET", "unrelated", "x", client=self.other)
        self.assertRuns()

    def test_lazyExpiry(self):
        """A watched key that expires before EXEC, touched by no one, fails EXEC."""
        self.run_("SET", "k", "1", "PX", 100)
        self.run_("WATCH", "k")
        self.clock.advance(0.2)
        self.assertAborted()

    def test_activeExpiry(self):
        """A watched key removed by the expiry sweep fails EXEC."""
        self.run_("SET", "k", "1", "PX", 100)
        self.run_("WATCH", "k")
        self.clock.advance(0.2)
        self.assertEqual(self.store.expireDue(), 1)
        self.assertAborted()

    def test_staleKey(self):
        """A key already expired when watched is simply absent: EXEC runs."""
        self.run_("SET", "k", "1", "PX", 100)
        self.clock.advance(0.2)
        self.run_("WATCH", "k")
        self.store.expireDue()
        self.run_("GET", "k", client=self.other)
        self.assertRuns()

    def test_flushOfMissingKey(self):
        """FLUSHALL changes a watched key only if it existed, as in Redis."""
        self.run_("SET", "other", "1")
        self.run_("WATCH", "missing")
        self.run_("FLUSHALL", client=self.other)
        self.assertRuns()

    def test_renameAway(self):
        """Renaming a watched key away (or onto it) fails EXEC."""
        self.run_("MSET", "k", "1", "j", "2")
        self.run_("WATCH", "j")
        self.run_("RENAME", "k", "j", client=self.other)
        self.assertAborted()

    def test_changesInsideTheTransaction(self):
        """The transaction's own writes to the watched key do not abort it."""
        self.run_("WATCH", "k")
        self.run_("MULTI")
        self.run_("SET", "k", "mine")
        self.assertEqual(self.run_("EXEC"), ["OK"])

    def test_execAbortFirst(self):
        """A transaction with a queuing error is EXECABORT even if a watched key changed."""
        self.run_("WATCH", "k")
        self.run_("SET", "k", "1", client=self.other)
        self.run_("MULTI")
        self.run_("NOSUCHCOMMAND")
        self.assertError("EXECABORT Transaction discarded because of previous errors.", "EXEC")


class EvictionTests(WatchTestCase):
    """
    Eviction of a watched key.
    """

    maxmemory = 2 * (KEY_OVERHEAD + 2)
    policy = "allkeys-lru"

    def test_eviction(self):
        """A watched key evicted to make room for another client's write fails EXEC."""
        self.run_("SET", "k", "1")
        self.run_("WATCH", "k")
        self.run_("SET", "b", "2", client=self.other)
        self.run_("SET", "c", "3", client=self.other)
        self.assertEqual(self.run_("EXISTS", "k"), 0)
        self.assertAborted()


class EndingTests(WatchTestCase):
    """
    What ends watching, and WATCH's own errors.
    """

    def test_execEnds(self):
        """After an EXEC (run or aborted), earlier changes no longer count."""
        self.run_("WATCH", "k")
        self.run_("SET", "k", "1", client=self.other)
        self.assertAborted()
        self.assertRuns()
        self.assertEqual(self.store.watched, {})

    def test_unwatch(self):
        """UNWATCH forgets the watched keys."""
        self.run_("WATCH", "k")
        self.assertEqual(self.run_("UNWATCH"), "OK")
        self.run_("SET", "k", "1", client=self.other)
        self.assertRuns()

    def test_discard(self):
        """DISCARD forgets the watched keys too."""
        self.run_("WATCH", "k")
        self.run_("SET", "k", "1", client=self.other)
        self.run_("MULTI")
        self.run_("DISCARD")
        self.assertRuns()

    def test_reset(self):
        """RESET forgets the watched keys."""
        self.run_("WATCH", "k")
        self.run_("SET", "k", "1", client=self.other)
        self.run_("RESET")
        self.assertRuns()

    def test_disconnect(self):
        """A closed connection's watches are gone from the store."""
        self.run_("WATCH", "k", "j")
        self.server.disconnect(self.client)
        self.assertEqual(self.store.watched, {})

    def test_watchInsideMulti(self):
        """WATCH inside MULTI is refused without aborting the transaction."""
        self.run_("MULTI")
        self.assertError("ERR WATCH inside MULTI is not allowed", "WATCH", "k")
        self.run_("SET", "result", "done")
        self.assertEqual(self.run_("EXEC"), ["OK"])

    def test_unwatchQueued(self):
        """UNWATCH inside MULTI is queued like any command."""
        self.run_("MULTI")
        self.assertEqual(self.run_("UNWATCH"), "QUEUED")
        self.assertEqual(self.run_("EXEC"), ["OK"])

    def test_arity(self):
        """WATCH needs a key; UNWATCH takes none."""
        self.assertError("ERR wrong number of arguments for 'watch' command", "WATCH")
        self.assertError("ERR wrong number of arguments for 'unwatch' command", "UNWATCH", "k")

    def test_severalWatchers(self):
        """Every client watching a key sees its change; other keys' watchers do not."""
        third = self.server.connect("127.0.0.1:3")
        self.run_("WATCH", "k")
        self.run_("WATCH", "k", client=third)
        self.run_("WATCH", "j", client=self.other)
        self.run_("SET", "k", "1", client=self.other)
        for client, expected in ((self.client, NIL_ARRAY), (third, NIL_ARRAY),
                                 (self.other, [b"1"])):
            self.run_("MULTI", client=client)
            self.run_("GET", "k", client=client)
            self.assertEqual(self.run_("EXEC", client=client), expected)
