"""
The installed package: the drop-in, twistd's command list, the plugin cache.
"""

import os
import pickle
import re

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from appserver import plugincache
from tests.support import SOURCE, TWISTD, environment, run, tempDir

DROPIN = os.path.join(SOURCE, "twisted", "plugins", "appserver_plugins.py")


def installedEnvironment():
    """The environment of a user of the installed package: no source tree on the path."""
    env = environment()
    del env["PYTHONPATH"]
    return env


class DropinTests(SynchronousTestCase):
    """
    The drop-in declares and imports nothing heavy.
    """

    def test_onlyDeclarations(self):
        """The drop-in imports only ServiceMaker and declares ServiceMakers."""
        with open(DROPIN) as f:
            source = f.read()
        imports = re.findall(r"^(?:from|import) .*$", source, re.M)
        self.assertEqual(imports, ["from twisted.application.service import ServiceMaker"])
        self.assertFalse(os.path.exists(os.path.join(SOURCE, "twisted", "__init__.py")))
        self.assertFalse(os.path.exists(os.path.join(SOURCE, "twisted", "plugins", "__init__.py")))


class InstalledTests(SynchronousTestCase):
    """
    After installation (make test installs the project into .venv), twistd
    lists our commands without any plugin cache noise.
    """

    def test_twistdHelp(self):
        """twistd --help lists qotd with its description, and nothing complains."""
        if not os.path.exists(TWISTD):
            raise SkipTest("twistd is not installed next to this Python")
        code, output = run([TWISTD, "--help"], tempDir(self), env=installedEnvironment())
        self.assertEqual(code, 0, output)
        self.assertIn("qotd", output)
        self.assertIn("Quote of the Day", output)
        self.assertNotIn("Unable to write to plugin cache", output)


class PluginCacheTests(SynchronousTestCase):
    """
    appserver.plugincache writes a fresh cache without stale entries.
    """

    def test_staleEntryRemoved(self):
        """A cache naming a command whose drop-in is gone is rewritten without it."""
        directory = tempDir(self)
        with open(os.path.join(directory, "dropin.cache"), "wb") as f:
            pickle.dump({"gone_plugins": "stale"}, f)
        names = plugincache.regenerate([directory])
        self.assertFalse(os.path.exists(os.path.join(directory, "dropin.cache")))
        self.assertIn("qotd", names)

    def test_main(self):
        """Running the module rewrites the caches and names the commands found."""
        code, output = run([os.path.join(os.path.dirname(TWISTD), "python"),
                            "-m", "appserver.plugincache"], tempDir(self))
        self.assertEqual(code, 0, output)
        self.assertIn("qotd", output)
