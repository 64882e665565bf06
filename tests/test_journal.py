"""
Tests for L{services.sessionserver.journal}: recording, replay, fsync
policies, torn-tail truncation and background compaction.
"""

import os

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver import journal as journalModule
from services.sessionserver.journal import Journal, encodeCommand
from services.sessionserver.store import Store
from tests.support import captureLog, tempDir


class JournalTestCase(SynchronousTestCase):
    """
    A fresh journal file and clock per test.
    """

    def setUp(self):
        self.path = os.path.join(tempDir(self), "journal.aof")
        self.clock = Clock()
        self.clock.advance(1000)
        self.fsyncs = []
        realFsync = os.fsync
        self.patch(journalModule.os, "fsync", lambda fd: (self.fsyncs.append(fd), realFsync(fd)))

    def open(self, fsync="everysec", **kwargs):
        store = Store(self.clock)
        journal = Journal(self.path, fsync, self.clock, **kwargs)
        journal.load(store)
        self.addCleanup(journal.close)
        return store, journal

    def reopen(self):
        store = Store(self.clock)
        journal = Journal(self.path, "no", self.clock)
        count = journal.load(store)
        journal.close()
        return store, count

    def captureWarnings(self):
        return captureLog(self)


class ReplayTests(JournalTestCase):
    """
    What is committed comes back.
    """

    def test_replay(self):
        """Sets, expiries, persists, deletes and flushes replay to the same state."""
        store, journal = self.open()
        store.set(b"gone", b"x")
        store.flush()
        store.set(b"a", b"1", 5000000)
        store.set(b"b", b"2")
        store.pexpireAt(b"b", 6000000)
        store.set(b"c", b"3", 7000000)
        store.persist(b"c")
        store.set(b"d", b"4")
        store.delete(b"d")
        journal.commit()
        restored, count = self.reopen()
        self.assertEqual(count, 9)
        self.assertEqual(sorted(restored.items()),
                         [(b"a", b"1", 5000000), (b"b", b"2", 6000000), (b"c", b"3", None)])

    def test_expiredWhileDown(self):
        """Keys whose absolute expiry passed while the server was down stay gone."""
        store, journal = self.open()
        store.set(b"a", b"1", 1000500)
        journal.commit()
        self.clock.advance(1)
        restored, count = self.reopen()
        self.assertEqual(len(restored), 0)

    def test_uncommittedNotWritten(self):
        """Records reach the file only on commit."""
        store, journal = self.open()
        store.set(b"a", b"1")
        self.assertEqual(os.path.getsize(self.path), 0)
        journal.commit()
        self.assertEqual(os.path.getsize(self.path), len(encodeCommand(b"SET", b"a", b"1")))

    def test_replayIgnoresMaxmemory(self):
        """A journal bigger than maxmemory still loads completely."""
        store, journal = self.open()
        for i in range(10):
            store.set(b"k%d" % i, b"x" * 100)
        journal.close()
        small = Store(self.clock, 500, "noeviction")
        Journal(self.path, "no", self.clock).load(small)
        self.assertEqual(len(small), 10)
        self.assertEqual(small.maxmemory, 500)
        small.observer.close()

    def test_closeDetaches(self):
        """After close the store no longer reports to the journal."""
        store, journal = self.open()
        journal.close()
        self.assertIsNone(store.observer)
        journal.close()


class FsyncTests(JournalTestCase):
    """
    The fsync policies.
    """

    def test_always(self):
        """Under always, every commit fsyncs before returning."""
        store, journal = self.open("always")
        store.set(b"a", b"1")
        journal.commit()
        self.assertEqual(len(self.fsyncs), 1)

    def test_everysec(self):
        """Under everysec, commits write and sync() fsyncs only if dirty."""
        store, journal = self.open("everysec")
        store.set(b"a", b"1")
        journal.commit()
        self.assertEqual(self.fsyncs, [])
        journal.sync()
        journal.sync()
        self.assertEqual(len(self.fsyncs), 1)

    def test_unknownPolicy(self):
        """An unknown policy is refused."""
        self.assertRaises(ValueError, Journal, self.path, "sometimes")


