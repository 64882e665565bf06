"""
Tests for the limits C{twistd web-app} puts on hostile load: their options
(defaults, layers, checks), how they reach the service tree, and their
change at run time through C{app.yaml}.
"""

import os

from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from appserver.tap import webapp
from appserver.web import reloading
from appserver.web.status import serviceFigures
from services.web import WebService
from tests.support import parseOptions, tempDir
from tests.test_webapp_tap import appDir

LIMIT_OPTIONS = {"max-body": "maxBody", "timeout": "timeout", "header-timeout": "headerTimeout",
                 "body-timeout": "bodyTimeout", "max-connections": "maxConnections"}


def parse(args, environ=None):
    return parseOptions(webapp.Options, args, environ)


def webLimits(options):
    return webapp.makeService(options).getServiceNamed("web").limits()


class LimitOptionsTests(SynchronousTestCase):
    """
    The options that bound slow and numerous connections.
    """

    def test_defaults(self):
        """The defaults bound a head to 20 s, a body to 120 s and connections to 1000."""
        options = parse([])
        self.assertEqual((options["header-timeout"], options["body-timeout"],
                          options["max-connections"]), (20, 120, 1000))
        self.assertLessEqual(options["header-timeout"], 30)
        self.assertEqual(webLimits(options), WebService(None, []).limits())

    def test_layers(self):
        """The command line, the environment and a config file all set them."""
        path = os.path.join(tempDir(self), "c.yaml")
        with open(path, "w") as f:
            f.write("max-connections: 50\n")
        options = parse(["--config", path, "--header-timeout", "5"],
                        {"APPSERVER_BODY_TIMEOUT": "7"})
        self.assertEqual(webLimits(options), {"maxBody": 10 * 1024 * 1024, "timeout": 60,
                                              "headerTimeout": 5, "bodyTimeout": 7,
                                              "maxConnections": 50})

    def test_bad(self):
        """Zero, negative or non-numeric values are refused."""
        for option in ["header-timeout", "body-timeout", "max-connections"]:
            for value in ["0", "-1", "soon"]:
                self.assertRaises(usage.UsageError, parse, [f"--{option}", value])


class LimitReloadTests(SynchronousTestCase):
    """
    The limits are applied at run time when C{app.yaml} changes them.
    """

    def test_runtime(self):
        """Every limit is a run-time option."""
        self.assertTrue(set(LIMIT_OPTIONS) <= set(reloading.RUNTIME))

    def test_applied(self):
        """An app.yaml change reaches the web service and its running site."""
        root = appDir(self, yaml="header-timeout: 9\n")
        service = webapp.makeService(parse(["--app", root, "--reload",
                                            "--db", "sqlite://:memory:"]))
        web = service.getServiceNamed("web")
        web.site = web.buildSite()
        self.assertEqual(web.site.headerTimeout, 9)
        with open(os.path.join(root, "app.yaml"), "w") as f:
            f.write("header-timeout: 3\nbody-timeout: 4\nmax-connections: 5\ntimeout: 6\n"
                    "max-body: 7\n")
        result = service.getServiceNamed("reloader").onChange(frozenset({"app.yaml"}))
        self.assertEqual(sorted(result["applied"]), sorted(LIMIT_OPTIONS))
        self.assertEqual(web.limits(), {"maxBody": 7, "timeout": 6, "headerTimeout": 3,
                                        "bodyTimeout": 4, "maxConnections": 5})
        self.assertEqual((web.site.maxBody, web.site.timeOut, web.site.headerTimeout,
                          web.site.bodyTimeout, web.site.maxConnections), (7, 6, 3, 4, 5))


class StatusTests(SynchronousTestCase):
    """
    The status page reports the web service's connections.
    """

    def test_connections(self):
        """Open connections and those shed for --max-connections are reported while running."""
        web = WebService(None, [], maxConnections=1, reactor=MemoryReactorClock())
        self.assertNotIn("openConnections", serviceFigures(web))
        web.site = web.buildSite()
        web.site.buildProtocol(None).makeConnection(StringTransport())
        web.site.buildProtocol(None).makeConnection(StringTransport())
        figures = serviceFigures(web)
        self.assertEqual((figures["openConnections"], figures["shedConnections"]), (1, 1))
