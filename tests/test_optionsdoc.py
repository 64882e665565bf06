"""
Tests for L{appserver.optionsdoc}, the option reference made from Options
classes.
"""

import io
from contextlib import redirect_stderr

from twisted.trial.unittest import SynchronousTestCase

from appserver import optionsdoc
from appserver.config import LayeredOptions, positiveInt
from services.ports import parsePort


class SampleOptions(LayeredOptions):
    """
    Sample options of C{twistd sample}.
    """

    command = "sample"
    longdesc = "Serve | samples."
    optRepeatable = [["port", "p", ["8080"], "Ports.", parsePort]]
    optParameters = [["threads", None, 3, "Threads", positiveInt],
                     ["name", "n", None, "A name."]]
    optFlags = [["debug", "d", "Debug."]]


class SampleMaker:
    """
    A service maker, as a drop-in declares one, for L{SampleOptions}.
    """

    tapname = "sample"
    description = "Samples."
    options = SampleOptions


class CommandSectionTests(SynchronousTestCase):
    """
    One command's section: every option, in declaration order, as a table row.
    """

    def test_rows(self):
        """Each row has the names, the default, the variables (own first) and the meaning."""
        lines = optionsdoc.commandSection(SampleMaker()).splitlines()
        self.assertEqual(lines[:7], [
            "## `twistd sample`", "", "Samples.", "", "Serve \\| samples.", "",
            "| Option | Default | Environment | Meaning |"])
        self.assertEqual(lines[8:], [
            "| `--port`, `-p` | `8080` | `APPSERVER_SAMPLE_PORT`, `APPSERVER_PORT` | "
            "Ports. Repeatable. A port number or a Twisted endpoint description. |",
            "| `--threads` | `3` | `APPSERVER_SAMPLE_THREADS`, `APPSERVER_THREADS` | "
            "Threads. A positive integer. |",
            "| `--name`, `-n` | none | `APPSERVER_SAMPLE_NAME`, `APPSERVER_NAME` | A name. |",
            "| `--debug`, `-d` | off | `APPSERVER_SAMPLE_DEBUG`, `APPSERVER_DEBUG` | Debug. |",
            "| `--config` | none | `APPSERVER_SAMPLE_CONFIG`, `APPSERVER_CONFIG` | "
            "A YAML file of option values (keys are the long option names). |",
        ])


class MainTests(SynchronousTestCase):
    """
    C{python -m appserver.optionsdoc COMMAND...}.
    """

    def test_unknownCommand(self):
        """A command no plugin provides is named, with exit status 2."""
        stderr = io.StringIO()
        with redirect_stderr(stderr):
            self.assertEqual(optionsdoc.main(["no-such-command"]), 2)
        self.assertEqual(stderr.getvalue(),
                         "optionsdoc: No twistd command named no-such-command.\n")
