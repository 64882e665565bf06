"""
Test helpers for plugin authors: every service of a tap plugin must survive
the ways twistd persists a whole application, a pickle (C{.tap},
C{-shutdown.tap}) and AOT source (C{.tas}).

With C{twisted.trial}::

    from twisted.trial.unittest import SynchronousTestCase

    from appserver.testing import assertPersists

    class PersistenceTests(SynchronousTestCase):
        def test_persists(self):
            assertPersists(self, makeService(options),
                           lambda restored: self.assertEqual(restored.name, "mine"))
"""

import pickle
import unittest
from collections.abc import Callable
from typing import Any

from twisted.application.service import IService
from twisted.persisted import aot

__all__ = ["roundTrips", "assertPersists"]


def roundTrips(service: IService) -> list[Any]:
    """
    Return C{service} after a pickle round trip and after an AOT source
    round trip, as C{[fromPickle, fromSource]}.
    """
    pickled = pickle.loads(pickle.dumps(service, protocol=pickle.HIGHEST_PROTOCOL))
    source = aot.unjellyFromSource(aot.jellyToSource(service))
    return [pickled, source]


def assertPersists(testCase: unittest.TestCase, service: IService,
                   check: Callable[[Any], object] = lambda restored: None) -> None:
    """
    Assert that C{service} pickles and round-trips through AOT source, comes
    back stopped and of the same class, and passes C{check(restored)}.

    @param testCase: the L{twisted.trial.unittest.SynchronousTestCase} (or
        L{unittest.TestCase}) whose assertions report a failure.
    """
    for restored in roundTrips(service):
        testCase.assertIs(type(restored), type(service))
        testCase.assertFalse(restored.running)
        check(restored)
