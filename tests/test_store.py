"""
Tests for L{services.sessionserver.store}: values, expiry driven by a Clock,
memory accounting, eviction policies, scanning and pickling.
"""

import pickle

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver import store
from services.sessionserver.store import EXPIRY_OVERHEAD, KEY_OVERHEAD, OutOfMemory, Store
from tests.support import roundTrips


def clockAt(seconds=1000.0):
    clock = Clock()
    clock.advance(seconds)
    return clock


class Recorder:
    """
    An observer keeping every record it is told of.
    """

    def __init__(self):
        self.records = []

    def recordSet(self, key, value, expireAtMillis):
        self.records.append(("set", key, value, expireAtMillis))

    def recordDelete(self, key):
        self.records.append(("delete", key))

    def recordExpire(self, key, expireAtMillis):
        self.records.append(("expire", key, expireAtMillis))

    def recordFlush(self):
        self.records.append(("flush",))


class BasicTests(SynchronousTestCase):
    """
    The contract other code builds on.
    """

    def setUp(self):
        self.clock = clockAt()
        self.store = Store(self.clock)

    def test_setGetDelete(self):
        """A set value is got back until deleted."""
        self.assertIsNone(self.store.get(b"k"))
        self.store.set(b"k", b"v")
        self.assertEqual(self.store.get(b"k"), b"v")
        self.assertEqual(len(self.store), 1)
        self.assertTrue(self.store.delete(b"k"))
        self.assertFalse(self.store.delete(b"k"))
        self.assertIsNone(self.store.get(b"k"))
        self.assertEqual(len(self.store), 0)

    def test_lazyExpiry(self):
        """A key is gone once the clock reaches its expiry time."""
        self.store.set(b"k", b"v", 1000500)
        self.clock.advance(0.499)
        self.assertEqual(self.store.get(b"k"), b"v")
        self.clock.advance(0.001)
        self.assertIsNone(self.store.get(b"k"))
        self.assertEqual(self.store.expiredKeys, 1)
        self.assertFalse(self.store.delete(b"k"))

    def test_setPastExpiryDeletes(self):
        """Setting with an expiry already past removes the key."""
        self.store.set(b"k", b"v")
        self.store.set(b"k", b"w", 5)
        self.assertNotIn(b"k", self.store)

    def test_setClearsOrKeepsExpiry(self):
        """A plain set removes the expiry; keepTTL keeps it."""
        self.store.set(b"k", b"v", 2000000)
        self.store.set(b"k", b"w", keepTTL=True)
        self.assertEqual(self.store.expireAt(b"k"), 2000000)
        self.store.set(b"k", b"x")
        self.assertIsNone(self.store.expireAt(b"k"))

    def test_pexpireAtAndPersist(self):
        """pexpireAt sets an expiry on existing keys only; persist removes it."""
        self.assertFalse(self.store.pexpireAt(b"k", 2000000))
        self.store.set(b"k", b"v")
        self.assertTrue(self.store.pexpireAt(b"k", 2000000))
        self.assertEqual(self.store.expireAt(b"k"), 2000000)
        self.assertTrue(self.store.persist(b"k"))
        self.assertFalse(self.store.persist(b"k"))
        self.assertIsNone(self.store.expireAt(b"k"))
        self.assertTrue(self.store.pexpireAt(b"k", 1))
        self.assertNotIn(b"k", self.store)

    def test_activeExpiry(self):
        """expireDue removes due keys, soonest first, up to its limit."""
        for i in range(10):
            self.store.set(b"k%d" % i, b"v", 1000001 + i)
        self.store.set(b"forever", b"v")
        self.clock.advance(0.005)
        self.assertEqual(self.store.expireDue(limit=3), 3)
        self.assertEqual(self.store.expireDue(), 2)
        self.assertEqual(len(self.store), 6)
        self.assertEqual(self.store.expireDue(), 0)

    def test_staleSweepEntriesIgnored(self):
        """A key whose expiry moved is not swept at its old time."""
        self.store.set(b"k", b"v", 1000001)
        self.store.pexpireAt(b"k", 1000100)
        self.clock.advance(0.050)
        self.assertEqual(self.store.expireDue(), 0)
        self.assertIn(b"k", self.store)

    def test_movedLaterSweptAtNewTime(self):
        """A key whose expiry moved later is swept once its new time comes."""
        self.store.set(b"k", b"v", 1000001)
        self.store.pexpireAt(b"k", 1000100)
        self.store.set(b"k2", b"v", 1000050)
        self.clock.advance(0.060)
        self.assertEqual(self.store.expireDue(), 1)
        self.assertEqual(self.store.keys(), [b"k"])
        self.clock.advance(0.041)
        self.assertEqual(self.store.expireDue(), 1)
        self.assertEqual(len(self.store), 0)

    def test_movedEarlierSweptAtNewTime(self):
        """A key whose expiry moved earlier is swept at its new time."""
        self.store.set(b"k", b"v", 1000100)
        self.store.pexpireAt(b"k", 1000010)
        self.clock.advance(0.010)
        self.assertEqual(self.store.expireDue(), 1)
        self.assertEqual(len(self.store), 0)

    def test_expireDueBoundedWork(self):
        """expireDue moves at most C{limit} entries of keys whose expiry moved."""
        for i in range(10):
            self.store.set(b"k%d" % i, b"v", 1000001)
            self.store.pexpireAt(b"k%d" % i, 1000100)
        self.clock.advance(0.050)
        self.assertEqual(self.store.expireDue(limit=4), 0)
        self.assertEqual(len([t for t, k in self.store._heap if t <= 1000050]), 6)
        self.assertEqual(self.store.expireDue(limit=100), 0)
        self.clock.advance(0.051)
        self.assertEqual(self.store.expireDue(limit=100), 10)

    def test_sweepHeapBounded(self):
        """Moving one key's expiry back and forth many times does not grow the sweep heap
        without bound."""
        self.store.set(b"k", b"v", 2000000)
        for i in range(5000):
            self.store.pexpireAt(b"k", 2000000 - i)
            self.store.pexpireAt(b"k", 3000000 + i)
        self.assertLess(len(self.store._heap), 1100)

    def test_getAndExpire(self):
        """getAndExpire returns a live key's value and sets its expiry, as get and
        pexpireAt do; absent and expired keys are misses and get no expiry."""
        self.store.observer = recorder = Recorder()
        self.assertIsNone(self.store.getAndExpire(b"k", 2000000))
        self.store.set(b"k", b"v", 1000010)
        self.assertEqual(self.store.getAndExpire(b"k", 2000000), b"v")
        self.assertEqual(self.store.expireAt(b"k"), 2000000)
        self.assertEqual(recorder.records[-1], ("expire", b"k", 2000000))
        self.assertEqual((self.store.hits, self.store.misses), (1, 1))
        self.store.set(b"old", b"v", 1000010)
        self.clock.advance(0.010)
        self.assertIsNone(self.store.getAndExpire(b"old", 2000000))
        self.assertEqual((self.store.misses, self.store.expiredKeys), (2, 1))
        self.assertNotIn(b"old", self.store)

    def test_getAndExpirePast(self):
        """getAndExpire with a time already past returns the value and deletes the key."""
        self.store.observer = recorder = Recorder()
        self.store.set(b"k", b"v")
        self.assertEqual(self.store.getAndExpire(b"k", 1), b"v")
        self.assertNotIn(b"k", self.store)
        self.assertEqual(recorder.records[-1], ("delete", b"k"))
        self.assertEqual(self.store.usedMemory, 0)

    def test_overwriteKeepsAccounting(self):
        """Overwriting a key with and without an expiry keeps usedMemory exact."""
        self.store.set(b"k", b"v" * 10, 2000000)
        self.store.set(b"k", b"v" * 20, 2100000)
        self.assertEqual(self.store.usedMemory, 1 + 20 + KEY_OVERHEAD + EXPIRY_OVERHEAD)
        self.store.set(b"k", b"v" * 5)
        self.assertEqual(self.store.usedMemory, 1 + 5 + KEY_OVERHEAD)
        self.assertIsNone(self.store.expireAt(b"k"))
        self.clock.advance(1100)
        self.assertEqual(self.store.expireDue(), 0)
        self.assertEqual(self.store.get(b"k"), b"v" * 5)

    def test_memoryAccounting(self):
        """usedMemory follows sets, overwrites and deletes."""
        self.store.set(b"k", b"v" * 10)
        self.assertEqual(self.store.usedMemory, 1 + 10 + KEY_OVERHEAD)
        self.store.set(b"k", b"v", 2000000)
        self.assertGreater(self.store.usedMemory, 2 + KEY_OVERHEAD)
        self.store.delete(b"k")
        self.assertEqual(self.store.usedMemory, 0)

    def test_observer(self):
        """Every change is reported to the observer, expiry as absolute ms."""
        recorder = Recorder()
        self.store.observer = recorder
        self.store.set(b"a", b"1", 2000000)
        self.store.pexpireAt(b"a", 3000000)
        self.store.persist(b"a")
        self.store.delete(b"a")
        self.store.flush()
        self.assertEqual(recorder.records, [
            ("set", b"a", b"1", 2000000), ("expire", b"a", 3000000),
            ("expire", b"a", None), ("delete", b"a"), ("flush",)])

    def test_keysAndItems(self):
        """keys and items leave out expired keys."""
        self.store.set(b"a", b"1")
        self.store.set(b"b", b"2", 1000001)
        self.clock.advance(1)
        self.assertEqual(self.store.keys(), [b"a"])
        self.assertEqual(list(self.store.items()), [(b"a", b"1", None)])

    def test_scanVisitsEveryKeyOnce(self):
        """A scan walk returns every key present throughout exactly once."""
        for i in range(100):
            self.store.set(b"k%d" % i, b"v")
        seen, cursor = [], 0
        while True:
            cursor, keys = self.store.scan(cursor, 7)
            seen += keys
            self.store.set(b"new%d" % len(seen), b"v")
            if cursor == 0:
                break
        original = [k for k in seen if k.startswith(b"k")]
        self.assertEqual(sorted(original), sorted(b"k%d" % i for i in range(100)))

    def test_scanStepIsBounded(self):
        """A scan step over 20,000 keys looks at the keys it returns, not at all of them."""
        for i in range(20_000):
            self.store.set(b"k%d" % i, b"v")
        hashed = []
        self.patch(store, "_scanHash", lambda key: hashed.append(key) or hash(key))
        cursor, keys = self.store.scan(0, 10)
        self.assertNotEqual(cursor, 0)
        self.assertTrue(10 <= len(keys) < 100, len(keys))
        self.assertEqual(hashed, [])

    def test_scanAfterChanges(self):
        """Deleted keys leave the walk, flushed stores and restored pickles scan whole."""
        for i in range(50):
            self.store.set(b"k%d" % i, b"v")
        for i in range(25):
            self.store.delete(b"k%d" % i)
        self.assertEqual(sorted(self.walk(self.store)), sorted(b"k%d" % i for i in range(25, 50)))
        restored = pickle.loads(pickle.dumps(self.store))
        restored.clock = self.clock
        self.assertEqual(sorted(self.walk(restored)), sorted(self.walk(self.store)))
        self.store.flush()
        self.assertEqual(self.store.scan(0, 10), (0, []))

    def walk(self, aStore):
        """
        Every key a full scan walk of C{aStore} returns.
        """
        seen, cursor = [], 0
        while True:
            cursor, keys = aStore.scan(cursor, 7)
            seen += keys
            if cursor == 0:
                return seen

    def test_badPolicy(self):
        """An unknown policy is refused."""
        self.assertRaises(ValueError, Store, None, 0, "random")


