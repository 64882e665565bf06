"""
Sessions in this process, kept in the session server's store (so that
C{--session-port} can share the very same data over RESP).
"""

from twisted.internet import defer
from zope.interface import implementer

from appserver.persisted import keepAlive
from appserver.sessions.interfaces import ISessionStore
from appserver.sessions.stores._util import DEFAULT_PREFIX, checkId, milliseconds

__all__ = ["MemorySessionStore"]


@implementer(ISessionStore)
class MemorySessionStore:
    """
    An L{ISessionStore} over a L{services.sessionserver.store.Store} in the
    same process: no network hop, expiry enforced by that store.

    @ivar store: the L{services.sessionserver.store.Store}; its contents
        pickle with this object.
    @ivar prefix: prepended to session ids to make keys (the same as
        L{RedisSessionStore}'s, so processes sharing the store over RESP
        see the same sessions).
    """

    def __init__(self, store=None, clock=None, prefix=DEFAULT_PREFIX):
        if store is None:
            from services.sessionserver.store import Store

            store = Store(clock=clock)
        self.store = store
        self.prefix = prefix
        self._clock = clock

    def __getstate__(self):
        return keepAlive(self, dict(self.__dict__, _clock=None))

    def _expireAt(self, timeout):
        if self._clock is None:
            from twisted.internet import reactor

            self._clock = reactor
        return int(self._clock.seconds() * 1000) + milliseconds(timeout)

    def _key(self, sessionId):
        return self.prefix + checkId(sessionId).encode("ascii")

    def open(self):
        """
        Nothing to acquire.
        """
        return defer.succeed(None)

    def close(self):
        """
        Nothing to release.
        """
        return defer.succeed(None)

    def load(self, sessionId, timeout):
        """
        See L{ISessionStore.load}.
        """
        key = self._key(sessionId)
        record = self.store.get(key)
        if record is not None:
            self.store.pexpireAt(key, self._expireAt(timeout))
        return defer.succeed(record)

    def save(self, sessionId, record, timeout):
        """
        See L{ISessionStore.save}; fails with the store's C{OutOfMemory} when
        it is full and may not evict.
        """
        return defer.maybeDeferred(self.store.set, self._key(sessionId), record, self._expireAt(timeout))

    def delete(self, sessionId):
        """
        See L{ISessionStore.delete}.
        """
        self.store.delete(self._key(sessionId))
        return defer.succeed(None)
