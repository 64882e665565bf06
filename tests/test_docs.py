"""
The commands in docs/writing-a-plugin.md work as written.
"""

import os
import re
import time

from twisted.trial.unittest import SynchronousTestCase

from tests.support import BIN, SOURCE, environment, freePort, run, tempDir

DOCUMENT = os.path.join(SOURCE, "docs", "writing-a-plugin.md")


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


class WritingAPluginTests(SynchronousTestCase):
    """
    Run the walkthrough's commands in order, as a reader would.
    """

    def test_commands(self):
        """Every command exits 0 and prints what the document shows."""
        with open(DOCUMENT) as f:
            blocks = consoleBlocks(f.read())
        self.assertGreater(len(blocks), 3)
        directory, port = tempDir(self), freePort()
        env = environment(PATH=BIN + os.pathsep + os.environ["PATH"])
        self.addCleanup(self.stopDaemon, directory)
        for steps in blocks:
            for command, expected in steps:
                command = command.replace("8007", str(port))
                if command.startswith("nc "):
                    # A reader's nc has a terminal as input; ours has none, and
                    # nc may quit at the end of its input before the quote
                    # arrives, so tell it not to read its input at all.
                    command = "nc -d " + command[len("nc "):]
                code, output = run(["bash", "-c", command], directory, env=env)
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

    def stopDaemon(self, directory):
        run(["bash", "-c", "test -f qotd.pid && kill -9 $(cat qotd.pid) || true"], directory)
