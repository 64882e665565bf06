"""
Tests for L{appserver.mktap}: listing, writing, appending, file mode.
"""

import io
import os
import pickle
import stat
from contextlib import redirect_stderr, redirect_stdout

from twisted.application import service
from twisted.persisted import sob
from twisted.trial.unittest import SynchronousTestCase

from appserver import mktap
from tests.support import tempDir


class MktapTests(SynchronousTestCase):
    """
    mktap builds the application twistd would run and saves it.
    """

    def setUp(self):
        self.directory = tempDir(self)
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.directory)

    def mktap(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = mktap.main(list(argv))
            except SystemExit as e:
                code = e.code
        return code, out.getvalue(), err.getvalue()

    def load(self, path):
        return sob.load(path, mktap.styleOf(path))

    def quotes(self, application):
        """The quote and ports of each QOTD tree in an application."""
        return [(tree.name, list(tree)[0].factory.quoter.getQuote(),
                 [child.description for child in tree])
                for tree in service.IServiceCollection(application)]

    def test_listing(self):
        """mktap alone lists the installed commands with descriptions."""
        code, out, err = self.mktap()
        self.assertEqual(code, 0)
        self.assertIn("Commands:", out)
        self.assertIn("qotd", out)
        self.assertIn("Quote of the Day", out)
        self.assertIn("trusted source", out)

    def test_helpSaysPickleIsUnsafe(self):
        """mktap --help warns that a .tap is a pickle."""
        code, out, err = self.mktap("--help")
        self.assertEqual(code, 0)
        self.assertIn("pickle", out)
        self.assertIn("only load files from a trusted source", " ".join(out.split()))

    def test_commandHelp(self):
        """mktap COMMAND --help shows the command's options."""
        code, out, err = self.mktap("qotd", "--help")
        self.assertEqual(code, 0)
        self.assertIn("--static", out)
        self.assertIn("--port", out)

    def test_writesPickle(self):
        """By default COMMAND.tap is written, mode 0600, with the tree."""
        code, out, err = self.mktap("qotd", "--port", "9007", "--static", "Saved.")
        self.assertEqual(code, 0, err)
        self.assertEqual(stat.S_IMODE(os.stat("qotd.tap").st_mode), 0o600)
        application = self.load("qotd.tap")
        self.assertEqual(self.quotes(application), [("qotd", "Saved.", ["tcp:9007"])])
        self.assertEqual(service.IService(application).name, "qotd")
        self.assertEqual(sob.IPersistable(application).style, "pickle")
        self.assertEqual([f for f in os.listdir(".") if f.startswith(".mktap")], [])

    def test_writesSource(self):
        """--type source writes COMMAND.tas, loadable AOT source."""
        code, out, err = self.mktap("--type", "source", "qotd", "-p", "9008")
        self.assertEqual(code, 0, err)
        self.assertEqual(stat.S_IMODE(os.stat("qotd.tas").st_mode), 0o600)
        with open("qotd.tas") as f:
            self.assertIn("Instance(", f.read())
        application = self.load("qotd.tas")
        self.assertEqual(self.quotes(application)[0][2], ["tcp:9008"])
        self.assertEqual(sob.IPersistable(application).style, "source")

    def test_output(self):
        """--output names the file."""
        path = os.path.join(self.directory, "custom.tap")
        code, out, err = self.mktap("--output", path, "qotd")
        self.assertEqual(code, 0, err)
        self.assertTrue(os.path.exists(path))

    def test_append(self):
        """--append adds the new tree next to what the file holds."""
        self.mktap("qotd", "-p", "9001", "-s", "First.")
        code, out, err = self.mktap("--append", "qotd.tap", "qotd", "-p", "9002", "-s", "Second.")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.quotes(self.load("qotd.tap")), [
            ("qotd", "First.", ["tcp:9001"]), ("qotd-2", "Second.", ["tcp:9002"])])

    def test_appendSource(self):
        """--append works on .tas files too, and keeps them source."""
        self.mktap("--type", "source", "qotd", "-p", "9001")
        code, out, err = self.mktap("--append", "qotd.tas", "qotd", "-p", "9002")
        self.assertEqual(code, 0, err)
        self.assertEqual(len(self.quotes(self.load("qotd.tas"))), 2)

    def test_appendMissing(self):
        """Appending to a missing file is one clear error."""
        code, out, err = self.mktap("--append", "absent.tap", "qotd")
        self.assertEqual(code, 1)
        self.assertIn("absent.tap", err)

    def test_appendGarbage(self):
        """Appending to a file that is not an application is one clear error."""
        with open("junk.tap", "wb") as f:
            f.write(b"not a pickle")
        code, out, err = self.mktap("--append", "junk.tap", "qotd")
        self.assertEqual(code, 1)
        self.assertIn("Cannot load application from junk.tap", err)

    def test_uidGid(self):
        """--uid and --gid are kept in the application's process settings."""
        code, out, err = self.mktap("--uid", "0", "--gid", "0", "qotd")
        self.assertEqual(code, 0, err)
        process = service.IProcess(self.load("qotd.tap"))
        self.assertEqual((process.uid, process.gid), (0, 0))

    def test_badUser(self):
        """An unknown user is refused with its name."""
        code, out, err = self.mktap("--uid", "no-such-user-here", "qotd")
        self.assertEqual(code, 1)
        self.assertIn("no-such-user-here", err)

    def test_unknownCommand(self):
        """An unknown command is refused, nothing written."""
        code, out, err = self.mktap("bogus")
        self.assertEqual(code, 1)
        self.assertIn("Unknown command: bogus", err)
        self.assertEqual(os.listdir("."), [])

    def test_badCommandOption(self):
        """A bad option of the command is refused, nothing written."""
        code, out, err = self.mktap("qotd", "--port", "nope:1")
        self.assertEqual(code, 1)
        self.assertIn("nope:1", err)
        self.assertEqual(os.listdir("."), [])

    def test_badType(self):
        """--type accepts only pickle or source."""
        code, out, err = self.mktap("--type", "xml", "qotd")
        self.assertEqual(code, 1)
        self.assertIn("pickle or source", err)

    def test_pickleIsPlain(self):
        """A .tap is an ordinary pickle of the application."""
        self.mktap("qotd")
        with open("qotd.tap", "rb") as f:
            application = pickle.load(f)
        self.assertEqual(service.IService(application).name, "qotd")


