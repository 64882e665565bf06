"""
Integration test: the SQLite database a real C{twistd web-app} creates is
private to its user under the usual umask 022.
"""

import os

from twisted.trial.unittest import SynchronousTestCase

from tests.support import freePort, startTwistd, stopProcess, tempDir
from tests.test_leaks_integration import get, loopback, mode, umask


class DatabaseFileModeTests(SynchronousTestCase):
    """
    The default database and one named by C{--db} are created 0600, their
    C{-wal} and C{-shm} files too.
    """

    def assertPrivateDatabase(self, args, name):
        root = tempDir(self)
        port = freePort()
        with umask(0o022):
            process = startTwistd(self, ["web-app", "--port", loopback(port)] + args,
                                  root, port)
        self.assertEqual(get(port, "/")[0], 200)
        names = [name, f"{name}-wal", f"{name}-shm"]
        self.assertEqual({n: mode(os.path.join(root, n)) for n in names},
                         dict.fromkeys(names, oct(0o600)))
        stopProcess(process)

    def test_defaultDatabase(self):
        """twistd -n web-app creates appserver.sqlite3 0600."""
        self.assertPrivateDatabase([], "appserver.sqlite3")

    def test_namedDatabase(self):
        """twistd -n web-app --db sqlite:///x.sqlite3 creates x.sqlite3 0600."""
        self.assertPrivateDatabase(["--db", "sqlite:///x.sqlite3"], "x.sqlite3")
