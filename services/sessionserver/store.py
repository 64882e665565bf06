"""
The session server's keyspace: string, hash and set values with per-key
expiry and bounded memory, as a plain object with an injected clock.

A string is stored as C{bytes}, a hash as a L{Hash} (a C{dict} of field to
value) and a set as a L{Set} (a C{set} of members; both in
L{services.sessionserver.values}), each collection
carrying its estimated C{cost} so that memory is counted as items come and
go; a collection emptied of its last item is deleted, as in Redis. Reading
a key as the wrong type raises L{WrongType}.

Expiry is lazy (a key past its time is gone when next touched) and active
(L{Store.expireDue}, called periodically, removes keys whose time has come,
in order of expiry). The sweep's heap holds, for every key with an expiry,
an entry no later than that expiry: pushing a key's expiry later (what a
sliding session timeout does on every request) changes no heap entry, the
sweep moving an entry it finds early to the key's real time instead.
Memory is an estimate of what each key costs; when C{maxmemory} is set,
writes evict keys by the chosen policy first, or fail with L{OutOfMemory}
when nothing may be evicted.

Every change is reported to an optional observer (the journal), which has
C{recordSet(key, value, expireAtMillis)} (the value being of any type),
C{recordDelete(key)}, C{recordExpire(key, expireAtMillis)} (L{None} to
persist), C{recordFlush()} and C{recordCommand(*args)} for a change to a
collection (C{HSET}, C{HDEL}, C{SADD} or C{SREM} with its key and items);
it is also told C{beforeItems(key, collection, items)} before a
collection's items change.
"""

import heapq
from bisect import bisect_left, insort
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from services.persistence import PersistentObject, keepAlive
from services.sessionserver.values import (
    ITEM_OVERHEAD, RECORD_ITEMS, Hash, Set, WrongType, copyValue, recordChunks, typeName)

__all__ = ["Store", "OutOfMemory", "WrongType", "Hash", "Set", "POLICIES", "KEY_OVERHEAD",
           "EXPIRY_OVERHEAD", "ITEM_OVERHEAD", "RECORD_ITEMS", "typeName", "copyValue"]

POLICIES = ("noeviction", "volatile-lru", "allkeys-lru", "volatile-ttl")

KEY_OVERHEAD = 120
"""Estimated bytes a key costs besides its key and value bytes."""

EXPIRY_OVERHEAD = 100
"""Estimated bytes an expiry time costs (its entry and its sweep entry)."""


def _size(value):
    return len(value) if value.__class__ is bytes else value.cost


class OutOfMemory(Exception):
    """
    A write would take the store over C{maxmemory} and the policy does not
    allow evicting anything (or nothing is left to evict).
    """