class PrivateFilesTests(SynchronousTestCase):
    """
    Every file mktap writes, and the shutdown file twistd writes from it, is
    0600 whatever the umask.
    """

    def setUp(self):
        self.directory = tempDir(self)
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.directory)
        self.addCleanup(os.umask, os.umask(0))

    def mode(self, path):
        return stat.S_IMODE(os.stat(path).st_mode)

    def mktap(self, *argv):
        with redirect_stdout(io.StringIO()):
            self.assertEqual(mktap.main(list(argv)), 0)

    def shutdownSave(self, path):
        """Save the loaded application as twistd does at shutdown."""
        sob.IPersistable(sob.load(path, mktap.styleOf(path))).save("shutdown")

    def test_shutdownTap(self):
        """twistd's -shutdown.tap of a mktap'd application is 0600."""
        self.mktap("web-app", "--db", "sqlite://:memory:")
        self.assertEqual(self.mode("web-app.tap"), 0o600)
        self.shutdownSave("web-app.tap")
        self.assertEqual(self.mode("web-app-shutdown.tap"), 0o600)
        self.assertEqual(sob.IPersistable(sob.load("web-app-shutdown.tap", "pickle")).style,
                         "pickle")

    def test_shutdownTas(self):
        """twistd's -shutdown.tas of a source application is 0600 and loads."""
        self.mktap("--type", "source", "qotd", "-s", "Kept.")
        self.assertEqual(self.mode("qotd.tas"), 0o600)
        self.shutdownSave("qotd.tas")
        self.assertEqual(self.mode("qotd-shutdown.tas"), 0o600)
        application = sob.load("qotd-shutdown.tas", "source")
        self.assertEqual(list(service.IServiceCollection(application))[0].name, "qotd")

    def test_staleTemporary(self):
        """A world-readable file or a link left at the temporary name is replaced, not reused."""
        self.mktap("qotd")
        with open("qotd-shutdown-2.tap", "wb") as f:
            f.write(b"stale")
        os.chmod("qotd-shutdown-2.tap", 0o644)
        self.shutdownSave("qotd.tap")
        self.assertEqual(self.mode("qotd-shutdown.tap"), 0o600)
        target = os.path.join(tempDir(self), "target")
        os.symlink(target, "qotd-shutdown-2.tap")
        self.shutdownSave("qotd.tap")
        self.assertFalse(os.path.exists(target))
        self.assertEqual(self.mode("qotd-shutdown.tap"), 0o600)

    def test_appendMakesPrivate(self):
        """Appending to an application saved by Twisted itself makes its saves private too."""
        application = service.Application("plain")
        sob.IPersistable(application).setStyle("source")
        sob.IPersistable(application).save(filename="plain.tas")
        self.mktap("--append", "plain.tas", "qotd")
        self.shutdownSave("plain.tas")
        self.assertEqual(self.mode("plain-shutdown.tas"), 0o600)
