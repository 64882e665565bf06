"""
Tests for L{services.sessionserver.journal} that pin behaviours mutation
testing found no test noticing (docs/mutation.md).
"""

import errno
import io
import os

from twisted.logger import formatEvent
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver import journal as journalModule
from services.sessionserver.journal import Journal, JournalWriteError
from services.sessionserver.journalfile import (
    HEADER, CorruptJournal, JournalReader, badRecord, encodeRecord)
from services.sessionserver.store import Store
from tests.test_journal import JournalTestCase
from tests.test_journal_failures import ENOSPC, FailureTestCase

EIO = OSError(errno.EIO, os.strerror(errno.EIO))


class CompactionTriggerTests(JournalTestCase):
    """
    A rewrite starts when the file passes both its minimum size and its
    ratio to the size it had after the last load or rewrite.
    """

    def grown(self, keys):
        """A journal reopened over C{keys} distinct keys: its base size is their records."""
        store = Store(self.clock)
        journal = Journal(self.path, "no", self.clock)
        journal.load(store)
        for i in range(keys):
            store.set(b"key%d" % i, b"x" * 20)
        journal.commit()
        journal.close()

    def restore(self):
        """The keys the journal file gives when loaded again."""
        restored = Store(self.clock)
        reopened = Journal(self.path, "no", self.clock)
        reopened.load(restored)
        reopened.close()
        return restored

    def writeUntilRewrite(self, store, journal):
        """Overwrite one key until a rewrite starts; return the sizes seen before it."""
        sizes = []
        for i in range(1000):
            store.set(b"key0", b"%020d" % i)
            journal.commit()
            if journal.info()["aof_rewrite_in_progress"]:
                return sizes, journal.size
            sizes.append(journal.size)
        self.fail("no rewrite started")

    def test_ratio(self):
        """Past its minimum size, the file is rewritten once it is over ratio times its base."""
        self.grown(20)
        store, journal = self.open(compactMinSize=10, compactRatio=3.0)
        base = journal.baseSize
        self.assertGreater(base, 500)
        sizes, size = self.writeUntilRewrite(store, journal)
        self.assertLessEqual(max(sizes), 3 * base)
        self.assertGreater(size, 3 * base)

    def test_minimumSize(self):
        """Past its ratio, the file is rewritten only once it is over its minimum size."""
        self.grown(20)
        store, journal = self.open(compactMinSize=5000, compactRatio=1.5)
        self.assertLess(1.5 * journal.baseSize, 5000)
        sizes, size = self.writeUntilRewrite(store, journal)
        self.assertLessEqual(max(sizes), 5000)
        self.assertGreater(size, 5000)

    def test_staleRewriteFile(self):
        """A temporary file a crash left mid-rewrite is replaced, not appended to."""
        self.grown(3)
        with open(self.path + ".rewrite", "wb") as f:
            f.write(b"left by a crash" * 100)
        store, journal = self.open()
        done = journal.compact()
        while not done.called:
            self.clock.advance(0)
        journal.close()
        restored = self.restore()
        self.assertEqual(sorted(restored.keys()), [b"key0", b"key1", b"key2"])


