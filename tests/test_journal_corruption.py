"""
Tests for a corrupt journal: anything but a torn tail stops the load with
the offset of the bad record and leaves the file untouched; checksums catch
a changed byte; journals from before checksums still load.
"""

import io
import os

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver.journal import CorruptJournal, Journal
from services.sessionserver.journalfile import (
    HEADER, JournalReader, encodeCommand, encodeRecord)
from services.sessionserver.service import SessionServerService
from services.sessionserver.store import Store
from tests.support import tempDir


def readFile(path):
    with open(path, "rb") as f:
        return f.read()


class CorruptionTestCase(SynchronousTestCase):
    """
    A journal file written by hand, and a clock.
    """

    def setUp(self):
        self.path = os.path.join(tempDir(self), "journal.aof")
        self.clock = Clock()
        self.clock.advance(1000)

    def write(self, data):
        with open(self.path, "wb") as f:
            f.write(data)

    def records(self, count, encode=encodeRecord):
        return b"".join(encode(b"SET", b"k%d" % i, b"value %d" % i) for i in range(count))

    def load(self):
        store = Store(self.clock)
        journal = Journal(self.path, "no", self.clock)
        count = journal.load(store)
        self.addCleanup(journal.close)
        return store, count

    def assertCorruptAt(self, offset, reasonPart=""):
        """
        Loading fails at C{offset}, leaving the file as it was and the store
        empty; return the error.
        """
        before = readFile(self.path)
        store = Store(self.clock)
        error = self.assertRaises(CorruptJournal, Journal(self.path, "no", self.clock).load,
                                  store)
        self.assertEqual(error.offset, offset)
        self.assertIn(reasonPart, error.reason)
        self.assertEqual(readFile(self.path), before)
        self.assertIsNone(store.observer)
        return error


class MiddleTests(CorruptionTestCase):
    """
    A bad record followed by more data is corruption, not a tail to cut.
    """

    def test_flippedFirstByte(self):
        """One flipped byte at the start of the first record refuses the load."""
        data = bytearray(HEADER + self.records(10))
        data[len(HEADER)] ^= 0x01
        self.write(bytes(data))
        self.assertCorruptAt(len(HEADER), "'*'")

    def test_flippedByteOfOldJournal(self):
        """In a journal without a header, a flipped first byte refuses the load too."""
        data = bytearray(self.records(10, encodeCommand))
        data[0] ^= 0x01
        self.write(bytes(data))
        self.assertCorruptAt(0)

    def test_badHeaderInTheMiddle(self):
        """A bad record header halfway through 1,000 records refuses the load."""
        records = [encodeRecord(b"SET", b"k%d" % i, b"v") for i in range(1000)]
        offset = len(HEADER) + len(b"".join(records[:500]))
        records[500] = b"*9" + records[500][2:]
        self.write(HEADER + b"".join(records))
        self.assertCorruptAt(offset)

    def test_changedValueByte(self):
        """A changed byte inside a value is caught by the record's checksum."""
        good = HEADER + self.records(3)
        data = good.replace(b"value 1", b"valuE 1")
        self.write(data)
        self.assertCorruptAt(len(HEADER) + len(self.records(1)), "checksum")

    def test_changedLastRecord(self):
        """A complete last record with a bad checksum is corruption, not a torn tail."""
        self.write(HEADER + self.records(3).replace(b"value 2", b"valuE 2"))
        self.assertCorruptAt(len(HEADER) + len(self.records(2)), "checksum")

    def test_missingChecksum(self):
        """A record without its checksum followed by more records is corruption."""
        self.write(HEADER + encodeCommand(b"SET", b"a", b"1") + self.records(2))
        self.assertCorruptAt(len(HEADER), "checksum")

    def test_inlineCommand(self):
        """An inline command is not a journal record."""
        self.write(HEADER + self.records(1) + b"SET a b\r\n" + self.records(1))
        self.assertCorruptAt(len(HEADER) + len(self.records(1)), "'*'")

    def test_unknownRecord(self):
        """A RESP command the journal never writes is corruption."""
        self.write(HEADER + encodeRecord(b"LPUSH", b"a", b"b", b"c"))
        self.assertCorruptAt(len(HEADER), "LPUSH")

    def test_badNumber(self):
        """A record with a non-numeric time is corruption."""
        self.write(HEADER + encodeRecord(b"PEXPIREAT", b"a", b"soon"))
        self.assertCorruptAt(len(HEADER), "not a number")

    def test_badHeaderLine(self):
        """A first line that starts like an annotation but is not the header is corruption."""
        self.write(b"#something else\r\n" + self.records(2))
        self.assertCorruptAt(0, "header")


