"""
Integration tests: a real C{twistd web-app} serves nothing private, creates
only the files it uses, and writes every file holding configuration or
session data with mode 0600 whatever the umask, foreground or daemon.
"""

import http.client
import os
import signal
import stat
import time
from contextlib import contextmanager

from twisted.trial.unittest import SynchronousTestCase

from tests.support import (
    MKTAP, TWISTD, WAIT_SECONDS, freePort, run, startTwistd, stopProcess, tempDir,
    waitForPort,
)


def loopback(port):
    return f"tcp:{port}:interface=127.0.0.1"


def get(port, path):
    """
    GET C{path} (sent as given) from 127.0.0.1:C{port}: C{(status, body)}.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def mode(path):
    return oct(stat.S_IMODE(os.stat(path).st_mode))


@contextmanager
def umask(value):
    """
    Run the block, and the processes it starts, under umask C{value}.
    """
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def servedTree(testCase):
    """
    A directory to serve, holding dotfiles and a link out of it.
    """
    outside = tempDir(testCase)
    with open(os.path.join(outside, "private.txt"), "w") as f:
        f.write("private")
    root = os.path.join(outside, "www")
    os.makedirs(os.path.join(root, ".git"))
    for name, text in {"page.txt": "page", ".env": "SECRET=1", ".git/config": "[core]"}.items():
        with open(os.path.join(root, name), "w") as f:
            f.write(text)
    os.symlink(os.path.join(outside, "private.txt"), os.path.join(root, "out.txt"))
    return root


class StaticTests(SynchronousTestCase):
    """
    --static DIR alone serves only the files meant to be public.
    """

    PATHS = ["/page.txt", "/.env", "/.git/config", "/out.txt", "/x%00", "/.appserver-secret",
             "/appserver.sqlite3"]

    def serve(self, *extra):
        root = servedTree(self)
        port = freePort()
        process = startTwistd(self, ["web-app", "--port", loopback(port), "--static", "."]
                              + list(extra), root, port)
        codes = {path: get(port, path)[0] for path in self.PATHS}
        stopProcess(process)
        return root, codes

    def test_nothingPrivate(self):
        """Dotfiles, links out and NUL bytes are 404; no database or secret is made."""
        root, codes = self.serve()
        self.assertEqual(codes, dict.fromkeys(self.PATHS, 404) | {"/page.txt": 200})
        self.assertEqual(sorted(os.listdir(root)),
                         [".env", ".git", "out.txt", "page.txt", "twistd.out"])
        with open(os.path.join(root, "twistd.out")) as f:
            self.assertNotIn("Traceback", f.read())

    def test_allowed(self):
        """--static-dotfiles and --static-follow-symlinks serve them."""
        root, codes = self.serve("--static-dotfiles", "--static-follow-symlinks")
        self.assertEqual([codes[path] for path in ["/.env", "/.git/config", "/out.txt"]],
                         [200, 200, 200])

    def test_wsgiMakesNothing(self):
        """--wsgi alone creates no database and no secret."""
        root = tempDir(self)
        port = freePort()
        process = startTwistd(self, ["web-app", "--port", loopback(port), "--wsgi",
                                     "tests.test_webapp_tap:wsgiHello"], root, port)
        self.assertEqual(get(port, "/")[0], 200)
        stopProcess(process)
        self.assertEqual(os.listdir(root), ["twistd.out"])

    def test_refusesServedDefaults(self):
        """An app with --static . refuses to start: the default database would be served."""
        root = servedTree(self)
        code, output = run([TWISTD, "-n", "--pidfile=", "web-app", "--port", "tcp:0",
                            "--app", "appserver.web.demo", "--static", "."], root)
        self.assertNotEqual(code, 0)
        self.assertIn(f"{os.path.realpath(root)} is served (--static), so it must not hold "
                      f"the database {os.path.realpath(root)}/appserver.sqlite3", output)
        self.assertNotIn("appserver.sqlite3", os.listdir(root))


class DemoStaticTests(SynchronousTestCase):
    """
    The demo's /static/ answers bad names with 404.
    """

    def test_nul(self):
        """GET /static/x%00 is 404, not 500, and logs no traceback."""
        root = tempDir(self)
        port = freePort()
        process = startTwistd(self, ["web-app", "--port", loopback(port),
                                     "--db", "sqlite://:memory:"], root, port)
        self.assertEqual(get(port, "/static/x%00")[0], 404)
        self.assertEqual(get(port, "/static/style.css")[0], 200)
        stopProcess(process)
        with open(os.path.join(root, "twistd.out")) as f:
            self.assertNotIn("Traceback", f.read())


class PrivateFilesTests(SynchronousTestCase):
    """
    mktap's file, the generated secret and twistd's shutdown file are 0600.
    """

    def makeTap(self, root, port, *extra):
        code, output = run([MKTAP] + list(extra) + [
            "web-app", "--port", loopback(port), "--db", "sqlite://:memory:"], root)
        self.assertEqual(code, 0, output)

    def assertPrivate(self, root, names):
        self.assertEqual({name: mode(os.path.join(root, name)) for name in names},
                         dict.fromkeys(names, oct(0o600)))

    def foreground(self, mask, style=()):
        root = tempDir(self)
        port = freePort()
        suffix = "tas" if style else "tap"
        with umask(mask):
            self.makeTap(root, port, *style)
            process = startTwistd(self, ["-s" if style else "-f", f"web-app.{suffix}"],
                                  root, port)
        self.assertEqual(get(port, "/")[0], 200)
        stopProcess(process)
        self.assertPrivate(root, [f"web-app.{suffix}", f"web-app-shutdown.{suffix}",
                                  ".appserver-secret"])

    def test_foreground(self):
        """twistd -n -f web-app.tap under umask 022 and 000, stopped by SIGTERM."""
        for mask in (0o022, 0o000):
            self.foreground(mask)

    def test_source(self):
        """twistd -n -s web-app.tas under umask 000."""
        self.foreground(0o000, ("--type", "source"))

    def test_daemon(self):
        """A daemon started with --umask 0000 writes its files 0600 too."""
        root = tempDir(self)
        port = freePort()
        self.makeTap(root, port)
        pidfile = os.path.join(root, "twistd.pid")
        code, output = run([TWISTD, "--umask", "0000", "--pidfile", pidfile, "--logfile",
                            os.path.join(root, "twistd.log"), "-f", "web-app.tap"], root)
        self.assertEqual(code, 0, output)
        self.addCleanup(self.kill, pidfile, signal.SIGKILL)
        waitForPort(port)
        self.assertEqual(get(port, "/")[0], 200)
        self.kill(pidfile, signal.SIGTERM)
        self.assertPrivate(root, ["web-app.tap", "web-app-shutdown.tap", ".appserver-secret"])

    def kill(self, pidfile, signalNumber):
        """Signal the daemon and wait until it has removed its pidfile."""
        try:
            with open(pidfile) as f:
                os.kill(int(f.read()), signalNumber)
        except (FileNotFoundError, ProcessLookupError):
            return
        deadline = time.monotonic() + WAIT_SECONDS
        while os.path.exists(pidfile) and signalNumber != signal.SIGKILL:
            self.assertLess(time.monotonic(), deadline, "the daemon did not stop")
            time.sleep(0.05)
