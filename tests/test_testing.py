"""
Tests for L{appserver.testing}, the persistence helpers plugin authors use.
"""

import threading

from twisted.application import service
from twisted.trial.unittest import SynchronousTestCase

from appserver.testing import assertPersists, roundTrips
from services.persistence import PersistentService


class Configured(PersistentService):
    """
    A service keeping configuration and leaving out a volatile lock.
    """

    _volatile = ("lock",)

    def __init__(self, greeting):
        self.greeting = greeting
        self.lock = None

    def startService(self):
        self.lock = threading.Lock()
        PersistentService.startService(self)


class Leaky(service.Service):
    """
    A service that keeps a lock, which neither pickles nor writes as source.
    """

    def __init__(self):
        self.lock = threading.Lock()


class PersistenceHelperTests(SynchronousTestCase):
    """
    roundTrips and assertPersists report what twistd would do to a service.
    """

    def test_roundTrips(self):
        """A service comes back from the pickle and from the AOT source, as copies."""
        original = Configured("hello")
        restored = roundTrips(original)
        self.assertEqual([r.greeting for r in restored], ["hello", "hello"])
        self.assertNotIn(original, restored)

    def test_assertPersists(self):
        """A started persistable service passes, stopped, with the check run on each copy."""
        original = Configured("hello")
        original.startService()
        greetings = []
        assertPersists(self, original, lambda restored: greetings.append(restored.greeting))
        self.assertEqual(greetings, ["hello", "hello"])

    def test_checkFails(self):
        """A failing check fails the assertion."""
        self.assertRaises(self.failureException, assertPersists, self, Configured("hello"),
                          lambda restored: self.assertEqual(restored.greeting, "bye"))

    def test_unpicklable(self):
        """A service holding what cannot be saved fails."""
        self.assertRaises(TypeError, assertPersists, self, Leaky())
