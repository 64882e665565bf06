"""
Tests for hashes and sets in the journal (L{services.sessionserver.journal},
L{services.sessionserver.journalfile}): every write journaled as a command,
replay giving the same data and memory, compaction writing them back, and
a failed write undoing changes to them.
"""

import io
import os

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver import journal as journalModule
from services.sessionserver import journalfile as journalfileModule
from services.sessionserver.commands import Server
from services.sessionserver.journal import Journal, JournalWriteError
from services.sessionserver.journalfile import (
    HEADER, MAX_ARGUMENTS, CorruptJournal, JournalReader, encodeRecord)
from services.sessionserver.store import RECORD_ITEMS, Hash, Set, Store
from tests.support import tempDir
from tests.test_journal_failures import FailingDisk


def snapshot(store):
    """
    Every live key as C{key: (plain value, expiry)}, for comparing stores.
    """
    return {key: (value if isinstance(value, bytes) else
                  dict(value) if isinstance(value, Hash) else set(value), expireAt)
            for key, value, expireAt in store.items()}


class TypesJournalTestCase(SynchronousTestCase):
    """
    A server over a journaled store, on a clock.
    """

    def setUp(self):
        self.path = os.path.join(tempDir(self), "journal.aof")
        self.clock = Clock()
        self.clock.advance(1000)
        self.store = Store(self.clock)
        self.journal = Journal(self.path, "no", self.clock)
        self.journal.load(self.store)
        self.addCleanup(self.journal.close)
        self.server = Server(self.store)
        self.server.journal = self.journal
        self.client = self.server.connect()

    def run_(self, *args):
        reply = self.server.execute(self.client, [a if isinstance(a, bytes) else str(a).encode()
                                                  for a in args])
        self.journal.commit()
        return reply

    def reopen(self):
        self.journal.close()
        store = Store(self.clock)
        journal = Journal(self.path, "no", self.clock)
        journal.load(store)
        journal.close()
        return store

    def records(self):
        with open(self.path, "rb") as f:
            return [args for args, end in JournalReader(f)]