class TailTests(JournalTestCase):
    """
    Torn and corrupt tails are cut off with a warning, never a crash.
    """

    def writeGood(self):
        store, journal = self.open()
        store.set(b"a", b"1")
        store.set(b"b", b"2")
        journal.close()
        return os.path.getsize(self.path)

    def assertTruncated(self, tail):
        good = self.writeGood()
        with open(self.path, "ab") as f:
            f.write(tail)
        events = self.captureWarnings()
        restored, count = self.reopen()
        self.assertEqual(count, 2)
        self.assertEqual(sorted(restored.keys()), [b"a", b"b"])
        self.assertEqual(os.path.getsize(self.path), good)
        warnings = [e for e in events if "cut off" in e.get("log_format", "")]
        self.assertEqual(len(warnings), 1)
        self.assertEqual(warnings[0]["bad"], len(tail))

    def test_tornRecord(self):
        """Half a record at the end is cut off."""
        self.assertTruncated(encodeCommand(b"SET", b"c", b"3")[:-5])

    def test_garbage(self):
        """Bytes that are not RESP are cut off."""
        self.assertTruncated(b"*2\r\n!!garbage")

    def test_unknownRecord(self):
        """A RESP command the journal never writes is corrupt."""
        self.assertTruncated(encodeCommand(b"HSET", b"a", b"b", b"c"))

    def test_badNumber(self):
        """A record with a non-numeric time is corrupt."""
        self.assertTruncated(encodeCommand(b"PEXPIREAT", b"a", b"soon"))

    def test_appendAfterTruncation(self):
        """New records go after the last good one."""
        self.writeGood()
        with open(self.path, "ab") as f:
            f.write(b"*3\r\n$3\r\nSET")
        store, journal = self.open()
        store.set(b"c", b"3")
        journal.close()
        restored, count = self.reopen()
        self.assertEqual(sorted(restored.keys()), [b"a", b"b", b"c"])

    def test_missingFileIsEmpty(self):
        """A journal that does not exist yet is created empty."""
        store, journal = self.open()
        self.assertEqual(len(store), 0)
        self.assertTrue(os.path.exists(self.path))


class CompactionTests(JournalTestCase):
    """
    Background rewrites.
    """

    def test_compaction(self):
        """A rewrite keeps the live state, including writes made during it."""
        self.patch(journalModule, "COMPACT_BATCH", 3)
        store, journal = self.open()
        for i in range(10):
            store.set(b"k%d" % i, b"old")
            store.set(b"k%d" % i, b"v%d" % i)
        store.delete(b"k9")
        journal.commit()
        before = journal.size
        done = journal.compact()
        self.assertEqual(journal.info()["aof_rewrite_in_progress"], 1)
        store.set(b"k0", b"during")
        store.delete(b"k8")
        store.set(b"new", b"n", 9000000)
        journal.commit()
        self.clock.advance(0)
        store.delete(b"k5")
        journal.commit()
        while not done.called:
            self.clock.advance(0)
        self.assertLess(journal.size, before)
        self.assertEqual(journal.info()["aof_rewrite_in_progress"], 0)
        self.assertFalse(os.path.exists(self.path + ".rewrite"))
        store.set(b"after", b"a")
        journal.close()
        restored, count = self.reopen()
        self.assertEqual(sorted(restored.items()), sorted(store.items()))

    def test_automatic(self):
        """A rewrite starts on its own once the file outgrows its base size."""
        store, journal = self.open(compactMinSize=1000, compactRatio=2.0)
        for i in range(100):
            store.set(b"k", b"%030d" % i)
            journal.commit()
            self.clock.advance(0)
        self.assertLess(journal.size, 1000)
        self.assertGreater(journal.baseSize, 0)

    def test_closeAbandons(self):
        """Closing during a rewrite removes the temporary file."""
        store, journal = self.open()
        store.set(b"a", b"1")
        journal.compact()
        journal.close()
        self.assertFalse(os.path.exists(self.path + ".rewrite"))
        restored, count = self.reopen()
        self.assertEqual(restored.keys(), [b"a"])
