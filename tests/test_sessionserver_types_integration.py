"""
Integration tests: hashes and sets on a real C{twistd session-server} with a
journal, used by redis-py, surviving C{kill -9} and a restart.
"""

import os
import signal

import redis

from tests.support import tempDir
from tests.test_sessionserver_integration import TIMEOUT, SessionServerTestCase


class HashesAndSetsTests(SessionServerTestCase):
    """
    redis-py's hash and set methods against the journaled server.
    """

    def test_kill9AndRestart(self):
        """Hashes and sets written through redis-py are back after kill -9 and a restart."""
        self.cwd = tempDir(self)
        journal = os.path.join(self.cwd, "sessions.aof")
        process = self.startServer("--journal", journal, "--fsync", "always")
        r = self.client()
        for i in range(50):
            r.hset(f"session:{i}", mapping={"user": f"u{i}", "hits": 0})
            r.hincrby(f"session:{i}", "hits", i)
            r.expire(f"session:{i}", 3600)
            r.sadd("user:u1:sessions", f"session:{i}")
        r.srem("user:u1:sessions", "session:0", "session:1")
        r.hdel("session:49", "user", "hits")
        with r.pipeline(transaction=True) as pipe:
            pipe.hset("profile", "name", "Ada").sadd("roles", "admin", "dev").execute()
        process.send_signal(signal.SIGKILL)
        process.wait(TIMEOUT)
        self.startServer("--journal", journal)
        r = self.client()
        self.assertEqual(r.hgetall("session:7"), {b"user": b"u7", b"hits": b"7"})
        self.assertEqual(r.exists("session:49"), 0)
        self.assertGreater(r.ttl("session:3"), 3000)
        self.assertEqual(r.scard("user:u1:sessions"), 48)
        self.assertFalse(r.sismember("user:u1:sessions", "session:0"))
        self.assertEqual(r.smembers("roles"), {b"admin", b"dev"})
        self.assertEqual(r.type("profile"), b"hash")
        self.assertEqual(r.type("roles"), b"set")
        self.assertEqual(sorted(r.scan_iter(_type="set")), [b"roles", b"user:u1:sessions"])

    def test_wrongTypeAndResp3(self):
        """redis-py raises its ResponseError for WRONGTYPE; RESP3 gets HGETALL as a map."""
        self.startServer()
        r = self.client()
        r.set("s", "v")
        with self.assertRaises(redis.ResponseError) as raised:
            r.hset("s", "f", "v")
        self.assertTrue(str(raised.exception).startswith("WRONGTYPE"))
        r.hset("h", mapping={"a": "1", "b": "2"})
        r3 = self.client(protocol=3)
        self.assertEqual(r3.hgetall("h"), {b"a": b"1", b"b": b"2"})
        self.assertEqual(dict(r3.hscan_iter("h")), {b"a": b"1", b"b": b"2"})
        self.assertEqual(set(r3.sscan_iter("missing")), set())
