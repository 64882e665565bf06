"""
The documentation works as written: docs/writing-a-plugin.md builds,
installs and runs in a fresh virtual environment; docs/options.md describes
every option our commands have now, and the other documents name no option
that does not exist.
"""

import importlib.util
import os
import re
import sys
import sysconfig
import time

from twisted.python import usage
from twisted.scripts.twistd import ServerOptions
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from appserver.config import COMMANDS
from appserver.optionsdoc import reference, serviceMakers
from tests.support import BIN, SOURCE, copyCheckout, environment, freePort, run, tempDir

PLUGIN_DOCUMENT = os.path.join(SOURCE, "docs", "writing-a-plugin.md")
OPTION_REFERENCE = os.path.join(SOURCE, "docs", "options.md")
OPTION_MENTION = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*[a-z0-9])(?![\w-])")
OPTION_DOCUMENTS = [os.path.join(SOURCE, "docs", name) for name in ("web-app.md", "sessions.md")]


def readDocument(path):
    """
    The text of a document.
    """
    with open(path, encoding="utf-8") as f:
        return f.read()


def consoleBlocks(text):
    """
    Each C{console} block of a Markdown text, as a list of (command,
    expected output lines) pairs.
    """
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", text, re.S):
        steps = []
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
        blocks.append(steps)
    return blocks


def documentFiles(text):
    """
    The files a Markdown text shows whole: each code block whose first line
    is C{# file: PATH}, as a dict of PATH to the block's text.
    """
    return dict(re.findall(r"```\w+\n# file: (\S+)\n(.*?)```", text, re.S))


def writeFiles(directory, files):
    """
    Write C{files} (relative path to text) under C{directory}.
    """
    for path, text in files.items():
        target = os.path.join(directory, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)


def requireWheelBuilder():
    """
    Skip unless setuptools can build wheels here without the network (it
    needs the C{wheel} package before setuptools 70.1; the test extra
    installs it); fail instead when C{APPSERVER_REQUIRE_SERVICES=1}, as in CI.
    """
    if importlib.util.find_spec("setuptools") and importlib.util.find_spec("wheel"):
        return
    message = "setuptools and wheel are needed to build packages without the network"
    if os.environ.get("APPSERVER_REQUIRE_SERVICES") == "1":
        raise AssertionError(message)
    raise SkipTest(message)


def consoleScript(venv, name, module, function):
    """
    Write C{venv}/bin/C{name} running C{module.function()}, as pip writes
    the console scripts of what it installs.
    """
    path = os.path.join(venv, "bin", name)
    with open(path, "w") as f:
        f.write(f"#!{venv}/bin/python\nimport sys\nfrom {module} import {function}\n"
                f"sys.exit({function}())\n")
    os.chmod(path, 0o755)


def freshVirtualEnvironment(directory):
    """
    A new virtual environment in C{directory}/venv that sees the packages
    of this one (through a C{.pth} file, so nothing is downloaded) but has
    its own site-packages, C{bin/python}, C{bin/pip} and C{bin/twistd}.
    """
    venv = os.path.join(directory, "venv")
    code, output = run([sys.executable, "-m", "venv", "--without-pip", venv], directory)
    assert code == 0, output
    paths = sorted({sysconfig.get_paths()[kind] for kind in ("purelib", "platlib")})
    variables = {"base": venv, "platbase": venv}
    site = sysconfig.get_paths(vars=variables)["purelib"]
    with open(os.path.join(site, "shared-packages.pth"), "w") as f:
        f.write("\n".join(paths) + "\n")
    consoleScript(venv, "pip", "pip._internal.cli.main", "main")
    consoleScript(venv, "twistd", "twisted.scripts.twistd", "run")
    return venv


def venvEnvironment(venv):
    """
    The environment of a user of C{venv}: its C{bin} first on C{PATH}, this
    environment's C{bin} and source tree nowhere, no package index.
    """
    env = environment(PIP_NO_INDEX="1")
    del env["PYTHONPATH"]
    path = [entry for entry in env["PATH"].split(os.pathsep) if entry != BIN]
    env["PATH"] = os.pathsep.join([os.path.join(venv, "bin")] + path)
    return env


