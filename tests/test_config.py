"""
Tests for L{appserver.config}: layered options and their error messages.
"""

import os

from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from appserver.config import COMMANDS, LayeredOptions, byteSize, choice, nonNegativeInt, positiveInt
from services.ports import parsePort
from tests.support import parseOptions, tempDir


class SampleOptions(LayeredOptions):
    command = "sample-app"
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
        """APPSERVER_<OPTION> beats the file; dashes become underscores; what
        the environment leaves unset keeps the file's value."""
        path = self.writeConfig("name: fromfile\nmax-body: 10\nthreads: 7\n")
        options = parse(["--config=" + path],
                        {"APPSERVER_NAME": "fromenv", "APPSERVER_MAX_BODY": "1kb",
                         "APPSERVER_PORT": "9001, 9002", "APPSERVER_DEBUG": "yes"})
        self.assertEqual(options["threads"], 7)
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

    def test_commandVariables(self):
        """APPSERVER_<COMMAND>_<OPTION> beats APPSERVER_<OPTION>, the command line both."""
        environ = {"APPSERVER_PORT": "9001", "APPSERVER_SAMPLE_APP_PORT": "9002",
                   "APPSERVER_NAME": "generic", "APPSERVER_SAMPLE_APP_DEBUG": "on"}
        options = parse(environ=environ)
        self.assertEqual(options["port"], ["tcp:9002"])
        self.assertEqual(options["name"], "generic")
        self.assertEqual(options["debug"], 1)
        self.assertEqual(options.sources["port"], "environment variable APPSERVER_SAMPLE_APP_PORT")
        self.assertEqual(parse(["-p", "9003"], environ)["port"], ["tcp:9003"])

    def test_commandConfigVariable(self):
        """APPSERVER_<COMMAND>_CONFIG beats APPSERVER_CONFIG."""
        mine, other = self.writeConfig("name: mine\n"), self.writeConfig("name: other\n")
        environ = {"APPSERVER_CONFIG": other, "APPSERVER_SAMPLE_APP_CONFIG": mine}
        self.assertEqual(parse(environ=environ)["name"], "mine")


class CommandVariableTests(SynchronousTestCase):
    """
    Each of our commands reads its own variables first, and no generic
    variable of one command is another command's own.
    """

    def optionsClasses(self):
        from appserver.tap import sessionserver, webapp
        from qotd import tap

        return [webapp.Options, sessionserver.Options, tap.Options]

    def test_commandsMatchTheDropin(self):
        """Each Options names its twistd command, and COMMANDS lists them all."""
        from twisted.plugins import appserver_plugins

        tapnames = {appserver_plugins.webApp.tapname, appserver_plugins.sessionServer.tapname,
                    appserver_plugins.qotd.tapname}
        self.assertEqual({options.command for options in self.optionsClasses()}, tapnames)
        self.assertEqual(set(COMMANDS), tapnames)

    def test_portsApart(self):
        """Per-command port variables keep web-app and session-server apart."""
        from appserver.tap import sessionserver, webapp

        environ = {"APPSERVER_PORT": "7000", "APPSERVER_WEB_APP_PORT": "7001",
                   "APPSERVER_SESSION_SERVER_PORT": "7002"}
        self.assertEqual(parseOptions(webapp.Options, [], environ)["port"], ["tcp:7001"])
        self.assertEqual(parseOptions(sessionserver.Options, [], environ)["port"], ["tcp:7002"])

    def test_otherCommandsVariables(self):
        """APPSERVER_QOTD_PORT is qotd's --port, not web-app's --qotd-port, which
        APPSERVER_WEB_APP_QOTD_PORT sets."""
        from appserver.tap import webapp
        from qotd import tap

        environ = {"APPSERVER_QOTD_PORT": "7003"}
        self.assertEqual(parseOptions(tap.Options, [], environ)["port"], ["tcp:7003"])
        self.assertEqual(parseOptions(webapp.Options, [], environ)["qotd-port"], [])
        environ["APPSERVER_WEB_APP_QOTD_PORT"] = "7004"
        self.assertEqual(parseOptions(webapp.Options, [], environ)["qotd-port"], ["tcp:7004"])


