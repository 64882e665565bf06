"""
Tests for L{services.sessionserver.journal} that pin behaviours mutation
testing found no test noticing (docs/mutation.md).
"""

import os

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver.journal import Journal
from services.sessionserver.store import Store
from tests.support import tempDir


class CompactionTriggerTests(SynchronousTestCase):
    """
    A rewrite starts when the file passes both its minimum size and its
    ratio to the size it had after the last load or rewrite.
    """

    def setUp(self):
        self.path = os.path.join(tempDir(self), "journal.aof")
        self.clock = Clock()

    def open(self, **kwargs):
        store = Store(self.clock)
        journal = Journal(self.path, "no", self.clock, **kwargs)
        journal.load(store)
        self.addCleanup(journal.close)
        return store, journal

    def grown(self, keys):
        """A journal reopened over C{keys} distinct keys: its base size is their records."""
        store = Store(self.clock)
        journal = Journal(self.path, "no", self.clock)
        journal.load(store)
        for i in range(keys):
            store.set(b"key%d" % i, b"x" * 20)
        journal.commit()
        journal.close()

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
        restored = Store(self.clock)
        reopened = Journal(self.path, "no", self.clock)
        reopened.load(restored)
        reopened.close()
        self.assertEqual(sorted(restored.keys()), [b"key0", b"key1", b"key2"])