class WritingAPluginTests(SynchronousTestCase):
    """
    Write the walkthrough's files, install appserver and then them into a
    fresh virtual environment, and run the walkthrough's commands in order,
    as a reader would.
    """

    def test_walkthrough(self):
        """Every command exits 0 and prints what the document shows."""
        requireWheelBuilder()
        text = readDocument(PLUGIN_DOCUMENT)
        root = tempDir(self)
        venv = freshVirtualEnvironment(root)
        env = venvEnvironment(venv)
        code, output = run(["pip", "install", "--no-build-isolation", "--no-deps",
                            copyCheckout(self)], root, timeout=120, env=env)
        self.assertEqual(code, 0, output)
        project = os.path.join(root, "myqotd")
        writeFiles(project, documentFiles(text))
        self.addCleanup(self.stopDaemon, project, env)
        port = freePort()
        blocks = consoleBlocks(text)
        self.assertGreater(len(blocks), 5)
        for steps in blocks:
            for command, expected in steps:
                self.runStep(self.adapt(command, port),
                             [line.replace("8007", str(port)) for line in expected],
                             project, env)

    def adapt(self, command, port):
        """
        A walkthrough command as the test runs it: on a free port (which
        its expected output names instead of 8007 too); pip builds
        with the setuptools installed here instead of downloading one; nc
        does not read its input (a reader's nc has a terminal there, ours has
        none, and nc may quit at the end of its input before the quote comes).
        """
        command = command.replace("8007", str(port))
        if command.startswith("pip install "):
            command = "pip install --no-build-isolation " + command[len("pip install "):]
        if command.startswith("nc "):
            command = "nc -d " + command[len("nc "):]
        return command

    def runStep(self, command, expected, directory, env):
        code, output = run(["bash", "-c", command], directory, timeout=120, env=env)
        self.assertEqual(code, 0, f"{command}: {output}")
        for line in expected:
            self.assertIn(line, output, f"{command}: {output!r}")
        if command.startswith("kill "):
            self.waitForExit(directory)

    def waitForExit(self, directory):
        deadline = time.monotonic() + 30
        while os.path.exists(os.path.join(directory, "qotd.pid")):
            self.assertLess(time.monotonic(), deadline, "twistd did not stop")
            time.sleep(0.05)

    def stopDaemon(self, directory, env):
        run(["bash", "-c", "test -f qotd.pid && kill -9 $(cat qotd.pid) || true"],
            directory, env=env)

    def test_files(self):
        """The document shows every file of the project, the drop-in without a package."""
        files = documentFiles(readDocument(PLUGIN_DOCUMENT))
        self.assertEqual(sorted(files), [
            "myqotd/__init__.py", "myqotd/protocol.py", "myqotd/quoters.py", "myqotd/tap.py",
            "myqotd/test/__init__.py", "myqotd/test/test_myqotd.py", "pyproject.toml",
            "twisted/plugins/myqotd_plugin.py"])


def longNames(optionsClass):
    """
    The long option names of a L{usage.Options} class.
    """
    return set(optionsClass().synonyms.values())


def consoleScriptOptions():
    """
    The long option names of the console scripts setup.py installs.
    """
    with open(os.path.join(SOURCE, "setup.py")) as f:
        modules = re.findall(r"\"[\w-]+ = ([\w.]+):\w+\"", f.read())
    names = set()
    for module in modules:
        for value in vars(importlib.import_module(module)).values():
            if isinstance(value, type) and issubclass(value, usage.Options):
                names |= longNames(value)
    return names


class OptionReferenceTests(SynchronousTestCase):
    """
    docs/options.md is what appserver.optionsdoc makes of the Options classes
    as they are now, and no document names an option that does not exist.
    """

    def test_current(self):
        """Every option of web-app, session-server and qotd is in the reference, as generated."""
        documented = readDocument(OPTION_REFERENCE)
        missing = [f"twistd {maker.tapname} --{name}" for maker in serviceMakers(COMMANDS)
                   for name in sorted(longNames(type(maker.options())) - {"help", "version"})
                   if f"`--{name}`" not in documented]
        self.assertEqual(missing, [], "run: python -m appserver.optionsdoc > docs/options.md")
        self.assertEqual(documented, reference(),
                         "docs/options.md is out of date; run: "
                         "python -m appserver.optionsdoc > docs/options.md")

    def test_mentionedOptionsExist(self):
        """Each --option named in docs/web-app.md and docs/sessions.md exists."""
        known = longNames(ServerOptions) | consoleScriptOptions()
        for maker in serviceMakers(COMMANDS):
            known |= longNames(type(maker.options()))
        for path in OPTION_DOCUMENTS:
            mentioned = set(OPTION_MENTION.findall(readDocument(path)))
            self.assertEqual(sorted(mentioned - known), [], path)

    def test_serviceTree(self):
        """docs/web-app.md lists the children of web-app's tree in start order."""
        from appserver.tap import webapp
        from tests.support import parseOptions

        options = parseOptions(webapp.Options, [
            "--app", webapp.DEMO_APP, "--wsgi", "tests.test_webapp_tap:wsgiHello", "--reload",
            "--qotd-port", "tcp:0:interface=127.0.0.1"])
        names = [child.name for child in webapp.makeService(options)]
        text = readDocument(os.path.join(SOURCE, "docs", "web-app.md"))
        tree = re.search(r"```\nweb-app\n(.*?)```", text, re.S).group(1)
        self.assertEqual([line.split()[0] for line in tree.splitlines()], names)
