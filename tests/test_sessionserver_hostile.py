"""
Integration tests: a real C{twistd session-server} under hostile input —
a KEYS pattern that would make a backtracking matcher spin for hours,
unauthenticated Albatross clients under C{--maxmemory}, absurd Albatross
ages, and AUTH guessing.
"""

import os
import socket

import redis

from services.sessionserver.albatross import MAX_AGE
from services.sessionserver.commands import AUTH_FAILURE_LIMIT
from tests.support import freePort, tempDir, waitForPort
from tests.test_sessionserver_integration import TIMEOUT, SessionServerTestCase

REPLY_SECONDS = 10
"""How long a reply that should come at once may take (a loaded CI machine)."""


def albatross(port):
    """
    A connected socket to an Albatross port, and a reader of its lines.
    """
    connection = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return connection, connection.makefile("rb")


class KeysPatternTests(SessionServerTestCase):
    """
    KEYS with many stars.
    """

    def test_manyStarsAnswerAtOnce(self):
        """KEYS a*a*...*b over a 40-byte key answers, and other clients are served meanwhile."""
        self.startServer()
        other = self.client(socket_timeout=REPLY_SECONDS)
        other.set("a" * 40, "v")
        with socket.create_connection(("127.0.0.1", self.port), timeout=REPLY_SECONDS) as s:
            pattern = b"a*" * 20 + b"b"
            s.sendall(b"*2\r\n$4\r\nKEYS\r\n$%d\r\n%s\r\n" % (len(pattern), pattern))
            self.assertTrue(other.ping())
            self.assertEqual(s.recv(100), b"*0\r\n")
        self.assertEqual(other.keys("a*" * 20), [b"a" * 40])


class AlbatrossHostileTests(SessionServerTestCase):
    """
    What the unauthenticated Albatross port may not do to RESP clients' data.
    """

    def setUp(self):
        self.albatrossPort = freePort()
        self.cwd = tempDir(self)
        self.journal = os.path.join(self.cwd, "sessions.aof")
        self.startServer("--requirepass", "s3cret", "--maxmemory", "2mb",
                         "--albatross-port", str(self.albatrossPort),
                         "--journal", self.journal)
        # startServer waits for the RESP port; the Albatross port binds beside it.
        waitForPort(self.albatrossPort)
        self.resp = self.client(password="s3cret")

    def test_newDoesNotEvictSessions(self):
        """30,000 unauthenticated new lines leave all 3,000 RESP sessions; new answers ERROR."""
        pipe = self.resp.pipeline(transaction=False)
        for i in range(3000):
            pipe.set(f"session:{i}", "x" * 100, ex=3600)
        pipe.execute()
        connection, reader = albatross(self.albatrossPort)
        with connection:
            connection.sendall(b"new app 600\r\n" * 30_000)
            replies = [reader.readline() for i in range(30_000)]
        self.assertTrue(replies[0].startswith(b"OK "), replies[0])
        self.assertEqual(replies[-1], b"ERROR out of memory\r\n")
        self.assertEqual(len(list(self.resp.scan_iter("session:*", count=1000))), 3000)
        self.assertEqual(self.resp.info("stats")["evicted_keys"], 0)

    def test_hugeAge(self):
        """Ages of 29 and 4,299 digits are refused, the connection stays, nothing is stored."""
        connection, reader = albatross(self.albatrossPort)
        with connection:
            for digits in (29, 4299):
                connection.sendall(b"new app " + b"9" * digits + b"\r\n")
                self.assertEqual(reader.readline(), b"ERROR age must be a positive number "
                                 b"of seconds up to %d\r\n" % MAX_AGE)
            connection.sendall(b"new app 60\r\n")
            self.assertTrue(reader.readline().startswith(b"OK "))
        self.assertEqual(self.resp.dbsize(), 1)
        key = self.resp.keys("albatross:*")[0]
        self.assertTrue(0 < self.resp.pttl(key) <= 60_000)


class AuthGuessingTests(SessionServerTestCase):
    """
    AUTH guessing against --requirepass.
    """

    def test_guessesCloseAndAreLogged(self):
        """After AUTH_FAILURE_LIMIT wrong passwords the server closes, and it logs the guesser."""
        self.startServer("--requirepass", "s3cret")
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as s:
            local = "%s:%d" % s.getsockname()
            s.sendall(b"AUTH guess\r\n" * (AUTH_FAILURE_LIMIT + 5))
            received = b""
            while chunk := s.recv(65536):
                received += chunk
        self.assertEqual(received.count(b"-WRONGPASS"), AUTH_FAILURE_LIMIT)
        self.assertTrue(self.client(password="s3cret").ping())
        with open(os.path.join(self.cwd, "twistd.out"), encoding="utf-8") as log:
            self.assertIn(f"Failed AUTH from {local}", log.read())
