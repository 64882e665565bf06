"""
Tests for L{services.sessionserver.journal}: recording, replay, fsync
policies, torn-tail truncation, file permissions and background compaction
(corruption: test_journal_corruption; failed writes: test_journal_failures).
"""

import io
import os

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver import journal as journalModule
from services.sessionserver.journal import Journal
from services.sessionserver.journalfile import HEADER, JournalReader, encodeRecord
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
        self.assertEqual(os.path.getsize(self.path), len(HEADER))
        journal.commit()
        self.assertEqual(os.path.getsize(self.path),
                         len(HEADER) + len(encodeRecord(b"SET", b"a", b"1")))

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
        del self.fsyncs[:]
        store.set(b"a", b"1")
        journal.commit()
        self.assertEqual(len(self.fsyncs), 1)

    def test_everysec(self):
        """Under everysec, commits write and sync() fsyncs only if dirty."""
        store, journal = self.open("everysec")
        journal.sync()
        del self.fsyncs[:]
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
    A torn tail, what a crash mid-write leaves, is cut off with a warning.
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
        warnings = [e for e in events if "torn record" in e.get("log_format", "")]
        self.assertEqual(len(warnings), 1)
        self.assertEqual((warnings[0]["good"], warnings[0]["bad"]), (good, len(tail)))

    def test_tornRecord(self):
        """Half a record at the end is cut off."""
        self.assertTruncated(encodeRecord(b"SET", b"c", b"3")[:-20])

    def test_tornChecksum(self):
        """A record whose checksum line is cut short is cut off."""
        self.assertTruncated(encodeRecord(b"SET", b"c", b"3")[:-4])

    def test_missingChecksumAtEnd(self):
        """A record whose checksum was never written is cut off."""
        self.assertTruncated(encodeRecord(b"SET", b"c", b"3")[:-11])

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

    def test_tornHeader(self):
        """A file cut short inside its header starts again empty."""
        with open(self.path, "wb") as f:
            f.write(HEADER[:5])
        store, journal = self.open()
        store.set(b"a", b"1")
        journal.close()
        restored, count = self.reopen()
        self.assertEqual(restored.keys(), [b"a"])

    def test_missingFileIsEmpty(self):
        """A journal that does not exist yet is created empty."""
        store, journal = self.open()
        self.assertEqual(len(store), 0)
        self.assertTrue(os.path.exists(self.path))


class ModeTests(JournalTestCase):
    """
    The journal holds session data: only its owner may read it.
    """

    def test_modeWhateverTheUmask(self):
        """A new journal is 0600 even under umask 0."""
        old = os.umask(0)
        self.addCleanup(os.umask, old)
        self.open()
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)

    def test_existingFileMadePrivate(self):
        """A journal an older version left readable by others becomes 0600."""
        self.writeReadable()
        self.open()
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)

    def test_rewrittenFileMode(self):
        """The file a rewrite swaps in is 0600 even under umask 0."""
        old = os.umask(0)
        self.addCleanup(os.umask, old)
        store, journal = self.open()
        store.set(b"a", b"1")
        journal.commit()
        done = journal.compact()
        while not done.called:
            self.clock.advance(0)
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)

    def writeReadable(self):
        with open(self.path, "wb") as f:
            f.write(HEADER)
        os.chmod(self.path, 0o644)


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
        """Closing during a rewrite removes the temporary file and stops the rewrite."""
        store, journal = self.open()
        store.set(b"a", b"1")
        journal.compact()
        journal.close()
        self.assertFalse(os.path.exists(self.path + ".rewrite"))
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(1)
        restored, count = self.reopen()
        self.assertEqual(restored.keys(), [b"a"])


class ReaderTests(SynchronousTestCase):
    """
    L{JournalReader} reads the same records whatever the size of its reads.
    """

    def test_chunkBoundaries(self):
        """Records read a few bytes at a time, large values included, are all found."""
        records = [(b"SET", b"k%d" % i, b"v" * (i * 37), b"PXAT", b"%d" % (9000000 + i))
                   for i in range(40)] + [(b"DEL", b"k1"), (b"FLUSHALL",)]
        data = HEADER + b"".join(encodeRecord(*r) for r in records)
        for chunkSize in (1, 7, 64, 1 << 20):
            reader = JournalReader(io.BytesIO(data), chunkSize)
            self.assertEqual([tuple(args) for args, end in reader], records)
            self.assertEqual((reader.end, reader.torn), (len(data), False))

    def test_tornAtEveryByte(self):
        """A file cut at any byte inside its last record reads as a torn tail."""
        first = HEADER + encodeRecord(b"SET", b"a", b"1")
        last = encodeRecord(b"SET", b"b", b"2", b"PXAT", b"9000000")
        for cut in range(1, len(last)):
            reader = JournalReader(io.BytesIO(first + last[:cut]), 5)
            self.assertEqual(len(list(reader)), 1)
            self.assertEqual((reader.end, reader.torn), (len(first), True))