class ArityTests(CorruptionTestCase):
    """
    Records with the right command and the wrong number of arguments are
    corruption: neither a crash nor replayed.
    """

    def assertArityCorrupt(self, *args):
        self.write(HEADER + self.records(1) + encodeRecord(*args) + self.records(2))
        self.assertCorruptAt(len(HEADER) + len(self.records(1)), "arguments")

    def test_pexpireatWithoutTime(self):
        """PEXPIREAT k is corruption."""
        self.assertArityCorrupt(b"PEXPIREAT", b"k")

    def test_persistWithExtra(self):
        """PERSIST k x is corruption."""
        self.assertArityCorrupt(b"PERSIST", b"k", b"x")

    def test_flushallWithArgument(self):
        """FLUSHALL x is corruption."""
        self.assertArityCorrupt(b"FLUSHALL", b"x")

    def test_setWithFourArguments(self):
        """SET k v PXAT (without the time) is corruption."""
        self.assertArityCorrupt(b"SET", b"k", b"v", b"PXAT")

    def test_emptyRecord(self):
        """A record of no arguments is corruption."""
        self.write(HEADER + b"*0\r\n" + self.records(2))
        self.assertCorruptAt(len(HEADER), "argument count")


class OldFormatTests(CorruptionTestCase):
    """
    Journals written before checksums existed still load, and are rewritten
    with checksums.
    """

    def test_oldJournalLoads(self):
        """A journal of plain RESP records loads every record."""
        self.write(self.records(5, encodeCommand)
                   + encodeCommand(b"PEXPIREAT", b"k1", b"9000000")
                   + encodeCommand(b"DEL", b"k2"))
        store, count = self.load()
        self.assertEqual(count, 7)
        self.assertEqual(sorted(store.keys()), [b"k0", b"k1", b"k3", b"k4"])
        self.assertEqual(store.expireAt(b"k1"), 9000000)

    def test_oldJournalRewrittenWithChecksums(self):
        """After loading an old journal, it is rewritten with a header and checksums."""
        self.write(self.records(5, encodeCommand))
        store = Store(self.clock)
        journal = Journal(self.path, "no", self.clock)
        journal.load(store)
        store.set(b"during", b"rewrite")
        journal.commit()
        while journal.info()["aof_rewrite_in_progress"]:
            self.clock.advance(0)
        store.set(b"after", b"rewrite")
        journal.close()
        self.assertTrue(readFile(self.path).startswith(HEADER))
        restored, count = self.load()
        self.assertEqual(sorted(restored.keys()),
                         [b"after", b"during", b"k0", b"k1", b"k2", b"k3", b"k4"])


class StartTests(CorruptionTestCase):
    """
    The session server refuses to start on a corrupt journal.
    """

    def test_startRefused(self):
        """startService fails with one sentence naming the file, the offset and the fix."""
        self.write(HEADER + b"*2\r\n!!" + self.records(3))
        service = SessionServerService(ports=(), journalPath=self.path, clock=self.clock)
        error = self.assertRaises(RuntimeError, service.startService)
        message = str(error)
        self.assertIn(self.path, message)
        self.assertIn(f"at byte {len(HEADER)}", message)
        self.assertIn(f"appserver-check-journal --fix {self.path}", message)
        self.assertEqual(message.count(". "), 0)
        self.assertEqual(readFile(self.path), HEADER + b"*2\r\n!!" + self.records(3))


class FlippedByteTests(CorruptionTestCase):
    """
    A changed byte anywhere in a journal is never loaded as data.
    """

    def test_everyByte(self):
        """Each byte changed in turn: corruption, or a torn tail cut at a good record."""
        records = [encodeRecord(b"SET", b"k%d" % i, b"value %d" % i, b"PXAT", b"9000000")
                   for i in range(3)] + [encodeRecord(b"DEL", b"k0"), encodeRecord(b"FLUSHALL")]
        data = HEADER + b"".join(records)
        ends = [len(HEADER) + len(b"".join(records[:i])) for i in range(len(records) + 1)]
        for position in range(len(data)):
            for mask in (0x01, 0x10, 0x80):
                changed = bytearray(data)
                changed[position] ^= mask
                reader = JournalReader(io.BytesIO(bytes(changed)))
                try:
                    read = [tuple(args) for args, end in reader]
                except CorruptJournal as e:
                    self.assertLessEqual(e.offset, position)
                    continue
                self.assertTrue(reader.torn, (position, mask))
                self.assertIn(reader.end, ends)
                self.assertLessEqual(reader.end, position)
                self.assertEqual(b"".join(encodeRecord(*args) for args in read),
                                 data[len(HEADER):reader.end])
