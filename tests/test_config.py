"""
Tests for L{appserver.config}: layered options and their error messages.
"""

import os

from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from appserver.config import LayeredOptions, byteSize, choice, positiveInt
from appserver.ports import parsePort
from tests.support import parseOptions, tempDir


class SampleOptions(LayeredOptions):
    optRepeatable = [["port", "p", ["8080"], "Ports.", parsePort]]
    optParameters = [
        ["max-body", None, 1024, "Body limit.", byteSize],
        ["threads", None, 3, "Threads.", positiveInt],
        ["name", "n", "demo", "A name."],
    ]
    optFlags = [["debug", "d", "Debug."]]


def parse(argv=(), environ=None):
    return parseOptions(SampleOptions, argv, environ)


class LayeringTests(SynchronousTestCase):
    """
    Defaults < --config YAML < APPSERVER_* environment < command line.
    """

    def writeConfig(self, text):
        path = os.path.join(tempDir(self), "app.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_defaults(self):
        """Without any layer, the declared defaults apply."""
        options = parse()
        self.assertEqual(options["port"], ["tcp:8080"])
        self.assertEqual(options["max-body"], 1024)
        self.assertEqual(options["debug"], 0)
        self.assertIsNone(options["config"])

    def test_configFile(self):
        """Keys of the --config file set the options of the same long name."""
        path = self.writeConfig("port: [8001, 'tcp:8002']\nmax-body: 2mb\ndebug: true\n")
        options = parse(["--config", path])
        self.assertEqual(options["port"], ["tcp:8001", "tcp:8002"])
        self.assertEqual(options["max-body"], 2 * 1024 * 1024)
        self.assertEqual(options["debug"], 1)
        self.assertEqual(options.sources["port"], f"config file {path}")

    def test_configFromEnvironment(self):
        """APPSERVER_CONFIG names the config file when --config is absent."""
        path = self.writeConfig("name: fromfile\n")
        self.assertEqual(parse(environ={"APPSERVER_CONFIG": path})["name"], "fromfile")

    def test_environmentOverridesFile(self):
        """APPSERVER_<OPTION> beats the file; dashes become underscores."""
        path = self.writeConfig("name: fromfile\nmax-body: 10\n")
        options = parse(["--config=" + path],
                        {"APPSERVER_NAME": "fromenv", "APPSERVER_MAX_BODY": "1kb",
                         "APPSERVER_PORT": "9001, 9002", "APPSERVER_DEBUG": "yes"})
        self.assertEqual(options["name"], "fromenv")
        self.assertEqual(options["max-body"], 1024)
        self.assertEqual(options["port"], ["tcp:9001", "tcp:9002"])
        self.assertEqual(options["debug"], 1)

    def test_commandLineWins(self):
        """The command line beats every layer; a repeated option replaces the
        lower layers' list instead of adding to it."""
        path = self.writeConfig("name: fromfile\nport: [1, 2]\n")
        options = parse(["--config", path, "-n", "cli", "-p", "7", "--port", "8"],
                        {"APPSERVER_NAME": "fromenv", "APPSERVER_PORT": "3"})
        self.assertEqual(options["name"], "cli")
        self.assertEqual(options["port"], ["tcp:7", "tcp:8"])

    def test_unknownEnvironmentIgnored(self):
        """Variables naming options of other commands are not errors."""
        self.assertEqual(parse(environ={"APPSERVER_QOTD_PORT": "1"})["name"], "demo")


class ErrorTests(SynchronousTestCase):
    """
    Every configuration mistake is one UsageError sentence naming the culprit.
    """

    def assertUsageError(self, argv, *fragments, environ=None):
        error = self.assertRaises(usage.UsageError, parse, argv, environ)
        for fragment in fragments:
            self.assertIn(fragment, str(error))
        return str(error)

    def configFile(self, text):
        path = os.path.join(tempDir(self), "c.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_unknownKey(self):
        """An unknown key names the key and the file."""
        path = self.configFile("colour: blue\n")
        self.assertUsageError(["--config", path], "'colour'", path)

    def test_yamlSyntaxError(self):
        """A YAML syntax error gives the line and column."""
        path = self.configFile("name: ok\nport: [1, 2\n")
        self.assertUsageError(["--config", path], path, "line 3", "column 1")

    def test_notAMapping(self):
        """A file that is not a mapping is refused."""
        path = self.configFile("- 1\n- 2\n")
        self.assertUsageError(["--config", path], path, "mapping")

    def test_wrongType(self):
        """A value of the wrong type names the option and the file."""
        path = self.configFile("threads: many\n")
        self.assertUsageError(["--config", path], "'threads'", path)
        path = self.configFile("name: [a, b]\n")
        self.assertUsageError(["--config", path], "'name'", "single value")
        path = self.configFile("debug: maybe\n")
        self.assertUsageError(["--config", path], "'debug'", "true or false")

    def test_wrongTypeInEnvironment(self):
        """A bad environment value names the option and the environment."""
        self.assertUsageError([], "'max-body'", "environment",
                              environ={"APPSERVER_MAX_BODY": "huge"})

    def test_missingFile(self):
        """A missing file names the path."""
        path = os.path.join(tempDir(self), "absent.yaml")
        self.assertUsageError(["--config", path], path, "Cannot read")

    def test_unreadableFile(self):
        """A directory given as the file names the path."""
        path = tempDir(self)
        self.assertUsageError(["--config", path], path)

    def test_badCommandLineValue(self):
        """A bad repeatable value on the command line names the option."""
        self.assertUsageError(["--port", "nonsense:1"], "--port", "nonsense:1")

    def test_coercers(self):
        """Sizes and positive integers refuse what they cannot read."""
        self.assertEqual(byteSize("1gb"), 1024**3)
        self.assertEqual(byteSize(" 512KB "), 512 * 1024)
        self.assertRaises(ValueError, byteSize, "12 parsecs")
        self.assertRaises(ValueError, positiveInt, "0")

    def test_choice(self):
        """A choice accepts its values in any case and refuses others by name."""
        fsync = choice("always", "no")
        self.assertEqual(fsync(" Always "), "always")
        error = self.assertRaises(ValueError, fsync, "sometimes")
        self.assertEqual(str(error), "'sometimes' is not one of always, no")
        self.assertEqual(fsync.coerceDoc, "One of always, no.")
