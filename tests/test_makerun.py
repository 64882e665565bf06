"""
C{make run}, the documented development workflow: it serves the code of the
checkout it is run from, reloads it when it changes, and listens on loopback.
"""

import os
import shutil
import subprocess

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from services.ports import parsePort
from tests.support import (
    BIN, SOURCE, copyCheckout, environment, freePort, run, stopProcess, waitForPort,
)
from tests.test_reload_integration import EXTRA, get, waitFor


def runRecipe(checkout, **variables):
    """
    The command C{make run} would start in C{checkout} (its last recipe
    line), with make C{variables} set.
    """
    if shutil.which("make") is None:
        raise SkipTest("make is not installed")
    settings = [f"{name}={value}" for name, value in variables.items()]
    code, output = run(["make", "-s", "-n", "run"] + settings, checkout)
    if code != 0:
        raise AssertionError(f"make -n run failed: {output}")
    return output.strip().splitlines()[-1]


class MakeRunTests(SynchronousTestCase):
    """
    What C{make run} starts.
    """

    def test_servesEditsInTheCheckout(self):
        """A controller added to the checkout's demo is served without a restart."""
        checkout, port = copyCheckout(self), freePort()
        command = runRecipe(checkout, BIN=BIN, RUN_PORT=f"tcp:{port}:interface=127.0.0.1")
        env = environment()
        del env["PYTHONPATH"]
        out = open(os.path.join(checkout, "run.out"), "wb")
        self.addCleanup(out.close)
        process = subprocess.Popen(["bash", "-c", command], cwd=checkout, env=env,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        self.addCleanup(stopProcess, process)
        waitForPort(port, process=process)
        self.assertEqual(get(port, "/extra")[0], 404)
        controllers = os.path.join(checkout, "appserver", "web", "demo", "controllers")
        with open(os.path.join(controllers, "extra.py"), "w") as f:
            f.write(EXTRA)
        waitFor(lambda: get(port, "/extra")[2] == b"extra", "/extra served from the checkout")

    def test_loopbackByDefault(self):
        """Every port make run listens on is on the loopback interface."""
        command = runRecipe(SOURCE, BIN=BIN).split()
        ports = [command[i + 1] for i, word in enumerate(command) if word == "--port"]
        self.assertTrue(ports, command)
        for description in ports:
            self.assertIn(":interface=127.0.0.1", parsePort(description), command)
