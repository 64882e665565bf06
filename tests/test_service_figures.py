"""
Tests for L{services.figures.IServiceFigures}: each service with figures
provides it, and the status page asks through it only.
"""

from twisted.application.service import Service
from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactor
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from appserver.sessions.service import makeSessionsService
from appserver.sessions.stores.memory import MemorySessionStore
from appserver.web.appdir import AppService
from appserver.web.resource import AppResource
from appserver.web.status import serviceFigures
from services.db import DatabaseService
from services.figures import IServiceFigures
from services.ports import ListeningService
from services.reloader import ReloaderService
from services.threadpool import ThreadPoolService
from services.web import WebService
from tests.support import tempDir


class ImplementerTests(SynchronousTestCase):
    """
    Every service that has figures provides L{IServiceFigures}.
    """

    def implementers(self):
        directory = tempDir(self)
        return [
            WebService(None, ["tcp:0"], reactor=MemoryReactor()),
            ListeningService("tcp:0", Factory(), MemoryReactor()),
            ThreadPoolService(),
            ReloaderService(directory, lambda paths: None, clock=Clock()),
            DatabaseService("sqlite://:memory:"),
            AppService(directory, AppResource()),
            makeSessionsService(secretPath=directory + "/secret"),
            MemorySessionStore(clock=Clock()),
        ]

    def test_verifyObject(self):
        """
        Each implementer provides the interface, and its figures are a dict.
        """
        for implementer in self.implementers():
            self.assertTrue(verifyObject(IServiceFigures, implementer), implementer)
            self.assertIsInstance(implementer.figures(), dict)

    def test_sessionsAskTheirStore(self):
        """
        The sessions service reports its store's figures through the
        interface, and its spec.
        """
        service = makeSessionsService(secretPath=tempDir(self) + "/secret")
        self.assertEqual(serviceFigures(service), {
            "sessions": 0, "usedMemory": 0, "maxMemory": 0, "evictedSessions": 0,
            "store": "memory"})

    def test_listeningPort(self):
        """
        A listening service reports its bound address while listening only.
        """
        service = ListeningService("tcp:8007:interface=127.0.0.1", Factory(), MemoryReactor())
        self.assertEqual(service.figures(), {})
        service.startService()
        self.assertEqual(service.figures(), {"ports": ["tcp:0.0.0.0:8007"],
                                             "configuredPorts": ["tcp:8007:interface=127.0.0.1"]})

    def test_threadPool(self):
        """
        A thread pool reports its threads while running only.
        """
        service = ThreadPoolService(maxThreads=3)
        self.assertEqual(service.figures(), {})
        service.startService()
        self.addCleanup(service.stopService)
        self.assertEqual(service.figures(), {"threads": 0, "busy": 0, "maxThreads": 3})


class LookalikeService(Service):
    """
    A service with the attributes and methods the status page once probed
    for, but which does not provide L{IServiceFigures}.
    """

    listeners = []
    ports = ["tcp:1"]
    threadpool = None

    def stats(self):
        """Not asked for."""
        return {"stats": 1}

    def status(self):
        """Not asked for."""
        return {"status": 1}


class StatusPageTests(SynchronousTestCase):
    """
    The status page asks a service only through L{IServiceFigures}.
    """

    def test_onlyThroughInterface(self):
        """
        A service not providing the interface shows no figures, whatever
        methods or attributes it has.
        """
        self.assertEqual(serviceFigures(LookalikeService()), {})