class Store(PersistentObject):
    """
    An in-memory keyspace of C{bytes} keys and values.

    @ivar clock: an L{IReactorTime} provider whose C{seconds()} is the time
        expiries are measured against; the reactor when set to L{None}.
    @ivar maxmemory: the most bytes the keyspace may use, 0 for no bound.
    @ivar policy: what to evict when full, one of L{POLICIES}.
    @ivar observer: told of every change (see the module docstring), or
        L{None}.
    @ivar persistData: whether pickling the store includes its keys; a
        service with a journal turns it off, the journal being the copy.
    @ivar usedMemory: the estimated bytes used by keys and values.
    """

    def __init__(self, clock: Any = None, maxmemory: int = 0,
                 policy: str = "volatile-lru") -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown eviction policy {policy!r}")
        self.clock = clock
        self.maxmemory = maxmemory
        self.policy = policy
        self.observer: Any = None
        self.persistData = True
        self.watched: dict[bytes, set[Any]] = {}
        self._reset()

    def _reset(self):
        self._data = {}
        self._scanIndex = _ScanIndex()
        self._expires = {}
        self._heap = []
        self._recency = OrderedDict() if self._tracksRecency() else None
        self.usedMemory = 0
        self.expiredKeys = 0
        self.evictedKeys = 0
        self.hits = 0
        self.misses = 0

    def _tracksRecency(self):
        return bool(self.maxmemory) and self.policy.endswith("-lru")

    @property
    def clock(self) -> Any:
        """
        The L{IReactorTime} given (or set), else the reactor once L{now}
        has looked it up, else L{None}.
        """
        return self._reactor

    @clock.setter
    def clock(self, clock: Any) -> None:
        self._reactor = clock

    def now(self) -> int:
        """
        The current time in milliseconds, as expiry times are given.
        """
        # Every command asks: skip the lookup's call once the clock is known.
        clock = self._reactor
        if clock is None:
            clock = self._getReactor()
        return int(clock.seconds() * 1000)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: bytes) -> bool:
        return self._live(key)

    def _live(self, key):
        if key not in self._data:
            return False
        expireAt = self._expires.get(key)
        if expireAt is not None and expireAt <= self.now():
            self._remove(key)
            self.expiredKeys += 1
            return False
        return True

    def get(self, key: bytes) -> bytes | None:
        """
        The string value of C{key}, or L{None} if it is absent or expired.

        @raise WrongType: if C{key} holds a hash or a set.
        """
        # collection(key, bytes), inlined: GET is the hottest path, and a
        # call costs it about a tenth of its time in the store.
        if not self._live(key):
            self.misses += 1
            return None
        value = self._data[key]
        if value.__class__ is not bytes:
            raise WrongType()
        self.hits += 1
        if self._recency is not None and key in self._recency:
            self._recency.move_to_end(key)
        return value

    def collection(self, key: bytes, kind: type) -> Any:
        """
        The live value of type C{kind} (C{bytes}, L{Hash} or L{Set}) at
        C{key}, or L{None} if the key is absent or expired. A collection is
        changed only through L{addItems} and L{removeItems}.

        @raise WrongType: if C{key} holds another type.
        """
        if not self._live(key):
            self.misses += 1
            return None
        value = self._data[key]
        if value.__class__ is not kind:
            raise WrongType()
        self.hits += 1
        if self._recency is not None and key in self._recency:
            self._recency.move_to_end(key)
        return value

    def typeOf(self, key: bytes) -> bytes:
        """
        The TYPE of C{key}: C{string}, C{hash}, C{set}, or C{none} if it is
        absent or expired.
        """
        if not self._live(key):
            return b"none"
        return typeName(self._data[key])

    def addItems(self, key: bytes, kind: type, items: list[tuple[bytes, Any]],
                 evict: bool = True) -> int:
        """
        Set the fields of the L{Hash} at C{key} (or add the members of the
        L{Set}, their values L{None}) from C{items}, C{(item, value)} pairs,
        creating the key without expiry if it is absent; return how many
        items are new.

        @param evict: as for L{set}.
        @raise WrongType: if C{key} holds another type.
        @raise OutOfMemory: if the items do not fit under C{maxmemory}.
        """
        current = self._typed(key, kind)
        if self.maxmemory:
            base = self._cost(key) if current is not None else len(key) + KEY_OVERHEAD
            grown = (current if current is not None else kind()).growth(items)
            self._makeRoom(key, base + grown, evict)
            current = self._data.get(key)
        if current is None:
            current = self._create(key, kind)
        elif self._recency is not None and key in self._recency:
            self._recency.move_to_end(key)
        if self.observer is not None:
            self.observer.beforeItems(key, current, [item for item, _ in items])
        before = current.cost
        added = current.put(items)
        self.usedMemory += current.cost - before
        if self.watched:
            self._changed(key)
        if self.observer is not None:
            self._record(current.verbs[0], key, current.flatten(items))
        return added

    def removeItems(self, key: bytes, kind: type, items: list[bytes]) -> list[bytes]:
        """
        Remove the fields (or members) C{items} from the collection of type
        C{kind} at C{key}, deleting the key once it is empty; return those
        that were there.

        @raise WrongType: if C{key} holds another type.
        """
        current = self._typed(key, kind)
        if current is None:
            return []
        if self.observer is not None:
            self.observer.beforeItems(key, current, items)
        before = current.cost
        removed = current.drop(items)
        self.usedMemory += current.cost - before
        if not current:
            self._remove(key)
        elif removed and self.watched:
            self._changed(key)
        if removed and self.observer is not None:
            self._record(current.verbs[1], key, removed)
        return removed

    def _record(self, verb, key, parts):
        """
        Tell the observer of a change to a collection, in records of at
        most L{RECORD_ITEMS} items (a command may carry more than a journal
        record may hold).
        """
        for args in recordChunks(verb, key, parts):
            self.observer.recordCommand(*args)

    def putBack(self, key: bytes, collection: Hash | Set, remembered: list[Any]) -> None:
        """
        Undo changes to the items of C{collection}, as its C{remember}
        gave them, counting the memory if it is the value at C{key} (and
        deleting the key if that leaves it empty). For a journal's undo,
        which puts keys themselves back after.
        """
        live = self._data.get(key) is collection
        before = collection.cost
        collection.putBack(remembered)
        if not live:
            return
        self.usedMemory += collection.cost - before
        if not collection:
            self._remove(key)
        elif self.watched:
            self._changed(key)

    def _typed(self, key, kind):
        if not self._live(key):
            return None
        value = self._data[key]
        if value.__class__ is not kind:
            raise WrongType()
        return value

    def _create(self, key, kind):
        value = self._data[key] = kind()
        self.usedMemory += len(key) + KEY_OVERHEAD
        self._scanIndex.add(key)
        if self._recency is not None and self.policy == "allkeys-lru":
            self._recency[key] = None
        return value

    def getAndExpire(self, key: bytes, expireAtMillis: int) -> bytes | None:
        """
        The value of C{key}, or L{None} if it is absent or expired, making a
        live key expire at C{expireAtMillis}: L{get} followed by
        L{pexpireAt}, with one look-up and one reading of the clock (a
        sliding timeout's read-and-touch).
        """
        value = self._data.get(key)
        if value is None:
            self.misses += 1
            return None
        now = self.now()
        expireAt = self._expires.get(key)
        if expireAt is not None and expireAt <= now:
            self._remove(key)
            self.expiredKeys += 1
            self.misses += 1
            return None
        if value.__class__ is not bytes:
            raise WrongType()
        self.hits += 1
        if expireAtMillis <= now:
            self._remove(key)
            if self.observer is not None:
                self.observer.recordDelete(key)
            return value
        self._setExpiry(key, expireAtMillis)
        if self.watched:
            self._changed(key)
        if self.observer is not None:
            self.observer.recordExpire(key, expireAtMillis)
        return value

    def peek(self, key: bytes) -> tuple[bytes, int | None] | None:
        """
        C{(value, expireAtMillis or None)} for a live C{key}, or L{None};
        unlike L{get}, it counts no hit and makes the key no more recent.
        """
        if not self._live(key):
            return None
        return self._data[key], self._expires.get(key)

    def set(self, key: bytes, value: bytes | Hash | Set, expireAtMillis: int | None = None,
            keepTTL: bool = False, evict: bool = True) -> None:
        """
        Set C{key} to C{value} (a string, or a L{Hash} or L{Set} the store
        then owns), expiring at C{expireAtMillis} (absolute
        milliseconds on the clock) or never (L{None}); with C{keepTTL}, an
        existing expiry is kept instead.

        @param evict: whether other keys may be evicted to make room (a
            write from a client that did not authenticate may not).
        @raise OutOfMemory: if it does not fit under C{maxmemory}.
        """
        if keepTTL and self._live(key):
            expireAtMillis = self._expires.get(key)
        if expireAtMillis is not None and expireAtMillis <= self.now():
            self.delete(key)
            return
        size = len(value) if value.__class__ is bytes else value.cost  # type: ignore[union-attr]
        cost = len(key) + size + KEY_OVERHEAD
        if self.maxmemory:
            self._makeRoom(key, cost + (EXPIRY_OVERHEAD if expireAtMillis is not None else 0),
                           evict)
        old = self._data.get(key)
        self._data[key] = value
        # A replaced key keeps its place (and its expiry's sweep entry).
        if old is None:
            self.usedMemory += cost
            self._scanIndex.add(key)
        else:
            self.usedMemory += size - (len(old) if old.__class__ is bytes else old.cost)
        if expireAtMillis is not None:
            self._setExpiry(key, expireAtMillis)
        else:
            self._clearExpiry(key)
            if self._recency is not None and self.policy == "allkeys-lru":
                self._recency[key] = None
                self._recency.move_to_end(key)
        if self.watched:
            self._changed(key)
        if self.observer is not None:
            self.observer.recordSet(key, value, expireAtMillis)

    def delete(self, key: bytes) -> bool:
        """
        Remove C{key}; return whether it existed.
        """
        if not self._live(key):
            return False
        self._remove(key)
        if self.observer is not None:
            self.observer.recordDelete(key)
        return True

    def pexpireAt(self, key: bytes, expireAtMillis: int) -> bool:
        """
        Make C{key} expire at C{expireAtMillis} (a time already past deletes
        it); return whether the key existed.
        """
        if not self._live(key):
            return False
        if expireAtMillis <= self.now():
            return self.delete(key)
        self._setExpiry(key, expireAtMillis)
        if self.watched:
            self._changed(key)
        if self.observer is not None:
            self.observer.recordExpire(key, expireAtMillis)
        return True

    def persist(self, key: bytes) -> bool:
        """
        Remove the expiry of C{key}; return whether it had one.
        """
        if not self._live(key) or key not in self._expires:
            return False
        self._clearExpiry(key)
        if self.policy == "allkeys-lru" and self._recency is not None:
            self._recency[key] = None
        if self.watched:
            self._changed(key)
        if self.observer is not None:
            self.observer.recordExpire(key, None)
        return True

    def expireAt(self, key: bytes) -> int | None:
        """
        When C{key} expires in absolute milliseconds, or L{None} if it
        does not (or does not exist).
        """
        if not self._live(key):
            return None
        return self._expires.get(key)

    def flush(self) -> None:
        """
        Remove every key.
        """
        for key in [key for key in self.watched if key in self._data]:
            self._changed(key)
        self._clearKeys()
        if self.observer is not None:
            self.observer.recordFlush()

    def watch(self, key: bytes, watcher: Any) -> None:
        """
        Call C{watcher.keyChanged(key)} whenever C{key} changes (by a write,
        an expiry, an eviction or a flush) until L{unwatch}. A key already
        past its expiry goes now, so that its removal is no later change.
        """
        self._live(key)
        self.watched.setdefault(key, set()).add(watcher)

    def unwatch(self, key: bytes, watcher: Any) -> None:
        """
        Stop telling C{watcher} about changes to C{key}.
        """
        watchers = self.watched.get(key)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self.watched[key]

    def _changed(self, key):
        for watcher in list(self.watched.get(key, ())):
            watcher.keyChanged(key)

    def rename(self, source: bytes, destination: bytes) -> bool:
        """
        Move the live C{source}'s value (of any type) and expiry to
        C{destination}, replacing what it held; return whether C{source}
        was live. Nothing is evicted: the value's memory moves, it is not
        added.
        """
        entry = self.peek(source)
        if entry is None:
            return False
        self.delete(source)
        limit, self.maxmemory = self.maxmemory, 0
        try:
            self.set(destination, *entry)
        finally:
            self.maxmemory = limit
        return True

    def touch(self, key: bytes) -> bool:
        """
        Make a live C{key} the most recently used, as a read does; return
        whether it is live.
        """
        if not self._live(key):
            return False
        if self._recency is not None and key in self._recency:
            self._recency.move_to_end(key)
        return True

    def randomKey(self, choose: Any) -> bytes | None:
        """
        A live key picked with C{choose} (like C{random.choice}), or L{None}
        when there is none; expired keys met on the way are removed.
        """
        while self._data:
            key = self._scanIndex.pick(choose)
            if self._live(key):
                return key
        return None

    def seconds(self) -> float:
        """
        The clock's current time in seconds (what C{TIME} reports).
        """
        return self._getReactor().seconds()

    def _clearKeys(self):
        self._data.clear()
        self._scanIndex = _ScanIndex()
        self._expires.clear()
        self._heap = []
        if self._recency is not None:
            self._recency.clear()
        self.usedMemory = 0

    def keys(self) -> list[bytes]:
        """
        A list of the keys that have not expired.
        """
        now = self.now()
        expires = self._expires
        return [k for k in self._data if k not in expires or expires[k] > now]

    def items(self) -> Iterator[tuple[bytes, bytes, int | None]]:
        """
        Yield C{(key, value, expireAtMillis or None)} for every live key.
        """
        now = self.now()
        for key, value in list(self._data.items()):
            expireAt = self._expires.get(key)
            if expireAt is None or expireAt > now:
                yield key, value, expireAt

    def volatileCount(self) -> int:
        """
        How many keys have an expiry.
        """
        return len(self._expires)

    def resetStats(self) -> None:
        """
        Zero the expired, evicted, hit and miss counters (C{CONFIG RESETSTAT}).
        """
        self.expiredKeys = self.evictedKeys = self.hits = self.misses = 0

    def configure(self, maxmemory: int, policy: str) -> None:
        """
        Change C{maxmemory} and the eviction policy at run time, then evict
        at once, as the policy allows, what no longer fits.

        @raise ValueError: if C{policy} is not one of L{POLICIES}.
        """
        if policy not in POLICIES:
            raise ValueError(f"unknown eviction policy {policy!r}")
        self.maxmemory, self.policy = maxmemory, policy
        self._recency = self._rebuiltRecency() if self._tracksRecency() else None
        while self.maxmemory and self.usedMemory > self.maxmemory and self._evictOne():
            pass

    def _rebuiltRecency(self):
        """
        The LRU order for the current policy: the keys it may evict (all, or
        those with an expiry), those already tracked keeping their order
        after the others.
        """
        candidates = self._data if self.policy == "allkeys-lru" else self._expires
        old = self._recency or {}
        recency = OrderedDict.fromkeys(k for k in candidates if k not in old)
        recency.update((k, None) for k in old if k in candidates)
        return recency

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """
        One step of a cursor walk over the keys: return C{(next cursor,
        keys)}, the cursor being 0 at the end. Keys present for the whole
        walk are returned exactly once (they are visited in order of a
        per-process hash, which does not move as keys come and go). A step
        costs what it returns: about C{count} keys, more when the keys of
        one hash bucket (1/16384 of them) outnumber it.
        """
        now = self.now()
        expires = self._expires
        nextCursor, found = self._scanIndex.step(cursor, count)
        return nextCursor, [k for k in found if k not in expires or expires[k] > now]

    def expireDue(self, limit: int = 1000) -> int:
        """
        Remove up to C{limit} keys whose expiry has passed, soonest first;
        return how many were removed. Moving entries whose keys' expiry
        moved later also counts against C{limit}, so one call does bounded
        work; the next call goes on.
        """
        now = self.now()
        heap, expires = self._heap, self._expires
        removed = steps = 0
        while heap and steps < limit and heap[0][0] <= now:
            steps += 1
            key = heap[0][1]
            expireAt = expires.get(key)
            if expireAt is None:
                heapq.heappop(heap)
            elif expireAt <= now:
                heapq.heappop(heap)
                self._remove(key)
                self.expiredKeys += 1
                removed += 1
            else:
                # The key's expiry moved later: its entry moves there too.
                heapq.heapreplace(heap, (expireAt, key))
        return removed

    def _setExpiry(self, key, expireAtMillis):
        expires = self._expires
        current = expires.get(key)
        expires[key] = expireAtMillis
        if current is None:
            self.usedMemory += EXPIRY_OVERHEAD
        if current is None or expireAtMillis < current:
            self._pushExpiry(key, expireAtMillis)
        if self._recency is not None:
            self._recency[key] = None
            self._recency.move_to_end(key)

    def _pushExpiry(self, key, expireAtMillis):
        heapq.heappush(self._heap, (expireAtMillis, key))
        if len(self._heap) > 2 * len(self._expires) + 1024:
            self._heap = [(t, k) for k, t in self._expires.items()]
            heapq.heapify(self._heap)

    def _clearExpiry(self, key):
        if self._expires.pop(key, None) is not None:
            self.usedMemory -= EXPIRY_OVERHEAD
            if self._recency is not None:
                self._recency.pop(key, None)

    def _remove(self, key):
        value = self._data.pop(key, None)
        if value is None:
            return
        self._scanIndex.discard(key)
        self.usedMemory -= len(key) + _size(value) + KEY_OVERHEAD
        if key in self._expires:
            self._clearExpiry(key)
        if self._recency is not None:
            self._recency.pop(key, None)
        if self.watched:
            self._changed(key)

    def _cost(self, key):
        value = self._data.get(key)
        if value is None:
            return 0
        return len(key) + _size(value) + KEY_OVERHEAD + (
            EXPIRY_OVERHEAD if key in self._expires else 0)

    def _makeRoom(self, key, needed, evict=True):
        """
        Evict (when C{evict} allows) until C{needed} more bytes (replacing
        C{key}) fit under C{maxmemory}, which must be set.

        @raise OutOfMemory: if they cannot be made to fit.
        """
        while self.usedMemory - self._cost(key) + needed > self.maxmemory:
            if not evict or not self._evictOne():
                raise OutOfMemory(key)

    def _evictOne(self):
        victim = self._victim()
        if victim is None:
            return False
        self._remove(victim)
        self.evictedKeys += 1
        if self.observer is not None:
            self.observer.recordDelete(victim)
        return True

    def _victim(self):
        if self.policy == "noeviction":
            return None
        if self.policy == "volatile-ttl":
            return self._soonestExpiring()
        if self._recency:
            return next(iter(self._recency))
        return None

    def _soonestExpiring(self):
        heap = self._heap
        while heap:
            entryAt, key = heap[0]
            expireAt = self._expires.get(key)
            if expireAt == entryAt:
                return key
            if expireAt is None:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, (expireAt, key))
        return None

    def __getstate__(self):
        state = {"maxmemory": self.maxmemory, "policy": self.policy,
                 "persistData": self.persistData,
                 "items": list(self.items()) if self.persistData else []}
        return keepAlive(self, state)

    def __setstate__(self, state):
        self.__init__(None, state["maxmemory"], state["policy"])
        self.persistData = state["persistData"]
        for key, value, expireAt in state["items"]:
            self._data[key] = value
            self._scanIndex.add(key)
            self.usedMemory += len(key) + _size(value) + KEY_OVERHEAD
            if expireAt is not None:
                self._setExpiry(key, expireAt)
            elif self._recency is not None and self.policy == "allkeys-lru":
                self._recency[key] = None