class LogMessageTests(FailureTestCase):
    """
    What the operator reads in the log when the journal meets trouble.
    """

    fsync = "everysec"

    def messages(self):
        return [formatEvent(event) for event in self.events]

    def test_writeFailed(self):
        """A failed write names the file and the system's reason, and says it was undone."""
        self.disk.full = True
        self.change([b"a"], self.store.set, b"a", b"1")
        error = self.assertRaises(JournalWriteError, self.journal.commit)
        self.assertEqual(error.args, (ENOSPC,))
        self.assertEqual(self.messages(), [
            f"Journal {self.path}: writing failed (No space left on device); the changes "
            f"were undone and not acknowledged"])

    def test_cutFailed(self):
        """A failed write that cannot be cut back says it will be cut before the next one."""
        def failingTruncate(fd, size):
            raise EIO

        self.patch(journalModule.os, "ftruncate", failingTruncate)
        self.disk.full = True
        self.change([b"a"], self.store.set, b"a", b"1")
        self.assertRaises(JournalWriteError, self.journal.commit)
        self.assertEqual(self.messages()[1],
                         f"Journal {self.path}: cannot cut off a failed write (Input/output "
                         f"error); trying again before the next one")

    def test_fsyncFailed(self):
        """A failed fsync names the file and the system's reason."""
        def failingFsync(fd):
            raise EIO

        self.change([b"a"], self.store.set, b"a", b"1")
        self.journal.commit()
        self.patch(journalModule.os, "fsync", failingFsync)
        self.journal.sync()
        self.assertEqual(self.messages(),
                         [f"Journal {self.path}: fsync failed (Input/output error)"])

    def test_rewriteFailed(self):
        """A failed rewrite names the file and the system's reason, and keeps the file."""
        self.change([b"a"], self.store.set, b"a", b"1")
        self.journal.commit()
        self.disk.full = True
        self.journal.compact()
        self.clock.advance(0)
        self.assertEqual(self.messages(), [
            f"Journal {self.path}: rewriting failed (No space left on device); the current "
            f"file is kept"])

    def test_tornTail(self):
        """A torn tail's warning names the file, where the good records end and what was cut."""
        self.journal.close()
        good = HEADER + encodeRecord(b"SET", b"a", b"1")
        with open(self.path, "wb") as f:
            f.write(good + b"*3\r\n$3\r\nSET")
        del self.events[:]
        journal = Journal(self.path, "no", self.clock)
        journal.load(Store(self.clock))
        journal.close()
        self.assertEqual(self.messages(), [
            f"Journal {self.path}: cut off a torn record at byte {len(good)} "
            f"(the 11 bytes a crash left unfinished)"])

    def test_failedWriteKeepsOtherKeys(self):
        """Undoing a failed write puts back the keys it changed and leaves the others."""
        self.change([b"other"], self.store.set, b"other", b"o")
        self.journal.commit()
        self.disk.full = True
        self.change([b"a"], self.store.set, b"a", b"1")
        self.assertRaises(JournalWriteError, self.journal.commit)
        self.assertEqual(sorted(self.store.keys()), [b"other"])


class JournalFileTests(CompactionTriggerTests):
    """
    What the journal writes, and what its INFO fields and rewrites report.
    """

    def test_records(self):
        """Each change is written as the upper-case RESP command of the documented format."""
        store, journal = self.open()
        store.set(b"a", b"1")
        store.set(b"b", b"2", 9000000)
        store.pexpireAt(b"a", 9000001)
        store.persist(b"a")
        store.delete(b"a")
        store.flush()
        journal.commit()
        with open(self.path, "rb") as f:
            records = [tuple(args) for args, end in JournalReader(f)]
        self.assertEqual(records, [
            (b"SET", b"a", b"1"), (b"SET", b"b", b"2", b"PXAT", b"9000000"),
            (b"PEXPIREAT", b"a", b"9000001"), (b"PERSIST", b"a"), (b"DEL", b"a"),
            (b"FLUSHALL",)])

    def test_info(self):
        """A new journal's INFO fields."""
        store, journal = self.open(fsync="always")
        self.assertEqual(journal.info(), {
            "loading": 0, "aof_enabled": 1, "aof_rewrite_in_progress": 0,
            "aof_current_size": len(HEADER), "aof_base_size": 0, "aof_fsync": "always",
            "aof_last_write_status": "ok", "rdb_changes_since_last_save": 0})

    def test_rewrite(self):
        """A rewrite writes beside the journal, fires with the new size and leaves
        nothing to fsync."""
        store, journal = self.open()
        store.set(b"a", b"1")
        journal.commit()
        done = journal.compact()
        self.assertTrue(os.path.exists(self.path + ".rewrite"))
        while not done.called:
            self.clock.advance(0)
        self.assertEqual(self.successResultOf(done), journal.size)
        self.assertEqual(journal.size, os.path.getsize(self.path))
        fsyncs = []
        self.patch(journalModule.os, "fsync", fsyncs.append)
        journal.sync()
        self.assertEqual(fsyncs, [])


