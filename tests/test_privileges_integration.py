"""
C{twistd --uid/--gid}: what the process needs is prepared before the drop,
as the target user where it is used after it. Run as root (as CI does);
skipped elsewhere.
"""

import grp
import os
import pwd
import signal
import urllib.request

from twisted.trial.unittest import SkipTest, SynchronousTestCase

from services.db.service import DatabaseService, _actingAs
from tests.support import TWISTD, eventually, freePort, run, signalDaemon, tempDir, waitForPort

USER, GROUP = "nobody", "nogroup"
DEADLINE = 30


def targetIds():
    """
    The uid and gid of C{nobody}/C{nogroup}; skip unless root and both exist.
    """
    if os.geteuid() != 0:
        raise SkipTest("dropping privileges needs root")
    try:
        return pwd.getpwnam(USER).pw_uid, grp.getgrnam(GROUP).gr_gid
    except KeyError as e:
        raise SkipTest(f"no {USER}/{GROUP} here ({e})")


def rootOwnedDirectory(testCase):
    """
    A temporary directory root owns, which others may enter but not write.
    """
    directory = tempDir(testCase)
    os.chmod(directory, 0o755)
    return directory


class ActingAsTests(SynchronousTestCase):
    """
    L{services.db.service._actingAs} acts with the target user's rights, then
    root's again.
    """

    def setUp(self):
        self.uid, self.gid = targetIds()

    def test_createsOwnedFiles(self):
        """A file made inside belongs to the target user; root again after."""
        directory = tempDir(self)
        os.chmod(directory, 0o777)
        path = os.path.join(directory, "made")
        with _actingAs((self.uid, self.gid)):
            open(path, "w").close()
        info = os.stat(path)
        self.assertEqual((info.st_uid, info.st_gid), (self.uid, self.gid))
        self.assertEqual((os.geteuid(), os.getegid()), (0, 0))

    def test_refusedAsTheUser(self):
        """What the user may not do fails inside, and root's rights come back."""
        directory = rootOwnedDirectory(self)
        with self.assertRaises(PermissionError):
            with _actingAs((self.uid, self.gid)):
                open(os.path.join(directory, "made"), "w").close()
        self.assertEqual(os.geteuid(), 0)
        open(os.path.join(directory, "made"), "w").close()

    def test_databasePreparedBeforeTheDrop(self):
        """privilegedStartService creates the SQLite database, owned by the owner."""
        directory = tempDir(self)
        os.chmod(directory, 0o777)
        path = os.path.join(directory, "app.sqlite3")
        db = DatabaseService(f"sqlite:///{path}", owner=(self.uid, self.gid))
        db.privilegedStartService()
        self.assertEqual(os.stat(path).st_uid, self.uid)
        db.startService()
        self.addCleanup(db.stopService)
        self.assertTrue(db.running)


class DaemonTests(SynchronousTestCase):
    """
    A daemonized C{twistd --uid nobody --gid nogroup web-app}.
    """

    def setUp(self):
        self.uid, self.gid = targetIds()

    def twistd(self, directory, port):
        return run([TWISTD, "--pidfile", "web.pid", "--logfile", "web.log", "--uid", USER,
                    "--gid", GROUP, "web-app", "--port", f"tcp:{port}:interface=127.0.0.1"],
                   directory, timeout=DEADLINE)

    def test_rootOwnedDirectory(self):
        """
        Where the user cannot make the database, start-up fails before the
        drop with one sentence naming that user, and no pidfile is left.
        """
        directory = rootOwnedDirectory(self)
        code, output = self.twistd(directory, freePort())
        self.assertNotEqual(code, 0)
        self.assertIn("web-app cannot start: Cannot connect to database "
                      "sqlite:///appserver.sqlite3: unable to open database file (as uid "
                      f"{self.uid}, the user twistd --uid runs as)", output)
        self.assertNotIn("Traceback", output)
        pidfile = os.path.join(directory, "web.pid")
        self.assertTrue(eventually(lambda: not os.path.exists(pidfile)), f"{pidfile} was left")

    def test_userDirectory(self):
        """
        In a directory the user may write, the database is created owned by
        that user, the secret is read before the drop, and the site serves.
        """
        directory = tempDir(self)
        os.chmod(directory, 0o755)
        os.chown(directory, self.uid, self.gid)
        port = freePort()
        pidfile = os.path.join(directory, "web.pid")
        self.addCleanup(signalDaemon, pidfile)
        code, output = self.twistd(directory, port)
        self.assertEqual(code, 0, output)
        waitForPort(port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            self.assertEqual(response.status, 200)
        self.assertEqual(os.stat(os.path.join(directory, "appserver.sqlite3")).st_uid,
                         self.uid)
        with open(pidfile) as f:
            os.kill(int(f.read()), signal.SIGTERM)
        self.assertTrue(eventually(lambda: not os.path.exists(pidfile), DEADLINE),
                        f"{pidfile} was left")
