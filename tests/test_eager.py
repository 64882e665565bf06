"""
Tests for running coroutines eagerly: without a Deferred while nothing has
to be waited for, as Deferred.fromCoroutine would once something has.
"""

import contextvars

from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from appserver.web._eager import runEagerly

_VAR = contextvars.ContextVar("_VAR", default="outside")


class Failed(Exception):
    """
    What the coroutines and hooks of these tests raise.
    """


class RunEagerlyTests(SynchronousTestCase):
    """
    L{runEagerly} returns a finished coroutine's result at once, else a
    Deferred.
    """

    def test_finishesAtOnce(self):
        """A coroutine awaiting nothing gives its result, not a Deferred."""
        async def work():
            return {"n": 1}
        self.assertEqual(runEagerly(work()), {"n": 1})

    def test_firedDeferred(self):
        """Awaiting Deferreds that have fired does not make a Deferred."""
        async def work():
            first = await defer.succeed(1)
            return first + await defer.succeed(2)
        self.assertEqual(runEagerly(work()), 3)

    def test_firedFailure(self):
        """A fired Deferred's failure is raised inside the coroutine."""
        async def work():
            try:
                await defer.fail(Failed("no"))
            except Failed as e:
                return str(e)
        self.assertEqual(runEagerly(work()), "no")

    def test_raisesAtOnce(self):
        """What the coroutine raises before waiting is raised by runEagerly."""
        async def work():
            raise Failed("early")
        self.assertRaises(Failed, runEagerly, work())

    def test_waits(self):
        """A coroutine waiting on a pending Deferred is continued by a Deferred."""
        first, second = defer.Deferred(), defer.Deferred()

        async def work():
            return [await first, await second]
        running = runEagerly(work())
        self.assertIsInstance(running, defer.Deferred)
        self.assertNoResult(running)
        first.callback("a")
        self.assertNoResult(running)
        second.callback("b")
        self.assertEqual(self.successResultOf(running), ["a", "b"])

    def test_waitedFailure(self):
        """A pending Deferred's failure is raised inside the coroutine."""
        waiting = defer.Deferred()

        async def work():
            try:
                await waiting
            except Failed:
                return "caught"
        running = runEagerly(work())
        waiting.errback(Failed())
        self.assertEqual(self.successResultOf(running), "caught")

    def test_failsLater(self):
        """What the coroutine raises after waiting fails the Deferred."""
        waiting = defer.Deferred()

        async def work():
            await waiting
            raise Failed("late")
        running = runEagerly(work())
        waiting.callback(None)
        self.failureResultOf(running, Failed)

    def test_cancel(self):
        """Cancelling the Deferred cancels what the coroutine waits for."""
        cancelled = []
        waiting = defer.Deferred(cancelled.append)

        async def work():
            try:
                await waiting
            except defer.CancelledError:
                return "cancelled"
        running = runEagerly(work())
        running.cancel()
        self.assertEqual(cancelled, [waiting])
        self.assertEqual(self.successResultOf(running), "cancelled")

    def test_context(self):
        """Every step runs in one copy of the caller's context."""
        waiting = defer.Deferred()

        async def work():
            _VAR.set("inside")
            await waiting
            return _VAR.get()
        running = runEagerly(work())
        self.assertEqual(_VAR.get(), "outside")
        waiting.callback(None)
        self.assertEqual(self.successResultOf(running), "inside")
        self.assertEqual(_VAR.get(), "outside")

    def test_generator(self):
        """An inlineCallbacks-style generator gets what it yields sent back."""
        def work():
            value = yield 5
            waited = yield defer.succeed(value + 1)
            return waited * 2
        self.assertEqual(self.successResultOf(runEagerly(work())), 12)
