"""
Sessions in this process, kept in the session server's store (so that
C{--session-port} can share the very same data over RESP).
"""

from typing import Any

from twisted.internet import defer, task
from zope.interface import implementer

from appserver.sessions.interfaces import ISessionStore
from appserver.sessions.stores._util import (
    DEFAULT_PREFIX, checkId, milliseconds, startSweeping, stopSweeping, userKey,
)
from services.figures import IServiceFigures
from services.persistence import PersistentObject
from services.sessionserver.store import OutOfMemory, Store

__all__ = ["MemorySessionStore"]


@implementer(ISessionStore, IServiceFigures)
class MemorySessionStore(PersistentObject):
    """
    An L{ISessionStore} over a L{services.sessionserver.store.Store} in the
    same process: no network hop, expiry enforced by that store (lazily on
    access, and by a sweep of due keys while the store is open).

    @ivar store: the L{services.sessionserver.store.Store}, whose clock is
        used; its contents pickle with this object.
    @ivar prefix: prepended to session ids to make keys (the same as
        L{RedisSessionStore}'s, so processes sharing the store over RESP
        see the same sessions).
    @ivar sweepInterval: seconds between sweeps of expired keys.
    @ivar users: the index of logged-in users' sessions: a set of session
        ids per L{userKey} of a user, beside the store (pickled with this
        object); an entry whose session has gone is dropped when its user's
        sessions are listed.

    With C{maxMemory} (bytes, by the store's estimate; 0 for no bound) the
    store evicts the least recently used sessions (read or written longest
    ago) to make room for a new one.
    """

    _volatile = ("_sweeper", "_lastKey", "_lastTimeout")
    _sweeper: task.LoopingCall | None
    users: dict[str, set[str]]

    def __init__(self, store: Store | None = None, clock: Any = None,
                 prefix: bytes = DEFAULT_PREFIX, sweepInterval: float = 1.0,
                 maxMemory: int = 0) -> None:
        if store is None:
            store = Store(clock=clock, maxmemory=maxMemory, policy="allkeys-lru")
        self.store = store
        self.prefix = prefix
        self.sweepInterval = sweepInterval
        self._volatileInit()

    def _volatileInit(self):
        PersistentObject._volatileInit(self)
        # Made here, not in __init__, so that a store pickled before the
        # users' index existed gets one when loaded.
        self.__dict__.setdefault("users", {})
        # The last session id turned into a key, and the last timeout into
        # milliseconds: a request's save repeats its load's.
        self._lastKey = (None, None, None)
        self._lastTimeout = (None, None)

    def _expireAt(self, timeout):
        last, millis = self._lastTimeout
        if timeout != last:
            millis = milliseconds(timeout)
            self._lastTimeout = (timeout, millis)
        return self.store.now() + millis

    def _key(self, sessionId):
        last, prefix, key = self._lastKey
        if sessionId != last or prefix is not self.prefix:
            key = self.prefix + checkId(sessionId).encode("ascii")
            self._lastKey = (sessionId, self.prefix, key)
        return key

    def figures(self) -> dict[str, Any]:
        """
        How many sessions the store holds, the bytes they use and may use
        (0: no bound), and how many were evicted to stay under the bound.
        """
        store = self.store
        return {"sessions": len(store), "usedMemory": store.usedMemory,
                "maxMemory": store.maxmemory, "evictedSessions": store.evictedKeys}

    def open(self) -> defer.Deferred[None]:
        """
        Start sweeping expired keys.
        """
        self.store.now()
        self._sweeper = startSweeping(self.store.expireDue, self.sweepInterval,
                                      self.store.clock, "the memory store")
        return defer.succeed(None)

    def close(self) -> defer.Deferred[None]:
        """
        Stop sweeping; the sessions stay.
        """
        sweeper, self._sweeper = self._sweeper, None
        stopSweeping(sweeper)
        return defer.succeed(None)

    def load(self, sessionId: str, timeout: float) -> defer.Deferred[bytes | None]:
        """
        See L{ISessionStore.load}.
        """
        return defer.succeed(self.store.getAndExpire(self._key(sessionId), self._expireAt(timeout)))

    def save(self, sessionId: str, record: bytes, timeout: float) -> defer.Deferred[None]:
        """
        See L{ISessionStore.save}; fails with the store's C{OutOfMemory} when
        it is full and may not evict.
        """
        key = self._key(sessionId)
        try:
            self.store.set(key, record, self._expireAt(timeout))
        except OutOfMemory:
            return defer.fail()
        return defer.succeed(None)

    def delete(self, sessionId: str) -> defer.Deferred[None]:
        """
        See L{ISessionStore.delete}.
        """
        self.store.delete(self._key(sessionId))
        return defer.succeed(None)

    def peek(self, sessionId: str) -> defer.Deferred[bytes | None]:
        """
        See L{ISessionStore.peek}.
        """
        found = self.store.peek(self._key(sessionId))
        return defer.succeed(None if found is None else found[0])

    def addToUser(self, userId: str, sessionId: str, timeout: float) -> defer.Deferred[None]:
        """
        See L{ISessionStore.addToUser}; the index has no expiry of its own.
        """
        self.users.setdefault(userKey(userId), set()).add(checkId(sessionId))
        return defer.succeed(None)

    def removeFromUser(self, userId: str, sessionId: str) -> defer.Deferred[None]:
        """
        See L{ISessionStore.removeFromUser}; an emptied index goes.
        """
        key = userKey(userId)
        members = self.users.get(key, set())
        members.discard(sessionId)
        if not members:
            self.users.pop(key, None)
        return defer.succeed(None)

    def sessionsOfUser(self, userId: str) -> defer.Deferred[list[str]]:
        """
        See L{ISessionStore.sessionsOfUser}.
        """
        return defer.succeed(list(self.users.get(userKey(userId), ())))

    def deleteAll(self) -> defer.Deferred[int]:
        """
        See L{ISessionStore.deleteAll}: every key under L{prefix}.
        """
        keys = [key for key in self.store.keys() if key.startswith(self.prefix)]
        for key in keys:
            self.store.delete(key)
        self.users.clear()
        return defer.succeed(len(keys))
