"""
Tests for running coroutines and before-response hooks eagerly: without a
Deferred while nothing has to be waited for, as Deferred.fromCoroutine and
inlineCallbacks would once something has.
"""

import contextvars

from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from appserver.web.eager import hasSucceeded, runEagerly
from appserver.web.hooks import beforeResponse, runBeforeResponse, runBeforeResponseEagerly

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

    def test_hasSucceeded(self):
        """Only a Deferred holding a result that is not a failure has succeeded."""
        failed = defer.fail(Failed())
        paused = defer.succeed(None)
        paused.addCallback(lambda ignored: defer.Deferred())
        self.assertEqual(
            [hasSucceeded(d) for d in (defer.succeed(None), defer.Deferred(), failed, paused)],
            [True, False, False, False])
        self.failureResultOf(failed, Failed)


class Request:
    """
    Something to register hooks on.
    """


def register(*hooks):
    request = Request()
    for hook in hooks:
        beforeResponse(request, hook)
    return request


class HookTests(SynchronousTestCase):
    """
    L{runBeforeResponseEagerly} runs hooks in order without a Deferred when
    none has to be waited for.
    """

    def test_synchronous(self):
        """Hooks returning values or fired Deferreds all run at once."""
        seen = []

        async def coroutine():
            seen.append(3)
        request = register(lambda: seen.append(1), lambda: defer.succeed(seen.append(2)),
                           coroutine)
        self.assertIsNone(runBeforeResponseEagerly(request))
        self.assertEqual(seen, [1, 2, 3])
        self.assertIsNone(runBeforeResponseEagerly(request))
        self.assertEqual(seen, [1, 2, 3])

    def test_nothing(self):
        """Without hooks there is nothing to wait for."""
        self.assertIsNone(runBeforeResponseEagerly(Request()))

    def test_waits(self):
        """A pending Deferred holds the later hooks back until it fires."""
        seen, waiting = [], defer.Deferred()
        request = register(lambda: waiting, lambda: seen.append("later"))
        running = runBeforeResponseEagerly(request)
        self.assertEqual(seen, [])
        self.assertNoResult(running)
        waiting.callback("ignored")
        self.assertIsNone(self.successResultOf(running))
        self.assertEqual(seen, ["later"])

    def test_waitingCoroutine(self):
        """A coroutine hook still waiting is waited for."""
        seen, waiting = [], defer.Deferred()

        async def coroutine():
            await waiting
            seen.append("coroutine")
        running = runBeforeResponseEagerly(register(coroutine, lambda: seen.append("later")))
        self.assertNoResult(running)
        waiting.callback(None)
        self.assertEqual(seen, ["coroutine", "later"])
        self.assertIsNone(self.successResultOf(running))

    def test_raises(self):
        """A hook raising fails the result; later hooks do not run."""
        seen = []
        running = runBeforeResponseEagerly(register(lambda: 1 / 0, lambda: seen.append(1)))
        self.failureResultOf(running, ZeroDivisionError)
        self.assertEqual(seen, [])

    def test_failedDeferred(self):
        """A hook's failed Deferred fails the result; later hooks do not run."""
        seen = []
        running = runBeforeResponseEagerly(
            register(lambda: defer.fail(Failed()), lambda: seen.append(1)))
        self.failureResultOf(running, Failed)
        self.assertEqual(seen, [])

    def test_failsLater(self):
        """A pending Deferred failing fails the result; later hooks do not run."""
        seen, waiting = [], defer.Deferred()
        running = runBeforeResponseEagerly(register(lambda: waiting, lambda: seen.append(1)))
        waiting.errback(Failed())
        self.failureResultOf(running, Failed)
        self.assertEqual(seen, [])

    def test_runBeforeResponse(self):
        """runBeforeResponse always gives a Deferred."""
        seen = []
        self.assertIsNone(self.successResultOf(runBeforeResponse(
            register(lambda: seen.append(1)))))
        self.assertEqual(seen, [1])
        self.failureResultOf(runBeforeResponse(register(lambda: 1 / 0)), ZeroDivisionError)
