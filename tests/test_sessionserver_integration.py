"""
Integration tests: a real C{twistd session-server} used by real clients
(redis-cli, redis-benchmark, redis-py, a raw socket for Albatross), AUTH,
C{kill -9} with C{--fsync always}, and C{twistd -f x.tap} persistence.
"""

import os
import pickle
import shutil
import signal
import socket

import redis
from twisted.trial.unittest import SkipTest, TestCase

from appserver.tap import sessionserver
from tests.support import (MKTAP, application, freePort, run, startTwistd, tempDir,
                           waitForPort)

TIMEOUT = 60


def requireTool(name):
    """
    The path of a command-line tool, or skip the test.
    """
    path = shutil.which(name)
    if path is None:
        raise SkipTest(f"{name} is not installed")
    return path


class SessionServerTestCase(TestCase):
    """
    Starts C{twistd session-server} on a free loopback port.
    """

    def startServer(self, *extra, cwd=None):
        self.cwd = cwd or getattr(self, "cwd", None) or tempDir(self)
        self.port = freePort()
        args = ["session-server", "--port", f"tcp:{self.port}:interface=127.0.0.1"]
        return startTwistd(self, args + list(extra), self.cwd, self.port)

    def client(self, **kwargs):
        kwargs.setdefault("socket_timeout", TIMEOUT)
        connection = redis.Redis(port=self.port, **kwargs)
        self.addCleanup(connection.close)
        return connection


class RealClientTests(SessionServerTestCase):
    """
    redis-cli, redis-benchmark and redis-py with its defaults.
    """

    def setUp(self):
        self.startServer()

    def cli(self, *args):
        code, out = run([requireTool("redis-cli"), "-p", str(self.port)] + list(args),
                        self.cwd, timeout=TIMEOUT)
        self.assertEqual(code, 0, out)
        return out.strip()

    def test_redisCli(self):
        """redis-cli sets, reads, expires and gets errors like from Redis."""
        self.assertEqual(self.cli("PING"), "PONG")
        self.assertEqual(self.cli("SET", "greeting", "hello world", "EX", "100"), "OK")
        self.assertEqual(self.cli("GET", "greeting"), "hello world")
        self.assertEqual(self.cli("TTL", "greeting"), "100")
        self.assertEqual(self.cli("INCR", "greeting"),
                         "ERR value is not an integer or out of range")
        self.assertIn("redis_version:", self.cli("INFO"))
        self.assertEqual(self.cli("DBSIZE"), "1")

    def test_redisBenchmark(self):
        """redis-benchmark runs the standard set and exits 0."""
        code, out = run([requireTool("redis-benchmark"), "-p", str(self.port), "-t",
                         "ping,set,get,incr,mset", "-n", "2000", "-q"], self.cwd,
                        timeout=120)
        self.assertEqual(code, 0, out)
        self.assertIn("MSET", out)

    def test_redisPy(self):
        """redis-py with its defaults (RESP3 handshake) works."""
        r = self.client()
        self.assertTrue(r.ping())
        self.assertTrue(r.set("k", "v", ex=60))
        self.assertEqual(r.get("k"), b"v")
        self.assertTrue(0 < r.ttl("k") <= 60)
        self.assertIsNone(r.get("missing"))
        self.assertEqual(r.incr("n"), 1)
        self.assertEqual(r.mget("k", "missing", "n"), [b"v", None, b"1"])
        pipe = r.pipeline()
        pipe.set("a", 1).incr("a").get("a")
        self.assertEqual(pipe.execute(), [True, 2, b"2"])
        self.assertEqual(sorted(r.scan_iter(match="[an]*")), [b"a", b"n"])
        self.assertEqual(r.delete("a", "n", "zzz"), 2)
        with self.assertRaises(redis.ResponseError):
            r.execute_command("NOSUCHCOMMAND")

    def test_resp2(self):
        """redis-py forced to RESP2 works too."""
        r = self.client(protocol=2)
        r.set("k", "v")
        self.assertEqual(r.get("k"), b"v")


class AuthTests(SessionServerTestCase):
    """
    --requirepass with real clients.
    """

    def test_auth(self):
        """Without the password commands fail; with it they work."""
        self.startServer("--requirepass", "s3cret")
        with self.assertRaises(redis.AuthenticationError):
            self.client(protocol=2).get("k")
        with self.assertRaises(redis.AuthenticationError):
            self.client(password="wrong").get("k")
        self.assertTrue(self.client(password="s3cret").set("k", "v"))
        self.assertEqual(self.client(password="s3cret", protocol=2).get("k"), b"v")


