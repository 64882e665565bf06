"""
Sessions in this process, kept in the session server's store (so that
C{--session-port} can share the very same data over RESP).
"""

from typing import Any

from twisted.internet import defer, task
from zope.interface import implementer

from appserver.sessions.interfaces import ISessionStore
from appserver.sessions.stores._util import (
    DEFAULT_PREFIX, USERS, checkId, milliseconds, startSweeping, stopSweeping, userIndexKey,
)
from services.figures import IServiceFigures
from services.persistence import PersistentObject
from services.sessionserver.store import OutOfMemory, Set, Store

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

    A logged-in user's sessions are a set in the store, under the key the
    L{RedisSessionStore} uses, so processes sharing the store over RESP
    (and C{appserver-sessions}) see the same index.

    With C{maxMemory} (bytes, by the store's estimate; 0 for no bound) the
    store evicts the least recently used sessions (read or written longest
    ago) to make room for a new one.
    """

    _volatile = ("_sweeper", "_lastKey", "_lastTimeout")
    _sweeper: task.LoopingCall | None

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
        See L{ISessionStore.addToUser}: C{SADD} and C{PEXPIRE} in the store;
        fails with the store's C{OutOfMemory} when it is full and may not
        evict, or C{WrongType} if something else holds the key.
        """
        return defer.execute(self._addToUser, userIndexKey(self.prefix, userId),
                             checkId(sessionId).encode("ascii"), timeout)

    def _addToUser(self, key, member, timeout):
        self.store.addItems(key, Set, [(member, None)])
        self.store.pexpireAt(key, self._expireAt(timeout))

    def removeFromUser(self, userId: str, sessionId: str) -> defer.Deferred[None]:
        """
        See L{ISessionStore.removeFromUser}; an emptied set goes.
        """
        return defer.execute(self.store.removeItems, userIndexKey(self.prefix, userId), Set,
                             [checkId(sessionId).encode("ascii")]).addCallback(lambda _: None)

    def sessionsOfUser(self, userId: str) -> defer.Deferred[list[str]]:
        """
        See L{ISessionStore.sessionsOfUser}.
        """
        return defer.execute(self._sessionsOfUser, userIndexKey(self.prefix, userId))

    def _sessionsOfUser(self, key):
        return [member.decode("ascii") for member in self.store.collection(key, Set) or ()]

    def deleteAll(self) -> defer.Deferred[int]:
        """
        See L{ISessionStore.deleteAll}: every key under L{prefix}.
        """
        keys = [key for key in self.store.keys() if key.startswith(self.prefix)]
        for key in keys:
            self.store.delete(key)
        return defer.succeed(sum(1 for key in keys if not key.startswith(self.prefix + USERS)))
