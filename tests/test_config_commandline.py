"""
Tests for appserver.config.commandLineValues, the one reading of the command
line made before the configuration layers apply (which --config file, which
--app, which options app.yaml may not change), and for its agreement with
the parse proper.
"""

import os

from twisted.trial.unittest import SynchronousTestCase

from appserver.config import commandLineValues
from appserver.tap import sessionserver, webapp
from tests.support import parseOptions, tempDir
from tests.test_webapp_tap import appDir


def writeConfig(testCase, name, text):
    path = os.path.join(tempDir(testCase), name)
    with open(path, "w") as f:
        f.write(text)
    return path


class CommandLineValuesTests(SynchronousTestCase):
    """
    L{commandLineValues} reads an argument list as getopt and the options'
    own declarations do.
    """

    def values(self, argv):
        return commandLineValues(webapp.Options(), argv)

    def test_forms(self):
        """--name=value, --name value, -xVALUE, -x VALUE and flags are all read by long name."""
        self.assertEqual(self.values(["--config=c.yaml", "--db", "sqlite://", "-adir",
                                      "-p", "9000", "--debug"]),
                         {"config": "c.yaml", "db": "sqlite://", "app": "dir", "port": "9000",
                          "debug": ""})

    def test_lastWins(self):
        """An option given twice reads as its last value, as the parse keeps it."""
        self.assertEqual(self.values(["--app", "one", "-a", "two"]), {"app": "two"})

    def test_abbreviation(self):
        """An unambiguous abbreviation counts as the option it names, as getopt reads it."""
        self.assertEqual(self.values(["--conf", "c.yaml", "--db-max=4"]),
                         {"config": "c.yaml", "db-max-threads": "4"})

    def test_valueIsNoOption(self):
        """A value that looks like an option is the value, not an option."""
        self.assertEqual(self.values(["--static", "--app"]), {"static": "--app"})

    def test_endOfOptions(self):
        """Nothing after -- is an option."""
        self.assertEqual(self.values(["--debug", "--", "--app", "x"]), {"debug": ""})

    def test_unparseable(self):
        """An argument list getopt refuses reads as nothing (the parse proper reports it)."""
        self.assertEqual(self.values(["--app", "x", "--no-such-option"]), {})
        self.assertEqual(self.values(["--app"]), {})

    def test_otherCommand(self):
        """Each command's own options are read: session-server's --journal and -p."""
        self.assertEqual(commandLineValues(sessionserver.Options(), ["--journal=j", "-p", "1"]),
                         {"journal": "j", "port": "1"})


class LayersFollowCommandLineTests(SynchronousTestCase):
    """
    The configuration layers come from the options the parse itself keeps.
    """

    def test_lastConfigLoaded(self):
        """Of two --config files, the one the options keep is the one loaded."""
        first = writeConfig(self, "first.yaml", "db-max-threads: 4\n")
        second = writeConfig(self, "second.yaml", "db-max-threads: 6\n")
        options = parseOptions(webapp.Options, ["--config", first, "--config", second])
        self.assertEqual(options["config"], second)
        self.assertEqual(options["db-max-threads"], 6)
        self.assertEqual(options.sources["db-max-threads"], f"config file {second}")

    def test_abbreviatedConfigLoaded(self):
        """--conf FILE, which the parse accepts as --config, loads the file."""
        path = writeConfig(self, "c.yaml", "db-max-threads: 4\n")
        options = parseOptions(webapp.Options, ["--conf", path])
        self.assertEqual((options["config"], options["db-max-threads"]), (path, 4))

    def test_configPath(self):
        """configPath is the command line's file, else the variable's, else None."""
        path = writeConfig(self, "c.yaml", "")
        environ = {"APPSERVER_CONFIG": path}
        self.assertEqual(parseOptions(webapp.Options, [], environ).configPath(), path)
        self.assertIsNone(parseOptions(webapp.Options, []).configPath())

    def test_lastAppConfigRead(self):
        """Of two --app directories, the app.yaml read is the served one's."""
        first = appDir(self, yaml="db-max-threads: 4\n")
        second = appDir(self, yaml="db-max-threads: 6\n")
        options = parseOptions(webapp.Options, ["--app", first, "-a", second])
        self.assertEqual((options["app"], options["db-max-threads"]), (second, 6))

    def test_abbreviationPinned(self):
        """An option given abbreviated on the command line is pinned against app.yaml."""
        root = appDir(self, yaml="db-max-threads: 4\n")
        options = parseOptions(webapp.Options, ["--app", root, "--db-max=6"])
        self.assertIn("db-max-threads", options.pinnedKeys())
        self.assertEqual(options["db-max-threads"], 6)
