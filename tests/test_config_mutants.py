"""
Tests for L{appserver.config} that pin behaviours mutation testing found
no test noticing (docs/mutation.md).
"""

import os

from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from appserver.config import (
    LayeredOptions, byteSize, choice, commandLineValues, nonNegativeInt, positiveInt,
)
from tests.support import parseOptions, tempDir


class FlagOptions(LayeredOptions):
    command = "sample-app"
    optParameters = [["name", "n", "demo", "A name."]]
    optFlags = [["debug", "d", "Debug."]]
    optRepeatable = [["port", "p", ["8080"], "Ports."]]


class ConfigPathTests(SynchronousTestCase):
    """
    The configuration file is found however the command line names it.
    """

    def writeConfig(self, text):
        path = os.path.join(tempDir(self), "app.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_configWithEquals(self):
        """--config=PATH loads the file as --config PATH does."""
        path = self.writeConfig("name: fromfile\n")
        options = parseOptions(FlagOptions, ["--config=" + path])
        self.assertEqual(options["name"], "fromfile")
        self.assertEqual(options.sources["name"], f"config file {path}")

    def test_configAfterOtherOptions(self):
        """--config is found after other options, and a --config at the very end
        without a value is left to the command-line parser."""
        path = self.writeConfig("name: fromfile\n")
        self.assertEqual(parseOptions(FlagOptions, ["-d", "--config", path])["name"], "fromfile")
        self.assertRaises(usage.UsageError, parseOptions, FlagOptions, ["-d", "--config"])

    def test_configAfterDoubleDash(self):
        """A --config after -- is an argument, not the configuration file."""
        path = self.writeConfig("name: fromfile\n")
        options = FlagOptions()
        options.environ = {}
        options.parseArgs = lambda *args: None
        options.parseOptions(["--", "--config", path])
        self.assertEqual(options["name"], "demo")
        self.assertIsNone(options["config"])

    def test_emptyFile(self):
        """An empty configuration file sets nothing."""
        path = self.writeConfig("")
        options = parseOptions(FlagOptions, ["--config", path])
        self.assertEqual(options["name"], "demo")
        self.assertEqual(options.sources, {})


class FlagTests(SynchronousTestCase):
    """
    A flag can be turned off as well as on by the layers below the command line.
    """

    def test_falseFromYAML(self):
        """A flag set to false, no or 0 in the file (bool, string or number) is off."""
        path = os.path.join(tempDir(self), "app.yaml")
        for text in ("debug: false\n", "debug: 'no'\n", "debug: 0\n", "debug: 'off'\n"):
            with open(path, "w") as f:
                f.write(text)
            options = parseOptions(FlagOptions, ["--config", path])
            self.assertIs(options["debug"], 0, text)

    def test_falseFromEnvironmentBeatsFile(self):
        """APPSERVER_DEBUG=false/no/0/off/empty turns off a flag the file turned on."""
        path = os.path.join(tempDir(self), "app.yaml")
        with open(path, "w") as f:
            f.write("debug: true\n")
        for value in ("false", "No", " 0 ", "off", ""):
            options = parseOptions(FlagOptions, ["--config", path], {"APPSERVER_DEBUG": value})
            self.assertIs(options["debug"], 0, value)

    def test_trueSpellings(self):
        """APPSERVER_DEBUG=1/true/yes/on (any case) turns a flag on."""
        for value in ("1", "TRUE", " yes", "On"):
            self.assertIs(parseOptions(FlagOptions, [], {"APPSERVER_DEBUG": value})["debug"], 1)


class ValueTests(SynchronousTestCase):
    """
    The coerce functions read every spelling they document.
    """

    def test_sizeUnits(self):
        """Every size unit multiplies by its power of 1024, in any case."""
        self.assertEqual(byteSize("7"), 7)
        self.assertEqual(byteSize(7), 7)
        self.assertEqual(byteSize("7b"), 7)
        self.assertEqual(byteSize("3k"), 3 * 1024)
        self.assertEqual(byteSize("3kb"), 3 * 1024)
        self.assertEqual(byteSize("5m"), 5 * 1024**2)
        self.assertEqual(byteSize("5MB"), 5 * 1024**2)
        self.assertEqual(byteSize("2g"), 2 * 1024**3)
        self.assertEqual(byteSize("2gb"), 2 * 1024**3)

    def test_sizeRefusals(self):
        """A unit without digits, an unknown unit or a negative size is refused."""
        for value in ("mb", "5bk", "5kbb", "-5", "5.5mb", "", None):
            self.assertRaises(ValueError, byteSize, value)

    def test_integerBounds(self):
        """positiveInt takes 1 and refuses 0; nonNegativeInt takes 0 and refuses -1;
        neither takes what is not an integer."""
        self.assertEqual(positiveInt("1"), 1)
        self.assertEqual(positiveInt(12), 12)
        self.assertRaises(ValueError, positiveInt, "0")
        self.assertEqual(nonNegativeInt(" 0"), 0)
        self.assertRaises(ValueError, nonNegativeInt, "-1")
        for bad in (None, "1.5", "x"):
            self.assertRaises(ValueError, positiveInt, bad)

    def test_choiceAnyValue(self):
        """A choice reads a non-string value through its text."""
        self.assertEqual(choice("1", "2")(2), "2")


class LayerValueTests(SynchronousTestCase):
    """
    Values from the layers are read as the command line reads them.
    """

    def test_listFromYAMLScalar(self):
        """A single YAML value for a repeatable option is a one-item list."""
        path = os.path.join(tempDir(self), "app.yaml")
        with open(path, "w") as f:
            f.write("port: 9000\n")
        self.assertEqual(parseOptions(FlagOptions, ["--config", path])["port"], ["9000"])

    def test_listFromEnvironmentSkipsBlanks(self):
        """A comma-separated variable drops blank items and surrounding spaces."""
        options = parseOptions(FlagOptions, [], {"APPSERVER_PORT": " a, ,b ,"})
        self.assertEqual(options["port"], ["a", "b"])

    def test_numberForText(self):
        """A YAML number for a text option is its text; a YAML bool is refused."""
        path = os.path.join(tempDir(self), "app.yaml")
        with open(path, "w") as f:
            f.write("name: 42\n")
        self.assertEqual(parseOptions(FlagOptions, ["--config", path])["name"], "42")
        with open(path, "w") as f:
            f.write("name: true\n")
        error = self.assertRaises(usage.UsageError, parseOptions, FlagOptions, ["--config", path])
        self.assertIn("single value", str(error))


class DeclarationTests(SynchronousTestCase):
    """
    What declaring a LayeredOptions subclass gives it (the class is made in
    the test, so that the declaration itself is what is tested).
    """

    def test_repeatableOption(self):
        """A repeatable row gives --long and -short handlers, coerced defaults and values,
        its source and its help text."""
        class Options(LayeredOptions):
            optRepeatable = [["listen-on", "l", ["a"], "Where.", str.upper]]

        options = Options()
        options.environ = {}
        self.assertEqual(options["listen-on"], ["A"])
        options.parseOptions(["--listen-on", "x", "-l", "y"])
        self.assertEqual(options["listen-on"], ["X", "Y"])
        self.assertEqual(options.sources["listen-on"], "the command line")
        self.assertEqual(Options.opt_listen_on.__doc__, "Where. Repeatable. [default: a]")

    def test_inheritedRepeatable(self):
        """A subclass keeps its parent's repeatable options and adds its own."""
        class Parent(LayeredOptions):
            optRepeatable = [["port", "p", [], "Ports."]]

        class Child(Parent):
            optRepeatable = [["host", None, [], "Hosts."]]

        options = parseOptions(Child, ["-p", "1", "--host", "h"])
        self.assertEqual((options["port"], options["host"]), (["1"], ["h"]))


class CommandLineValueTests(SynchronousTestCase):
    """
    The argv scanner run before the layers.
    """

    def test_values(self):
        """Long, short, joined and abbreviated options count, up to --; a flag is ''."""
        class Options(LayeredOptions):
            optParameters = [["max-body", None, 1, "Body."], ["name", "n", "demo", "Name."]]
            optFlags = [["debug", "d", "Debug."]]

        self.assertEqual(
            commandLineValues(Options(), ["--config=x", "-d", "--max-b", "5", "-nfoo",
                                          "--", "-n", "z"]),
            {"config": "x", "debug": "", "max-body": "5", "name": "foo"})
        self.assertEqual(commandLineValues(Options(), ["--nope"]), {})


class MessageTests(SynchronousTestCase):
    """
    The sentences a bad layer value gives.
    """

    def test_builtinTypes(self):
        """An int or float option refuses a value with our sentence, not Python's."""
        class Options(LayeredOptions):
            optParameters = [["count", None, 1, "Count.", int], ["ratio", None, 1.0, "R.", float]]

        error = self.assertRaises(usage.UsageError, parseOptions, Options, [],
                                  {"APPSERVER_COUNT": "many"})
        self.assertEqual(str(error), "Bad value for 'count' in environment variable "
                                     "APPSERVER_COUNT: 'many' is not a whole number.")
        error = self.assertRaises(usage.UsageError, parseOptions, Options, ["--ratio", "x"])
        self.assertEqual(str(error), "Bad value for --ratio: 'x' is not a number.")

    def test_oneFullStop(self):
        """A coerce function's error that ends with a full stop ends the sentence once."""
        def strict(value):
            raise ValueError(".no good.")

        class Options(LayeredOptions):
            optParameters = [["mode", None, "a", "Mode.", strict]]

        error = self.assertRaises(usage.UsageError, parseOptions, Options, ["--mode", "b"])
        self.assertEqual(str(error), "Bad value for --mode: .no good.")

    def test_listInsteadOfValue(self):
        """A YAML list for a single-valued option is named with its type and value."""
        path = os.path.join(tempDir(self), "app.yaml")
        with open(path, "w") as f:
            f.write("name: [a, b]\n")
        error = self.assertRaises(usage.UsageError, parseOptions, FlagOptions, ["--config", path])
        self.assertEqual(str(error), f"Bad value for 'name' in config file {path}: expected a "
                                     f"single value, got list ['a', 'b'].")

    def test_missingFile(self):
        """A missing configuration file is named with the system's reason."""
        path = os.path.join(tempDir(self), "absent.yaml")
        error = self.assertRaises(usage.UsageError, parseOptions, FlagOptions, ["--config", path])
        self.assertEqual(str(error), f"Cannot read config file {path}: No such file or directory.")

    def test_helpIsNoLayerOption(self):
        """APPSERVER_HELP and APPSERVER_VERSION set nothing."""
        options = parseOptions(FlagOptions, [], {"APPSERVER_HELP": "1", "APPSERVER_VERSION": "1"})
        self.assertEqual(options.sources, {})
