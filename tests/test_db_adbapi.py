"""
Tests that adbapi's private API, which L{services.db.pool.Pool} overrides
and calls, is still as the pool was written against: these fail when a
Twisted release changes it, before the pool misbehaves.
"""

import inspect
import threading

from twisted.enterprise import adbapi
from twisted.trial.unittest import SynchronousTestCase

from services.db.pool import Pool


class _SynchronousThreadPool:
    """
    A thread pool that runs each call at once, in the calling thread.
    """

    def callInThreadWithCallback(self, onResult, function, *args, **kwargs):
        onResult(True, function(*args, **kwargs))


class _SynchronousReactor:
    """
    A reactor whose C{callFromThread} calls at once.
    """

    def callFromThread(self, function, *args, **kwargs):
        function(*args, **kwargs)

    def callWhenRunning(self, function, *args, **kwargs):
        pass


class _RecordingPool(adbapi.ConnectionPool):
    """
    An adbapi pool that records the step C{runInteraction} runs.
    """

    def _runInteraction(self, interaction, *args, **kw):
        self.ran = (interaction, args, kw)
        return "result"


class AdbapiPrivateAPITests(SynchronousTestCase):
    """
    The private parts of C{twisted.enterprise.adbapi} the pool relies on.
    """

    def makePool(self, poolClass=adbapi.ConnectionPool):
        pool = poolClass("sqlite3", ":memory:", cp_reactor=_SynchronousReactor())
        pool.threadpool = _SynchronousThreadPool()
        return pool

    def test_runInteractionRunsThePrivateStep(self):
        """
        C{runInteraction(f, *args, **kw)} runs C{_runInteraction(f, *args,
        **kw)} in the pool's threads and fires with its result.
        """
        pool = self.makePool(_RecordingPool)
        result = self.successResultOf(pool.runInteraction(len, 1, key=2))
        self.assertEqual((pool.ran, result), ((len, (1,), {"key": 2}), "result"))

    def test_privateStepSignature(self):
        """
        C{_runInteraction}, which L{Pool} replaces, takes the interaction
        and its arguments.
        """
        self.assertEqual(str(inspect.signature(adbapi.ConnectionPool._runInteraction)),
                         "(self, interaction, *args, **kw)")

    def test_overridden(self):
        """
        L{Pool} overrides C{_runInteraction} and C{connect}, and nothing else
        of adbapi's private API.
        """
        overridden = {name for name in vars(Pool) if hasattr(adbapi.ConnectionPool, name)
                      and name not in ("__init__", "__doc__", "__module__")}
        self.assertEqual(overridden, {"_runInteraction", "connect"})

    def test_connectionFactory(self):
        """
        The pool's C{connectionFactory} makes a connection wrapper that takes
        this thread's raw connection from C{connect}, kept in
        C{connections} under C{threadID()}, and C{disconnect} drops it.
        """
        pool = self.makePool()
        wrapper = pool.connectionFactory(pool)
        raw = pool.connections[pool.threadID()]
        self.assertEqual((pool.threadID(), wrapper.cursor().execute("SELECT 1").fetchall()),
                         (threading.get_ident(), [(1,)]))
        pool.disconnect(raw)
        self.assertEqual(pool.connections, {})
