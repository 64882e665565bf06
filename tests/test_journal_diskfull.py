"""
Integration test: a real C{twistd session-server} journaling to a real full
disk (a 1 MiB tmpfs, which needs root to mount; CI runs as root), used by
redis-py: a write the disk cannot take is refused with MISCONF and INFO says
so, writes succeed again once space is freed, and after C{kill -9} every
acknowledged write is back.
"""

import errno
import os
import signal
import subprocess

import redis
from twisted.trial.unittest import SkipTest, TestCase

from tests.support import freePort, startTwistd, tempDir

TIMEOUT = 60
ACKNOWLEDGED_AFTER = 1000
"""How many writes to make once space is back."""


def mountTmpfs(testCase, size="1m"):
    """
    Mount a tmpfs of C{size} on a fresh directory, unmounted when the test
    ends whatever happens; skip the test where mounting is not permitted.
    """
    directory = tempDir(testCase)
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700",
                                 "tmpfs", directory], capture_output=True, timeout=TIMEOUT)
    except FileNotFoundError:
        raise SkipTest("the mount command is not installed") from None
    if result.returncode != 0:
        raise SkipTest("mounting a tmpfs is not permitted here (it needs root): "
                       + result.stderr.decode(errors="replace").strip())
    testCase.addCleanup(subprocess.run, ["umount", "-l", directory],
                        capture_output=True, timeout=TIMEOUT)
    return directory


def fill(path):
    """
    Write to C{path} until its filesystem is full.
    """
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
    # Fill the partial chunk's pages too.
    with open(path + ".2", "wb", buffering=0) as f:
        for size in (4096, 512, 64, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise


class DiskFullTests(TestCase):
    """
    The session server on a disk that fills up and empties again.
    """

    def setUp(self):
        self.disk = mountTmpfs(self)
        self.cwd = tempDir(self)
        self.journal = os.path.join(self.disk, "j.aof")

    def startServer(self):
        self.port = freePort()
        return startTwistd(
            self, ["session-server", "--port", f"tcp:{self.port}:interface=127.0.0.1",
                   "--journal", self.journal, "--fsync", "always"], self.cwd, self.port)

    def client(self):
        connection = redis.Redis(port=self.port, socket_timeout=TIMEOUT)
        self.addCleanup(connection.close)
        return connection

    def test_fullDiskThenKill9(self):
        """Refused while full, acknowledged once freed, every acknowledged write kept."""
        process = self.startServer()
        r = self.client()
        self.assertTrue(r.set("before", "written"))
        filler = os.path.join(self.disk, "filler")
        fill(filler)
        with self.assertRaises(redis.ResponseError) as refused:
            r.set("refused", "x" * 16384)
        self.assertEqual(str(refused.exception),
                         "MISCONF Errors writing to the AOF file: No space left on device")
        self.assertEqual(r.info("persistence")["aof_last_write_status"], "err")
        self.assertIsNone(r.get("refused"))
        self.assertEqual(self.client().get("before"), b"written")
        os.unlink(filler)
        os.unlink(filler + ".2")
        acknowledged = [i for i in range(ACKNOWLEDGED_AFTER) if r.set(f"k{i}", f"v{i}")]
        self.assertEqual(len(acknowledged), ACKNOWLEDGED_AFTER)
        self.assertEqual(r.info("persistence")["aof_last_write_status"], "ok")
        process.send_signal(signal.SIGKILL)
        process.wait(TIMEOUT)
        self.startServer()
        r = self.client()
        self.assertEqual(r.dbsize(), ACKNOWLEDGED_AFTER + 1)
        self.assertEqual(r.get("before"), b"written")
        self.assertEqual([r.get(f"k{i}") for i in acknowledged],
                         [b"v%d" % i for i in acknowledged])
        self.assertIsNone(r.get("refused"))
