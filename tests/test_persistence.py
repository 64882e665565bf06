"""
Tests for L{services.persistence}: what every object of ours leaves out of
its pickle, and the reactor it finds on first use.
"""

import pickle
import subprocess
import sys

from twisted.internet.testing import MemoryReactor
from twisted.persisted import aot
from twisted.trial.unittest import SynchronousTestCase

from services.persistence import PersistentObject, PersistentService
from tests.support import SOURCE, environment


class Counter(PersistentObject):
    """
    Configuration (C{name}) beside run-time attributes: a timer left at
    L{None} and a list made again on load.
    """

    _volatile = ("timer", "seen")

    def __init__(self, name, reactor=None):
        self.name = name
        self._reactor = reactor
        self._volatileInit()

    def _volatileInit(self):
        PersistentObject._volatileInit(self)
        self.seen = []


class Watcher(PersistentService):
    """
    A service with a volatile handle.
    """

    _volatile = ("handle",)

    def __init__(self, name):
        self.setName(name)
        self._volatileInit()

    def startService(self):
        PersistentService.startService(self)
        self.handle = object()


def roundTrips(original):
    """
    C{original} back from a pickle and from AOT source.
    """
    return [pickle.loads(pickle.dumps(original)),
            aot.unjellyFromSource(aot.jellyToSource(original))]


class PersistentObjectTests(SynchronousTestCase):
    """
    A L{PersistentObject} pickles its configuration only.
    """

    def test_volatileLeftOut(self):
        """Volatile attributes are not pickled, and are made again on load."""
        original = Counter("c", MemoryReactor())
        original.timer = object()
        original.seen.append(1)
        self.assertEqual(set(original.__getstate__()), {"name"})
        for restored in roundTrips(original):
            self.assertEqual((restored.name, restored.timer, restored.seen), ("c", None, []))

    def test_reactorNotPickled(self):
        """The reactor given is used, and a loaded copy looks one up afresh."""
        reactor = MemoryReactor()
        original = Counter("c", reactor)
        self.assertIs(original._getReactor(), reactor)
        for restored in roundTrips(original):
            self.assertIsNone(restored._reactor)

    def test_globalReactorOnFirstUse(self):
        """Without one given, the global reactor is found on first use."""
        from twisted.internet import reactor

        counter = Counter("c")
        self.assertIsNone(counter._reactor)
        self.assertIs(counter._getReactor(), reactor)
        self.assertIs(counter._reactor, reactor)

    def test_serviceNotRunning(self):
        """A started service pickles stopped, without its volatile handle."""
        original = Watcher("w")
        original.startService()
        for restored in roundTrips(original):
            self.assertEqual((restored.name, restored.running, restored.handle), ("w", 0, None))


class ReactorImportTests(SynchronousTestCase):
    """
    No module of the package imports the reactor when it is imported.
    """

    def test_noReactorAtImport(self):
        """Importing every module of services and appserver leaves the reactor unimported."""
        script = (
            "import importlib, pkgutil, sys\n"
            "import appserver, services\n"
            "for package in (services, appserver):\n"
            "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
            "        importlib.import_module(info.name)\n"
            "        if 'twisted.internet.reactor' in sys.modules:\n"
            "            sys.exit(f'{info.name} imports the reactor')\n"
        )
        result = subprocess.run([sys.executable, "-c", script], cwd=SOURCE, env=environment(),
                                capture_output=True, text=True, timeout=60)
        self.assertEqual((result.returncode, result.stdout, result.stderr), (0, "", ""))
