"""
Tests for the bound on the embedded memory session store
(C{--session-max-memory}): least recently used sessions are evicted, and
the status page reports the store's use.
"""

import pickle

from twisted.internet import task
from twisted.trial.unittest import SynchronousTestCase

from appserver.sessions import MemorySessionStore, makeSessionsService, storeFromSpec
from appserver.sessions.signing import newSessionId
from appserver.tap import webapp
from appserver.web.status import serviceFigures
from services.sessionserver.store import EXPIRY_OVERHEAD, KEY_OVERHEAD
from tests.support import parseOptions

RECORD = b'{"created":1,"data":{"user":"alice"}}'
TIMEOUT = 1800


def cost(sessionId):
    """
    What one session with L{RECORD} costs the store, by its estimate.
    """
    return len(b"session:" + sessionId.encode()) + len(RECORD) + KEY_OVERHEAD + EXPIRY_OVERHEAD


class BoundTests(SynchronousTestCase):
    """
    A memory store with C{maxMemory} evicts the least recently used
    sessions to take a new one.
    """

    def setUp(self):
        self.clock = task.Clock()
        self.ids = [newSessionId() for _ in range(4)]
        self.store = MemorySessionStore(clock=self.clock, maxMemory=3 * cost(self.ids[0]))

    def save(self, sessionId):
        self.successResultOf(self.store.save(sessionId, RECORD, TIMEOUT))

    def load(self, sessionId):
        return self.successResultOf(self.store.load(sessionId, TIMEOUT))

    def test_evictsLeastRecentlyUsed(self):
        """The session read longest ago goes first; a session just read stays."""
        for sessionId in self.ids[:3]:
            self.save(sessionId)
        self.assertEqual(self.load(self.ids[0]), RECORD)
        self.save(self.ids[3])
        self.assertIsNone(self.load(self.ids[1]))
        for sessionId in [self.ids[0], self.ids[2], self.ids[3]]:
            self.assertEqual(self.load(sessionId), RECORD)
        self.assertEqual(self.store.figures()["evictedSessions"], 1)

    def test_bounded(self):
        """However many sessions are saved, the store stays under its bound."""
        for _ in range(1000):
            self.save(newSessionId())
        stats = self.store.figures()
        self.assertEqual(stats["sessions"], 3)
        self.assertLessEqual(stats["usedMemory"], stats["maxMemory"])
        self.assertEqual(stats["evictedSessions"], 997)

    def test_unbounded(self):
        """Without a bound (0) nothing is evicted."""
        store = MemorySessionStore(clock=self.clock)
        for _ in range(100):
            self.successResultOf(store.save(newSessionId(), RECORD, TIMEOUT))
        self.assertEqual(store.figures(), {"sessions": 100, "usedMemory": store.store.usedMemory,
                                         "maxMemory": 0, "evictedSessions": 0})

    def test_pickles(self):
        """The bound survives pickling with the sessions."""
        self.save(self.ids[0])
        restored = pickle.loads(pickle.dumps(self.store))
        self.assertEqual(restored.figures()["maxMemory"], 3 * cost(self.ids[0]))
        restored.store.clock = self.clock
        for sessionId in self.ids[1:]:
            self.successResultOf(restored.save(sessionId, RECORD, TIMEOUT))
        self.assertEqual(restored.figures()["sessions"], 3)


class WiringTests(SynchronousTestCase):
    """
    C{--session-max-memory} reaches the memory store, and the status page
    reports it.
    """

    def test_spec(self):
        """storeFromSpec gives the bound to a memory store."""
        self.assertEqual(storeFromSpec("memory", maxMemory=1000).store.maxmemory, 1000)

    def test_option(self):
        """The option defaults to 64 MiB, takes sizes, and reaches the store."""
        options = parseOptions(webapp.Options, [])
        self.assertEqual(options["session-max-memory"], 64 * 1024 * 1024)
        options = parseOptions(webapp.Options, ["--session-max-memory", "2mb"])
        sessions = webapp.makeService(options).getServiceNamed("sessions")
        self.assertEqual(sessions.store.store.maxmemory, 2 * 1024 * 1024)
        self.assertEqual(sessions.store.store.policy, "allkeys-lru")

    def test_status(self):
        """The status page reports the sessions, memory used, bound and evictions."""
        service = makeSessionsService("memory", maxMemory=5000, reactor=task.Clock())
        service.store.save(newSessionId(), RECORD, TIMEOUT)
        figures = serviceFigures(service)
        self.assertEqual(figures["store"], "memory")
        self.assertEqual((figures["sessions"], figures["maxMemory"], figures["evictedSessions"]),
                         (1, 5000, 0))
        self.assertGreater(figures["usedMemory"], 0)
