"""
Tests for C{appserver-check-journal}, run as a real command: it reports a
good journal, a torn tail and corruption, and with C{--fix} keeps a backup
before cutting; a real C{twistd session-server} refuses a corrupt journal
and starts once it is fixed.
"""

import os
import re
import sys

import redis
from twisted.internet.task import Clock
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from services.sessionserver.journal import Journal
from services.sessionserver.journalfile import HEADER, encodeRecord
from services.sessionserver.store import Store
from tests.support import BIN, SOURCE, TWISTD, freePort, run, startTwistd, tempDir

SCRIPT = os.path.join(BIN, "appserver-check-journal")


def readFile(path):
    with open(path, "rb") as f:
        return f.read()


class CheckTestCase(SynchronousTestCase):
    """
    A journal of ten records in a fresh directory.
    """

    def setUp(self):
        self.directory = tempDir(self)
        self.path = os.path.join(self.directory, "j.aof")
        self.records = [encodeRecord(b"SET", b"k%d" % i, b"v%d" % i) for i in range(10)]
        self.good = HEADER + b"".join(self.records)
        self.write(self.good)

    def write(self, data):
        with open(self.path, "wb") as f:
            f.write(data)

    def check(self, *args, command=None):
        """
        Run the checker (from this source tree) on the journal.
        """
        command = command or [sys.executable, "-m", "services.sessionserver.checkjournal"]
        return run(command + list(args) + [self.path], self.directory)

    def corruptFifth(self):
        offset = len(HEADER) + len(b"".join(self.records[:4]))
        self.write(self.good.replace(b"v4", b"V4"))
        return offset


class ReportTests(CheckTestCase):
    """
    Without --fix, the checker only reads.
    """

    def test_good(self):
        """A good journal: exit 0, its record count, nothing changed."""
        code, output = self.check()
        self.assertEqual(code, 0, output)
        self.assertIn("10 good records", output)
        self.assertIn("nothing to fix", output)

    def test_corrupt(self):
        """Corruption: exit 1, the byte and the reason, the file untouched."""
        offset = self.corruptFifth()
        before = readFile(self.path)
        code, output = self.check()
        self.assertEqual(code, 1, output)
        self.assertIn(f"4 good records up to byte {offset}", output)
        self.assertIn(f"corruption at byte {offset} (a record's checksum does not match)",
                      output)
        self.assertIn("--fix", output)
        self.assertEqual(readFile(self.path), before)
        self.assertEqual(os.listdir(self.directory), ["j.aof"])

    def test_torn(self):
        """A torn tail is reported as such."""
        self.write(self.good + self.records[0][:7])
        code, output = self.check()
        self.assertEqual(code, 1, output)
        self.assertIn(f"a torn record at byte {len(self.good)}", output)

    def test_missingFile(self):
        """A journal that cannot be read: exit 2 and one sentence."""
        os.unlink(self.path)
        code, output = self.check()
        self.assertEqual(code, 2)
        self.assertEqual(output.strip(),
                         f"appserver-check-journal: cannot read {self.path}: "
                         f"No such file or directory.")

    def test_usage(self):
        """No file named: exit 2 with the usage."""
        code, output = run([sys.executable, "-m", "services.sessionserver.checkjournal"],
                           self.directory)
        self.assertEqual(code, 2)
        self.assertIn("Usage: appserver-check-journal [--fix] JOURNAL", output)


class FixTests(CheckTestCase):
    """
    --fix keeps a backup, then cuts at the first bad record.
    """

    def test_fixCorruption(self):
        """The file is cut before the bad record, the original kept as .bak."""
        offset = self.corruptFifth()
        before = readFile(self.path)
        code, output = self.check("--fix")
        self.assertEqual(code, 0, output)
        self.assertEqual(readFile(self.path + ".bak"), before)
        self.assertEqual(readFile(self.path), before[:offset])
        self.assertIn(f"Copied {self.path} to {self.path}.bak", output)
        self.assertEqual(self.check()[0], 0)

    def test_fixedJournalLoads(self):
        """After --fix, the journal loads the records before the cut."""
        self.corruptFifth()
        self.check("--fix")
        clock = Clock()
        store = Store(clock)
        journal = Journal(self.path, "no", clock)
        self.assertEqual(journal.load(store), 4)
        journal.close()
        self.assertEqual(sorted(store.keys()), [b"k0", b"k1", b"k2", b"k3"])

    def test_backupNotOverwritten(self):
        """An existing backup is kept; the next one is .bak.1."""
        self.corruptFifth()
        with open(self.path + ".bak", "wb") as f:
            f.write(b"older backup")
        self.check("--fix")
        self.assertEqual(readFile(self.path + ".bak"), b"older backup")
        self.assertTrue(os.path.exists(self.path + ".bak.1"))

    def test_fixGoodChangesNothing(self):
        """--fix on a good journal writes nothing."""
        code, output = self.check("--fix")
        self.assertEqual(code, 0, output)
        self.assertEqual(readFile(self.path), self.good)
        self.assertEqual(os.listdir(self.directory), ["j.aof"])


class ConsoleScriptTests(CheckTestCase):
    """
    The installed console script.
    """

    def test_declared(self):
        """setup.py declares appserver-check-journal for the checker's main."""
        with open(os.path.join(SOURCE, "setup.py")) as f:
            self.assertRegex(f.read(), re.escape(
                '"appserver-check-journal = services.sessionserver.checkjournal:main"'))

    def test_installedScript(self):
        """The installed appserver-check-journal finds and fixes corruption."""
        if not os.path.exists(SCRIPT):
            raise SkipTest(f"{SCRIPT} is not installed (make install-test installs it)")
        offset = self.corruptFifth()
        code, output = self.check(command=[SCRIPT])
        self.assertEqual(code, 1, output)
        code, output = self.check("--fix", command=[SCRIPT])
        self.assertEqual(code, 0, output)
        self.assertEqual(os.path.getsize(self.path), offset)


class ServerTests(CheckTestCase):
    """
    What an operator sees: twistd refuses the corrupt journal, the checker
    fixes it, twistd starts with the records before the cut.
    """

    def serverArgs(self, port):
        return ["session-server", "--port", f"tcp:{port}:interface=127.0.0.1",
                "--journal", self.path]

    def test_refusedThenFixed(self):
        """twistd exits non-zero naming the file, the byte and the fix; after --fix it starts."""
        offset = self.corruptFifth()
        before = readFile(self.path)
        code, output = run([TWISTD, "-n", "--pidfile="] + self.serverArgs(freePort()),
                           self.directory)
        self.assertNotEqual(code, 0, output)
        self.assertIn(f"The journal {self.path} is corrupt at byte {offset} (a record's "
                      f"checksum does not match)", output)
        self.assertIn(f"appserver-check-journal --fix {self.path}", output)
        self.assertEqual(readFile(self.path), before)
        self.check("--fix")
        port = freePort()
        startTwistd(self, self.serverArgs(port), self.directory, port)
        client = redis.Redis(port=port, socket_timeout=30)
        self.addCleanup(client.close)
        self.assertEqual(sorted(client.keys()), [b"k0", b"k1", b"k2", b"k3"])