class DurabilityTests(SessionServerTestCase):
    """
    The journal under kill -9, and persisted applications.
    """

    def test_kill9LosesNothing(self):
        """Every acknowledged write is back after kill -9 with --fsync always."""
        self.cwd = tempDir(self)
        journal = os.path.join(self.cwd, "sessions.aof")
        process = self.startServer("--journal", journal, "--fsync", "always")
        r = self.client()
        for i in range(300):
            r.set(f"session:{i}", f"data {i}", ex=3600)
        r.incr("counter")
        r.delete("session:0")
        process.send_signal(signal.SIGKILL)
        process.wait(TIMEOUT)
        self.startServer("--journal", journal)
        r = self.client()
        self.assertEqual(r.dbsize(), 300)
        self.assertEqual(r.get("session:299"), b"data 299")
        self.assertIsNone(r.get("session:0"))
        self.assertEqual(r.get("counter"), b"1")
        self.assertGreater(r.ttl("session:1"), 3000)

    def test_persistedApplication(self):
        """twistd -f x.tap, SIGTERM, then x-shutdown.tap brings the keys back."""
        self.cwd = tempDir(self)
        self.port = freePort()
        options = sessionserver.Options()
        options.environ = {}
        options.parseOptions(["--port", f"tcp:{self.port}:interface=127.0.0.1"])
        with open(os.path.join(self.cwd, "x.tap"), "wb") as f:
            pickle.dump(application(sessionserver.makeService(options), name="x"), f)
        self.checkPersisted("-f", "x.tap", "x-shutdown.tap")

    def test_persistedSource(self):
        """mktap --type source, twistd -s, SIGTERM, then the -shutdown.tas
        twistd writes (AOT source of a running server) brings the keys back."""
        self.cwd = tempDir(self)
        self.port = freePort()
        code, output = run([MKTAP, "--type", "source", "session-server",
                            "--port", f"tcp:{self.port}:interface=127.0.0.1"], self.cwd)
        self.assertEqual(code, 0, output)
        self.checkPersisted("-s", "session-server.tas", "session-server-shutdown.tas")

    def checkPersisted(self, flag, saved, shutdown):
        """
        Run twistd FLAG SAVED, set keys, stop it, then check that twistd
        FLAG SHUTDOWN (the file it saved) serves them.
        """
        process = startTwistd(self, [flag, saved], self.cwd, self.port)
        r = self.client()
        r.set("session:abc", "kept", ex=3600)
        r.set("plain", "also kept")
        r.close()
        process.send_signal(signal.SIGTERM)
        self.assertIn(process.wait(TIMEOUT), (0, -signal.SIGTERM))
        self.assertTrue(os.path.exists(os.path.join(self.cwd, shutdown)))
        startTwistd(self, [flag, shutdown], self.cwd, self.port)
        r = self.client()
        self.assertEqual(r.get("session:abc"), b"kept")
        self.assertEqual(r.get("plain"), b"also kept")
        self.assertGreater(r.ttl("session:abc"), 3000)


class AlbatrossTests(SessionServerTestCase):
    """
    The Albatross protocol over a raw socket, sharing the RESP store.
    """

    def test_rawSocket(self):
        """new, put, get, del over TCP; the session is visible over RESP too."""
        albatrossPort = freePort()
        self.startServer("--albatross-port", str(albatrossPort))
        waitForPort(albatrossPort)
        with socket.create_connection(("127.0.0.1", albatrossPort), timeout=TIMEOUT) as s:
            reader = s.makefile("rb")
            s.sendall(b"new myapp 600\r\n")
            line = reader.readline()
            self.assertTrue(line.startswith(b"OK "), line)
            sessionId = line[3:].strip()
            s.sendall(b"put myapp " + sessionId + b"\r\n")
            self.assertEqual(reader.readline(),
                             b"OK - send data now, terminate with blank line\r\n")
            s.sendall(b"first line\r\nsecond\r\n\r\n")
            self.assertEqual(reader.readline(), b"OK\r\n")
            s.sendall(b"get myapp " + sessionId + b"\r\n")
            lines = [reader.readline() for i in range(4)]
            self.assertEqual(lines, [b"OK - session follows\r\n", b"first line\r\n",
                                     b"second\r\n", b"\r\n"])
            key = b"albatross:myapp:" + sessionId
            self.assertTrue(0 < self.client().ttl(key) <= 600)
            s.sendall(b"del myapp " + sessionId + b"\r\nget myapp " + sessionId + b"\r\n")
            self.assertEqual(reader.readline(), b"OK\r\n")
            self.assertEqual(reader.readline(), b"ERROR no such session\r\n")
            s.sendall(b"quit\r\n")
            self.assertEqual(reader.read(), b"")
