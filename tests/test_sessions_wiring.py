"""
Tests for the split between the sessions service, which runs the store and
manager it is given, and its wiring (makeSessionsService, storeListener),
which makes them from a spec.
"""

from twisted.internet import task
from twisted.trial.unittest import SynchronousTestCase

from appserver.sessions import MemorySessionStore, SessionManager, SessionsService
from appserver.sessions.service import makeSessionsService, storeListener
from appserver.sessions.stores.files import FileSessionStore
from services.ports import ListeningService
from tests.support import assertPersists, tempDir


class SessionsServiceTakesItsPartsTests(SynchronousTestCase):
    """
    L{SessionsService} keeps what it is given and builds nothing.
    """

    def test_givenParts(self):
        """The given store and manager are the service's, and it has no children."""
        store = MemorySessionStore(clock=task.Clock())
        manager = SessionManager(store)
        service = SessionsService(store, manager, "memory", secrets=["s" * 32])
        self.assertIs(service.store, store)
        self.assertIs(service.manager, manager)
        self.assertEqual((service.name, list(service)), ("sessions", []))
        assertPersists(self, service)


class WiringTests(SynchronousTestCase):
    """
    L{makeSessionsService} and L{storeListener} make the parts.
    """

    def test_made(self):
        """The spec's store, a manager over it with the given settings, no listener."""
        service = makeSessionsService("memory", idleTimeout=60, cookieName="s",
                                      secretPath=tempDir(self) + "/secret")
        self.assertIsInstance(service.store, MemorySessionStore)
        self.assertIs(service.manager.store, service.store)
        self.assertEqual((service.manager.idleTimeout, service.spec), (60, "memory"))
        self.assertEqual(list(service), [])

    def test_port(self):
        """With a port, one listener serves the service's own memory store."""
        service = makeSessionsService(port="tcp:0", portPassword="pw")
        [listener] = service
        self.assertIsInstance(listener, ListeningService)
        self.assertIs(listener.factory.server.store, service.store.store)

    def test_listenerNeedsMemoryStore(self):
        """Only the memory store can be served on a port."""
        store = FileSessionStore(tempDir(self))
        error = self.assertRaises(ValueError, storeListener, store, "tcp:0")
        self.assertEqual(str(error), "a session port serves the memory store only "
                                     "(use --sessions memory)")
