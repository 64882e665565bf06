"""
Tests for web-app's --qotd-port composing the installed qotd plugin through
Twisted's plugin system (appserver.web.demo.quoter.qotdService), and for the
qotd plugin's side of that composition (Options(quoter=...)).
"""

from twisted.application.service import IServiceMaker
from twisted.python import reflect, usage
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from appserver.config import LayeredOptions
from appserver.errors import CommandService
from appserver.tap import webapp
from appserver.web.demo import quoter
from qotd import tap as qotdtap
from qotd.protocol import QOTDFactory
from qotd.quoters import StaticQuoter
from services.ports import ListeningService
from tests.support import assertPersists, parseOptions


@implementer(IServiceMaker)
class RecordingMaker:
    """
    A C{qotd} plugin of a test's own: it records the options it is given.
    """

    tapname = "qotd"
    name = description = "a recording QOTD plugin"

    def __init__(self):
        self.made = []

    def options(self, quoter=None):
        return qotdtap.Options(quoter)

    def makeService(self, options):
        self.made.append(options)
        return qotdtap.makeService(options)


class LeftBehindMaker(RecordingMaker):
    """
    A C{qotd} drop-in naming a module that cannot be imported.
    """

    def __init__(self, error):
        RecordingMaker.__init__(self)
        self.error = error

    @property
    def options(self):
        raise self.error


class ComposedQOTDTests(SynchronousTestCase):
    """
    web-app finds the qotd plugin as twistd does and composes it.
    """

    def plugins(self, *makers):
        self.patch(quoter, "getPlugins", lambda interface: iter(makers))

    def test_notInstalled(self):
        """Without a qotd plugin, --qotd-port is refused in one sentence."""
        self.plugins()
        error = self.assertRaises(usage.UsageError, parseOptions, webapp.Options,
                                  ["--qotd-port", "8007"])
        self.assertEqual(str(error), "--qotd-port needs the qotd plugin (twistd qotd), "
                                     "which is not installed.")

    def test_dropInLeftBehind(self):
        """A qotd drop-in whose module is gone counts as no plugin."""
        for error in (ImportError("No module named 'qotd'"),
                      reflect.ObjectNotFound("'qotd.tap' does not name an object")):
            self.plugins(LeftBehindMaker(error))
            self.assertIsNone(quoter.qotdMaker())
            self.assertRaises(usage.UsageError, parseOptions, webapp.Options,
                              ["--qotd-port", "8007"])

    def test_notInstalledWithoutQOTD(self):
        """Without --qotd-port, a missing qotd plugin does not matter."""
        self.plugins()
        self.assertEqual(parseOptions(webapp.Options, [])["qotd-port"], [])

    def test_serviceNeedsPlugin(self):
        """Making the QOTD service without the plugin is an error naming it."""
        self.plugins()
        error = self.assertRaises(ValueError, quoter.qotdService, None, ["tcp:0"])
        self.assertEqual(str(error), "no qotd plugin is installed")

    def test_installedPluginMakesIt(self):
        """The installed plugin named qotd makes the service, given the demo's quoter."""
        maker = RecordingMaker()
        self.plugins(maker)
        tree = webapp.makeService(parseOptions(webapp.Options, ["--qotd-port", "0"]))
        [options] = maker.made
        self.assertIsInstance(options.quoter(), quoter.DatabaseQuoter)
        self.assertIs(options.quoter().db, tree.getServiceNamed("db"))
        self.assertEqual(options["port"], ["tcp:0"])

    def test_otherCommandsSkipped(self):
        """Plugins of other tap names are not asked."""
        other = RecordingMaker()
        other.tapname = "myqotd"
        self.plugins(other)
        self.assertIsNone(quoter.qotdMaker())

    def test_noEnvironmentOfItsOwn(self):
        """The composed plugin's options read no APPSERVER_* variable or config file."""
        self.patch(LayeredOptions, "environ", {
            "APPSERVER_QOTD_FILE": "/nonexistent/fortunes", "APPSERVER_QOTD_PORT": "9",
            "APPSERVER_CONFIG": "/nonexistent/config.yaml"})
        child = quoter.qotdService("db", ["tcp:0", "tcp:1"])
        self.assertEqual([listener.description for listener in child], ["tcp:0", "tcp:1"])

    def test_realPlugin(self):
        """The installed qotd plugin makes a part of the tree, not a command's root."""
        child = quoter.qotdService("db", ["tcp:0"])
        self.assertEqual(child.name, "qotd")
        self.assertNotIsInstance(child, CommandService)
        [listener] = child
        self.assertIsInstance(listener.factory, QOTDFactory)
        self.assertEqual(listener.factory.quoter.db, "db")


class QOTDOptionsQuoterTests(SynchronousTestCase):
    """
    The qotd plugin's composition point: Options(quoter=...).
    """

    def test_givenQuoter(self):
        """A given quoter is served instead of --static, in a plain multi-service."""
        given = StaticQuoter("Given.")
        options = qotdtap.Options(given)
        options.environ = {}
        options.parseOptions(["--port", "tcp:9001", "--static", "Not this."])
        service = qotdtap.makeService(options)
        self.assertNotIsInstance(service, CommandService)
        self.assertEqual(service.name, "qotd")
        self.assertEqual([type(child) for child in service], [ListeningService])
        self.assertIs(list(service)[0].factory.quoter, given)
        assertPersists(self, service)

    def test_ownQuoter(self):
        """Without a given quoter, the command's own root serves --static."""
        service = qotdtap.makeService(parseOptions(qotdtap.Options, ["--static", "Own."]))
        self.assertIsInstance(service, CommandService)
        self.assertEqual(list(service)[0].factory.quoter.getQuote(), "Own.")

