"""
Integration tests: redis-py's optimistic locking (WATCH, then a pipeline with
C{transaction=True}) and C{TIME} against a real C{twistd session-server}.
"""

import time

import redis

from tests.test_sessionserver_integration import SessionServerTestCase


class OptimisticLockingTests(SessionServerTestCase):
    """
    redis-py's C{transaction()} helper retries when another client changed a
    watched key, as against Redis.
    """

    def setUp(self):
        self.startServer()

    def test_transactionRetries(self):
        """A change by another client between WATCH and EXEC makes redis-py retry."""
        self.retryAfterChange(self.client(), self.client())

    def test_transactionRetriesResp3(self):
        """The same with redis-py speaking RESP3 (nil from EXEC is RESP3's null)."""
        self.retryAfterChange(self.client(protocol=3), self.client(protocol=3))

    def retryAfterChange(self, mine, other):
        """
        Increment a counter with C{mine}'s transaction helper while C{other}
        changes it during the first attempt.
        """
        mine.set("counter", 10)
        attempts = []

        def increment(pipe):
            value = int(pipe.get("counter"))
            attempts.append(value)
            if len(attempts) == 1:
                other.incrby("counter", 5)
            pipe.multi()
            pipe.set("counter", value + 1)

        self.assertEqual(mine.transaction(increment, "counter"), [True])
        self.assertEqual(attempts, [10, 15])
        self.assertEqual(mine.get("counter"), b"16")

    def test_watchErrorAndUnchanged(self):
        """A pipeline's EXEC raises WatchError after a change, and succeeds without one."""
        mine, other = self.client(), self.client()
        with mine.pipeline(transaction=True) as pipe:
            pipe.watch("k")
            other.set("k", "theirs")
            pipe.multi()
            pipe.set("k", "mine")
            self.assertRaises(redis.WatchError, pipe.execute)
        self.assertEqual(mine.get("k"), b"theirs")
        with mine.pipeline(transaction=True) as pipe:
            pipe.watch("k")
            pipe.multi()
            pipe.set("k", "mine")
            self.assertEqual(pipe.execute(), [True])
        self.assertEqual(mine.get("k"), b"mine")

    def test_time(self):
        """redis-py's time() reads the server's clock as (seconds, microseconds)."""
        before = time.time()
        seconds, micros = self.client().time()
        after = time.time()
        self.assertTrue(0 <= micros < 1_000_000)
        self.assertTrue(int(before) <= seconds + micros / 1e6 <= after + 1, (before, seconds))