class ReplayTests(TypesJournalTestCase):
    """
    Writes to hashes and sets come back on replay.
    """

    def test_everyWrite(self):
        """Each hash and set command's change replays to the same data and memory."""
        self.run_("HSET", "h", "a", "1", "b", "2", "c", "3")
        self.run_("HDEL", "h", "b", "missing")
        self.run_("HINCRBY", "h", "n", 5)
        self.run_("HINCRBYFLOAT", "h", "f", "0.5")
        self.run_("HSETNX", "h", "a", "no")
        self.run_("HSETNX", "h", "z", "26")
        self.run_("HMSET", "h", "m", "13")
        self.run_("SADD", "s", "x", "y", "z", "w")
        self.run_("SREM", "s", "y")
        popped = self.run_("SPOP", "s", 2)
        self.run_("PEXPIRE", "s", 50_000)
        restored = self.reopen()
        self.assertEqual(snapshot(restored), snapshot(self.store))
        self.assertEqual(restored.collection(b"h", Hash),
                         {b"a": b"1", b"c": b"3", b"n": b"5", b"f": b"0.5", b"z": b"26",
                          b"m": b"13"})
        self.assertEqual(restored.collection(b"s", Set), {b"x", b"z", b"w"} - set(popped))
        self.assertEqual(restored.expireAt(b"s"), 1_050_000)
        self.assertEqual(restored.usedMemory, self.store.usedMemory)

    def test_commandsJournaled(self):
        """The journal holds the commands' changes: new values, and only what was removed."""
        self.run_("HSET", "h", "a", "1")
        self.run_("HINCRBY", "h", "a", 2)
        self.run_("SADD", "s", "x", "y")
        self.run_("SREM", "s", "x", "missing")
        self.run_("HDEL", "h", "missing")
        self.assertEqual(self.records(), [
            [b"HSET", b"h", b"a", b"1"], [b"HSET", b"h", b"a", b"3"],
            [b"SADD", b"s", b"x", b"y"], [b"SREM", b"s", b"x"]])

    def test_emptiedStaysGone(self):
        """A hash or set emptied of its last item is absent after replay."""
        self.run_("HSET", "h", "a", "1")
        self.run_("HDEL", "h", "a")
        self.run_("SADD", "s", "x")
        self.run_("SPOP", "s")
        restored = self.reopen()
        self.assertEqual(restored.keys(), [])
        self.assertEqual(restored.usedMemory, 0)

    def test_typeChanges(self):
        """A key replaced by another type, or deleted and made again, replays as it ended."""
        self.run_("HSET", "k", "a", "1")
        self.run_("SET", "k", "string")
        self.run_("DEL", "k")
        self.run_("SADD", "k", "m")
        self.run_("SET", "other", "v")
        self.run_("DEL", "other")
        self.run_("HSET", "other", "f", "v")
        restored = self.reopen()
        self.assertEqual(snapshot(restored), {b"k": ({b"m"}, None),
                                              b"other": ({b"f": b"v"}, None)})

    def test_expiredWhileDown(self):
        """A hash whose expiry passed while the server was down is gone."""
        self.run_("HSET", "h", "a", "1")
        self.run_("PEXPIRE", "h", 500)
        self.clock.advance(1)
        self.assertEqual(self.reopen().keys(), [])

    def test_collectionSetWhole(self):
        """A hash or set given whole to L{Store.set} is journaled as records replaying it."""
        value = Hash()
        value.put([(b"f", b"v"), (b"g", b"w")])
        self.store.set(b"h", b"old")
        self.store.set(b"h", value, 2_000_000)
        self.journal.commit()
        self.assertEqual(self.records()[1:], [
            [b"DEL", b"h"], [b"HSET", b"h", b"f", b"v", b"g", b"w"],
            [b"PEXPIREAT", b"h", b"2000000"]])
        self.assertEqual(snapshot(self.reopen()), {b"h": ({b"f": b"v", b"g": b"w"}, 2_000_000)})


class LongCommandTests(TypesJournalTestCase):
    """
    A command with more items than a record may hold is journaled in several.
    """

    def test_split(self):
        """SADD, SPOP, HSET and HDEL of many items replay, each record within the limit."""
        self.patch(journalfileModule, "MAX_ARGUMENTS", RECORD_ITEMS + 2)
        members = [b"m%d" % i for i in range(RECORD_ITEMS * 2 + 1)]
        self.run_("SADD", "s", *members)
        self.run_("SPOP", "s", RECORD_ITEMS + 7)
        fields = [part for member in members for part in (member, b"v")]
        self.run_("HSET", "h", *fields)
        self.run_("HDEL", "h", *members[:-1])
        self.assertLessEqual(max(len(args) for args in self.records()), RECORD_ITEMS + 2)
        self.assertEqual(snapshot(self.reopen()), snapshot(self.store))