class EvictionTests(SynchronousTestCase):
    """
    Bounded memory and the eviction policies.
    """

    def fill(self, policy, volatile=True):
        clock = clockAt()
        size = 4 * (2 + 100 + KEY_OVERHEAD + (EXPIRY_OVERHEAD if volatile else 0))
        store = Store(clock, size, policy)
        for i in range(4):
            store.set(b"k%d" % i, b"x" * 100, 2000000 - i if volatile else None)
        return store

    def test_noeviction(self):
        """Under noeviction a write that does not fit raises OutOfMemory."""
        store = self.fill("noeviction")
        self.assertRaises(OutOfMemory, store.set, b"k9", b"x" * 100)
        self.assertEqual(len(store), 4)
        store.set(b"k0", b"small")
        store.delete(b"k1")
        store.set(b"k9", b"x" * 100)

    def test_noEvictWrite(self):
        """A write told not to evict raises OutOfMemory rather than evict, whatever the policy."""
        store = self.fill("allkeys-lru", volatile=False)
        self.assertRaises(OutOfMemory, store.set, b"k9", b"x" * 100, evict=False)
        self.assertEqual((len(store), store.evictedKeys), (4, 0))
        store.set(b"k0", b"x" * 50, evict=False)
        self.assertEqual(store.get(b"k0"), b"x" * 50)

    def test_allkeysLRU(self):
        """allkeys-lru evicts the least recently used key."""
        store = self.fill("allkeys-lru", volatile=False)
        store.get(b"k0")
        store.set(b"k9", b"x" * 100)
        self.assertNotIn(b"k1", store)
        self.assertIn(b"k0", store)
        self.assertEqual(store.evictedKeys, 1)

    def test_volatileLRU(self):
        """volatile-lru evicts only keys with an expiry, least recent first."""
        store = self.fill("volatile-lru")
        store.persist(b"k0")
        store.get(b"k1")
        store.set(b"k9", b"x" * 100, 2000000)
        self.assertIn(b"k0", store)
        self.assertIn(b"k1", store)
        self.assertNotIn(b"k2", store)

    def test_volatileLRUNothingToEvict(self):
        """volatile-lru with no volatile keys is out of memory."""
        store = self.fill("volatile-lru", volatile=False)
        self.assertRaises(OutOfMemory, store.set, b"k9", b"x" * 100)

    def test_volatileTTL(self):
        """volatile-ttl evicts the key expiring soonest."""
        store = self.fill("volatile-ttl")
        store.set(b"k9", b"x" * 100, 2000000)
        self.assertNotIn(b"k3", store)
        self.assertIn(b"k0", store)

    def test_volatileTTLAfterMoves(self):
        """volatile-ttl finds the soonest expiry after expiries moved either way."""
        store = self.fill("volatile-ttl")
        store.pexpireAt(b"k3", 2000100)
        store.pexpireAt(b"k0", 1500000)
        store.set(b"k9", b"x" * 100, 2000000)
        self.assertNotIn(b"k0", store)
        self.assertIn(b"k3", store)

    def test_evictionsObserved(self):
        """Evicted keys are reported as deletions."""
        store = self.fill("allkeys-lru", volatile=False)
        store.observer = recorder = Recorder()
        store.set(b"k9", b"x" * 100)
        self.assertEqual(recorder.records[0], ("delete", b"k0"))

    def test_overwriteOfOnlyKey(self):
        """Overwriting the only key with a value that fits never fails."""
        store = Store(clockAt(), 400, "allkeys-lru")
        store.set(b"k", b"x" * 100)
        store.set(b"k", b"y" * 150)
        self.assertEqual(store.get(b"k"), b"y" * 150)
        self.assertRaises(OutOfMemory, store.set, b"k", b"z" * 1000)


class PickleTests(SynchronousTestCase):
    """
    The store survives pickle and AOT round trips.
    """

    def test_roundTrip(self):
        """Keys, values, expiries and settings come back; the clock does not."""
        clock = clockAt()
        store = Store(clock, 10**6, "allkeys-lru")
        store.set(b"a", b"1")
        store.set(b"b", b"\x00\xff", 2000000)
        for restored in roundTrips(store):
            self.assertIsNone(restored.clock)
            restored.clock = clock
            self.assertEqual(sorted(restored.items()),
                             [(b"a", b"1", None), (b"b", b"\x00\xff", 2000000)])
            self.assertEqual((restored.maxmemory, restored.policy), (10**6, "allkeys-lru"))
            self.assertEqual(restored.usedMemory, store.usedMemory)

    def test_persistDataOff(self):
        """With persistData off, only the settings are pickled."""
        store = Store(clockAt())
        store.set(b"a", b"1")
        store.persistData = False
        for restored in roundTrips(store):
            self.assertEqual(len(restored), 0)
            self.assertFalse(restored.persistData)
