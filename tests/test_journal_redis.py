"""
Integration test: the journal stays a file Redis 7 loads as an append-only
file (it skips the header and checksum lines as annotations), so a
deployment that moves to a real Redis can take its sessions along.
"""

import os
import shutil
import subprocess

import redis
from twisted.trial.unittest import SkipTest, TestCase

from services.sessionserver.journalfile import HEADER, encodeRecord
from tests.support import freePort, stopProcess, tempDir, waitForPort


class RedisLoadsJournalTests(TestCase):
    """
    redis-server started on a journal copied as its appendonly.aof.
    """

    def test_redisLoads(self):
        """redis-server loads every key, value and expiry of a journal."""
        server = shutil.which("redis-server")
        if server is None:
            raise SkipTest("redis-server is not installed")
        directory = tempDir(self)
        with open(os.path.join(directory, "appendonly.aof"), "wb") as f:
            f.write(HEADER + b"".join(encodeRecord(b"SET", b"k%d" % i, b"v%d" % i)
                                      for i in range(10)))
            f.write(encodeRecord(b"SET", b"timed", b"t", b"PXAT", b"99999999999999"))
            f.write(encodeRecord(b"DEL", b"k0"))
        port = freePort()
        process = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
             "--appendonly", "yes", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.addCleanup(stopProcess, process)
        waitForPort(port, process=process)
        client = redis.Redis(port=port, socket_timeout=30)
        self.addCleanup(client.close)
        self.assertEqual(client.dbsize(), 10)
        self.assertEqual(client.get("k9"), b"v9")
        self.assertIsNone(client.get("k0"))
        self.assertEqual(client.pexpiretime("timed"), 99999999999999)