class CompactionTests(TypesJournalTestCase):
    """
    A rewrite writes hashes and sets back.
    """

    def test_compaction(self):
        """Large hashes and sets come back from the rewritten file with their expiries."""
        self.patch(journalModule, "COMPACT_BATCH", 2)
        fields = [part for i in range(RECORD_ITEMS + 10) for part in (b"f%d" % i, b"v%d" % i)]
        self.run_("HSET", "h", *fields)
        self.run_("HSET", "h", "f0", "changed")
        self.run_("SADD", "s", *[b"m%d" % i for i in range(RECORD_ITEMS * 2 + 3)])
        self.run_("SREM", "s", "m1")
        self.run_("PEXPIRE", "s", 60_000)
        self.run_("SADD", "small", "a")
        self.run_("SET", "str", "v")
        done = self.journal.compact()
        self.run_("SADD", "s", "during")
        self.run_("HDEL", "h", "f2")
        self.run_("SREM", "small", "a")
        while not done.called:
            self.clock.advance(0)
        verbs = [args[0] for args in self.records()]
        self.assertEqual(verbs.count(b"HSET"), -(-len(fields) // RECORD_ITEMS))
        self.assertIn(b"PEXPIREAT", verbs)
        self.assertEqual(self.records()[-3:], [[b"SADD", b"s", b"during"], [b"HDEL", b"h", b"f2"],
                                               [b"SREM", b"small", b"a"]])
        restored = self.reopen()
        self.assertEqual(snapshot(restored), snapshot(self.store))
        self.assertEqual(restored.usedMemory, self.store.usedMemory)
        self.assertEqual(restored.collection(b"h", Hash)[b"f0"], b"changed")


class FailedWriteTests(TypesJournalTestCase):
    """
    A write that cannot be journaled is undone, for hashes and sets too.
    """

    def setUp(self):
        TypesJournalTestCase.setUp(self)
        self.disk = FailingDisk(journalModule._writeAll)
        self.patch(journalModule, "_writeAll", self.disk)

    def execute(self, *args):
        self.server.execute(self.client, [str(a).encode() for a in args])

    def test_undone(self):
        """Changed, emptied and new collections are put back as they were, memory too."""
        self.run_("HSET", "h", "a", "1")
        self.run_("SADD", "s", "x")
        before, memory = snapshot(self.store), self.store.usedMemory
        self.disk.full = True
        self.execute("HSET", "h", "a", "2", "b", "3")
        self.execute("SREM", "s", "x")
        self.execute("SADD", "new", "y")
        self.execute("HINCRBY", "h", "a", 5)
        self.assertRaises(JournalWriteError, self.journal.commit)
        self.assertEqual(snapshot(self.store), before)
        self.assertEqual(self.store.usedMemory, memory)
        self.disk.full = False
        self.assertEqual(snapshot(self.reopen()), before)


    def test_undoneInOrder(self):
        """Changes, deletion, re-creation and a flush in one failed batch all come undone."""
        self.run_("HSET", "h", "a", "1", "b", "2")
        self.run_("SADD", "s", "x", "y")
        self.run_("SET", "str", "v")
        before, memory = snapshot(self.store), self.store.usedMemory
        original = self.store.collection(b"h", Hash)
        self.disk.full = True
        for args in [("HSET", "h", "a", "9", "c", "3"), ("HDEL", "h", "b"), ("SPOP", "s", 2),
                     ("DEL", "h"), ("HSET", "h", "z", "26"), ("SADD", "s", "w"),
                     ("FLUSHALL",), ("SADD", "s", "after")]:
            self.execute(*args)
        self.assertRaises(JournalWriteError, self.journal.commit)
        self.assertEqual(snapshot(self.store), before)
        self.assertEqual(self.store.usedMemory, memory)
        self.assertIs(self.store.collection(b"h", Hash), original)


class ReaderTests(SynchronousTestCase):
    """
    The reader takes the collections' records, of any length, and only well-formed ones.
    """

    def read(self, data):
        return [args for args, end in JournalReader(io.BytesIO(HEADER + data))]

    def test_long(self):
        """A record with many arguments reads back."""
        record = [b"SADD", b"s"] + [b"%d" % i for i in range(5000)]
        self.assertEqual(self.read(encodeRecord(*record)), [record])

    def test_bad(self):
        """An HSET missing a value, or a record past the argument limit, is corruption."""
        for data, reason in [
                (encodeRecord(b"HSET", b"h", b"f", b"v", b"g"), "HSET with 4 arguments"),
                (encodeRecord(b"SREM", b"s"), "SREM with 1 arguments"),
                (b"*%d\r\n" % (MAX_ARGUMENTS + 1), "argument count")]:
            error = self.assertRaises(CorruptJournal, self.read, data)
            self.assertIn(reason, error.reason)