_SCAN_MASK = 2**62 - 1
_SCAN_SHIFT = 62 - 14


def _scanHash(key):
    return hash(key) & _SCAN_MASK


class _ScanIndex:
    """
    The keys in 16,384 buckets by the top bits of their scan hash, the
    non-empty buckets' numbers kept sorted, so that a SCAN step walks only
    the buckets it returns. A cursor is the lowest hash of the next bucket.
    """

    def __init__(self):
        self._buckets = {}
        self._order = []

    def add(self, key):
        """
        Index a new C{key}.
        """
        number = _scanHash(key) >> _SCAN_SHIFT
        bucket = self._buckets.get(number)
        if bucket is None:
            bucket = self._buckets[number] = set()
            insort(self._order, number)
        bucket.add(key)

    def discard(self, key):
        """
        Forget an indexed C{key}.
        """
        number = _scanHash(key) >> _SCAN_SHIFT
        bucket = self._buckets[number]
        bucket.discard(key)
        if not bucket:
            del self._buckets[number]
            del self._order[bisect_left(self._order, number)]

    def pick(self, choose):
        """
        A key chosen with C{choose}: a bucket, then a key in it.
        """
        return choose(tuple(self._buckets[choose(self._order)]))

    def step(self, cursor, count):
        """
        The keys of whole buckets from C{cursor} on, at least C{count} of
        them unless the end comes first, and the cursor after them (0 at
        the end).
        """
        order, buckets = self._order, self._buckets
        i = bisect_left(order, cursor >> _SCAN_SHIFT)
        found = []
        while i < len(order) and len(found) < count:
            found.extend(buckets[order[i]])
            i += 1
        return (order[i] << _SCAN_SHIFT if i < len(order) else 0), found