class RecordCheckTests(SynchronousTestCase):
    """
    Why a record is refused, as the checker and the corruption error say.
    """

    def test_badRecords(self):
        """Each kind of bad record has its reason."""
        self.assertIsNone(badRecord([b"SET", b"k", b"v", b"PXAT", b"5"]))
        self.assertEqual(badRecord([b"SET", b"k"]), "SET with 1 arguments")
        self.assertEqual(badRecord([b"X" * 40]), f"unknown command {b'X' * 32!r}")
        self.assertEqual(badRecord([b"SET", b"k", b"v", b"EX", b"5"]),
                         "SET with an option other than PXAT")
        self.assertEqual(badRecord([b"SET", b"k", b"v", b"PXAT", b"soon"]),
                         "SET with a time that is not a number")

    def test_corruptMessage(self):
        """A corruption's message has its offset and reason."""
        error = CorruptJournal(7, "why")
        self.assertEqual(str(error), "corrupt at byte 7: why")
        self.assertEqual((error.offset, error.reason), (7, "why"))

    def reason(self, data):
        with self.assertRaises(CorruptJournal) as caught:
            list(JournalReader(io.BytesIO(HEADER + data)))
        return caught.exception.reason

    def test_checksumReasons(self):
        """A record followed by no checksum, or by a wrong one, has its reason; a short
        line that cannot begin a checksum is no torn tail."""
        record = encodeRecord(b"DEL", b"k")
        command = record[:record.index(b"#")]
        self.assertEqual(self.reason(command + b"xx"), "a record has no checksum")
        self.assertEqual(self.reason(command + b"#00000000\r\n"),
                         "a record's checksum does not match")


class JournalStateTests(CompactionTriggerTests):
    """
    A journal's defaults, its state before and after loading, and rewrites
    of keys that expire or go away meanwhile.
    """

    def test_defaults(self):
        """fsync everysec; a rewrite past 64 MiB and twice the base size."""
        journal = Journal(self.path)
        self.assertEqual((journal.fsync, journal.compactMinSize, journal.compactRatio),
                         ("everysec", 64 * 1024 * 1024, 2.0))
        error = self.assertRaises(ValueError, Journal, self.path, "sometimes")
        self.assertEqual(str(error), "unknown fsync policy 'sometimes'")

    def test_closeUnloaded(self):
        """Closing a journal that was never loaded does nothing."""
        Journal(self.path).close()
        self.assertFalse(os.path.exists(self.path))

    def test_reopenedState(self):
        """A journal reopened over an existing file reports a good status and has
        nothing to fsync until it writes."""
        self.grown(2)
        store, journal = self.open()
        self.assertEqual(journal.info()["aof_last_write_status"], "ok")
        fsyncs = []
        self.patch(journalModule.os, "fsync", fsyncs.append)
        journal.sync()
        self.assertEqual(fsyncs, [])

    def test_writeErrorWithoutReason(self):
        """A write error without the system's text is quoted as it is."""
        self.assertEqual(JournalWriteError(OSError("odd")).strerror, "odd")

    def test_unprotectableFile(self):
        """A journal whose mode cannot be set fails to load with the system's error."""
        def failingChmod(fd, mode):
            raise EIO

        self.patch(journalModule.os, "fchmod", failingChmod)
        error = self.assertRaises(OSError, Journal(self.path).load, Store(self.clock))
        self.assertEqual(error.errno, errno.EIO)

    def test_closeEndsRewrite(self):
        """After closing during a rewrite, none is in progress."""
        store, journal = self.open()
        store.set(b"a", b"1")
        journal.commit()
        journal.compact()
        journal.close()
        self.assertEqual(journal.info()["aof_rewrite_in_progress"], 0)

    def rewrite(self, journal):
        done = journal.compact()
        while not done.called:
            self.clock.advance(0)
        journal.close()
        return self.restore()

    def test_rewriteKeepsExpiry(self):
        """A rewritten journal keeps each key's expiry."""
        store, journal = self.open()
        store.set(b"a", b"1", 9000000)
        store.set(b"b", b"2")
        journal.commit()
        restored = self.rewrite(journal)
        self.assertEqual(sorted(restored.items()), [(b"a", b"1", 9000000), (b"b", b"2", None)])

    def test_rewriteSkipsKeysGone(self):
        """A key deleted while a rewrite runs is left out, and the keys after it kept."""
        store, journal = self.open()
        for key in (b"a", b"b", b"c"):
            store.set(key, b"v")
        journal.commit()
        done = journal.compact()
        store.delete(b"a")
        journal.commit()
        while not done.called:
            self.clock.advance(0)
        journal.close()
        self.assertEqual(sorted(self.restore().keys()), [b"b", b"c"])