class TypedOptionTests(SynchronousTestCase):
    """
    Every typed option of web-app, session-server and qotd refuses a bad
    value with one sentence naming the option (or variable) and the value.
    """

    BAD = "soon?"

    def typedOptions(self):
        from appserver.tap import sessionserver, webapp
        from qotd import tap

        for optionsClass in [webapp.Options, sessionserver.Options, tap.Options]:
            for name, (kind, coerce) in optionsClass()._optionKinds().items():
                if kind != "flag" and coerce not in (None, str):
                    yield optionsClass, name

    SECRET = ("secret",)
    "Options whose value is never echoed."

    def assertOneSentence(self, message, option, *names):
        self.assertRegex(message, r"^Bad value for [^\n]*\.$")
        if option not in self.SECRET:
            names += (repr(self.BAD),)
        for name in names:
            self.assertIn(name, message)
        for noise in ("Parameter type enforcement", "invalid literal", "Traceback"):
            self.assertNotIn(noise, message)

    def test_commandLine(self):
        """--OPTION soon? is refused by name, with the value."""
        checked = 0
        for optionsClass, name in self.typedOptions():
            try:
                parseOptions(optionsClass, [f"--{name}", self.BAD])
            except usage.UsageError as e:
                self.assertOneSentence(str(e), name, f"--{name}")
                checked += 1
        self.assertGreater(checked, 10)

    def test_environment(self):
        """APPSERVER_<OPTION>=soon? is refused naming the variable, with the value."""
        checked = 0
        for optionsClass, name in self.typedOptions():
            variable = "APPSERVER_" + name.upper().replace("-", "_")
            try:
                parseOptions(optionsClass, [], {variable: self.BAD})
            except usage.UsageError as e:
                self.assertOneSentence(str(e), name, variable)
                checked += 1
        self.assertGreater(checked, 10)


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
        """A bad environment value names the option and the variable."""
        message = self.assertUsageError([], environ={"APPSERVER_MAX_BODY": "huge"})
        self.assertEqual(message, "Bad value for 'max-body' in environment variable "
                                  "APPSERVER_MAX_BODY: 'huge' is not a size (like 1048576, "
                                  "512kb, 256mb, 1gb).")

    def test_wrongTypeInCommandVariable(self):
        """A bad per-command variable is named, not the generic one."""
        message = self.assertUsageError(
            [], environ={"APPSERVER_THREADS": "2", "APPSERVER_SAMPLE_APP_THREADS": "soon"})
        self.assertIn("environment variable APPSERVER_SAMPLE_APP_THREADS: 'soon'", message)

    def test_badCommandLineParameter(self):
        """A bad typed value on the command line is one sentence naming option and value."""
        message = self.assertUsageError(["--threads", "soon"])
        self.assertEqual(message, "Bad value for --threads: 'soon' is not a positive integer.")
        message = self.assertUsageError(["--max-body=huge"])
        self.assertEqual(message, "Bad value for --max-body: 'huge' is not a size "
                                  "(like 1048576, 512kb, 256mb, 1gb).")

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
        self.assertEqual(str(self.assertRaises(ValueError, positiveInt, "soon")),
                         "'soon' is not a positive integer")
        self.assertEqual(nonNegativeInt("0"), 0)
        self.assertEqual(str(self.assertRaises(ValueError, nonNegativeInt, "-1")),
                         "'-1' is not a whole number (0 or more)")

    def test_choice(self):
        """A choice accepts its values in any case and refuses others by name."""
        fsync = choice("always", "no")
        self.assertEqual(fsync(" Always "), "always")
        error = self.assertRaises(ValueError, fsync, "sometimes")
        self.assertEqual(str(error), "'sometimes' is not one of always, no")
        self.assertEqual(fsync.coerceDoc, "One of always, no.")
