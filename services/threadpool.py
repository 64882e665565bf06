"""
A bounded thread pool as a picklable service.

Blocking work (a hosted WSGI application, say) runs on these threads, never
on the reactor thread. The pool exists only while the service runs; a
pickled service keeps just its size.
"""

from typing import Any

from twisted.python.threadpool import ThreadPool
from zope.interface import implementer

from services.figures import IServiceFigures
from services.persistence import PersistentService

__all__ = ["ThreadPoolService"]


@implementer(IServiceFigures)
class ThreadPoolService(PersistentService):
    """
    Own a L{ThreadPool} of at most C{maxThreads} threads while running.

    @ivar threadpool: the running L{ThreadPool}, else L{None}.
    """

    _volatile = ("threadpool",)
    threadpool: ThreadPool | None

    def __init__(self, minThreads: int = 0, maxThreads: int = 10,
                 poolName: str = "appserver") -> None:
        if not 0 <= minThreads <= maxThreads or maxThreads < 1:
            raise ValueError(f"bad thread pool size {minThreads}..{maxThreads}")
        self.minThreads = minThreads
        self.maxThreads = maxThreads
        self.poolName = poolName
        self._volatileInit()

    def startService(self) -> None:
        """
        Start the thread pool.
        """
        PersistentService.startService(self)
        self.threadpool = ThreadPool(self.minThreads, self.maxThreads, self.poolName)
        self.threadpool.start()

    def stopService(self) -> None:
        """
        Stop the pool once the work already queued has run.
        """
        PersistentService.stopService(self)
        pool, self.threadpool = self.threadpool, None
        if pool is not None:
            pool.stop()

    def figures(self) -> dict[str, Any]:
        """
        While running, the threads started, those busy and the most there
        may be; nothing otherwise.
        """
        pool = self.threadpool
        if pool is None:
            return {}
        return {"threads": pool.workers, "busy": len(pool.working), "maxThreads": pool.max}
