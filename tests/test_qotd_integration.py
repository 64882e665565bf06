"""
Integration tests: real twistd processes serving QOTD on loopback ports.
"""

import os
import signal
import socket
import subprocess

from twisted.trial.unittest import SynchronousTestCase

from tests.support import (BIN, MKTAP, TWISTD, environment, eventually, freePort, readAll, run,
                           signalDaemon, startTwistd, stopProcess, tempDir, waitForPort)


def loopback(port):
    return f"tcp:{port}:interface=127.0.0.1"


class ServeTests(SynchronousTestCase):
    """
    twistd -n qotd serves quotes to real clients.
    """

    def test_static(self):
        """--static sets the quote every client gets."""
        directory, port = tempDir(self), freePort()
        startTwistd(self, ["qotd", "--port", loopback(port), "--static", "Hello, QOTD."],
                    directory, port)
        self.assertEqual(readAll(port), b"Hello, QOTD.\r\n")
        self.assertEqual(readAll(port), b"Hello, QOTD.\r\n")

    def test_defaultQuote(self):
        """Without --static or --file, the apple quote is served."""
        directory, port = tempDir(self), freePort()
        startTwistd(self, ["qotd", "-p", loopback(port)], directory, port)
        self.assertEqual(readAll(port), b"An apple a day keeps the doctor away.\r\n")

    def test_files(self):
        """--file serves random quotes from several fortune files."""
        directory, port = tempDir(self), freePort()
        for name, body in [("a.txt", b"alpha\n%\nbeta\n%\n"), ("b.txt", b"gamma\r\n")]:
            with open(os.path.join(directory, name), "wb") as f:
                f.write(body)
        startTwistd(self, ["qotd", "-p", loopback(port), "-f", "a.txt", "-f", "b.txt"],
                    directory, port)
        seen = {readAll(port) for _ in range(60)}
        self.assertEqual(seen, {b"alpha\r\n", b"beta\r\n", b"gamma\r\n"})

    def test_configAndEnvironment(self):
        """A --config file and APPSERVER_* variables configure twistd qotd."""
        directory, port = tempDir(self), freePort()
        with open(os.path.join(directory, "qotd.yaml"), "w") as f:
            f.write("static: From the file.\nport: 1\n")
        startTwistd(self, ["qotd", "--config", "qotd.yaml"], directory, port,
                    env=environment(APPSERVER_PORT=loopback(port)))
        self.assertEqual(readAll(port), b"From the file.\r\n")

    def test_twist(self):
        """The same plugin runs under twist, which binds in startService."""
        directory, port = tempDir(self), freePort()
        out = open(os.path.join(directory, "twist.out"), "wb")
        self.addCleanup(out.close)
        process = subprocess.Popen(
            [os.path.join(BIN, "twist"), "qotd", "-p", loopback(port), "-s", "Twist."],
            cwd=directory, stdout=out, stderr=subprocess.STDOUT, env=environment())
        self.addCleanup(stopProcess, process)
        waitForPort(port, process=process)
        self.assertEqual(readAll(port), b"Twist.\r\n")


class DaemonTests(SynchronousTestCase):
    """
    Daemonized runs: pid file, log file, clean stop.
    """

    def test_pidfileAndLogfile(self):
        """twistd detaches, writes its pid and log, and kill stops it cleanly."""
        directory, port = tempDir(self), freePort()
        pidfile = os.path.join(directory, "q.pid")
        logfile = os.path.join(directory, "q.log")
        self.addCleanup(signalDaemon, pidfile)
        code, output = run([TWISTD, "--pidfile", pidfile, "--logfile", logfile,
                            "qotd", "--port", loopback(port)], directory)
        self.assertEqual(code, 0, output)
        waitForPort(port)
        self.assertEqual(readAll(port), b"An apple a day keeps the doctor away.\r\n")
        with open(pidfile) as f:
            pid = int(f.read())
        with open(logfile) as f:
            self.assertIn("QOTDFactory starting", f.read())
        os.kill(pid, signal.SIGTERM)
        self.assertTrue(eventually(lambda: not os.path.exists(pidfile)), "the pidfile stayed")
        with open(logfile) as f:
            self.assertIn("Server Shut Down", f.read())

    def test_daemonPortInUse(self):
        """A daemonized twistd whose port is taken exits non-zero with the reason."""
        directory = tempDir(self)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            pidfile = os.path.join(directory, "q.pid")
            self.addCleanup(signalDaemon, pidfile)
            code, output = run([TWISTD, "--pidfile", pidfile, "--logfile", "q.log",
                                "qotd", "--port", loopback(port)], directory)
        self.assertNotEqual(code, 0)
        self.assertIn("Address already in use", output)
        self.assertTrue(eventually(lambda: not os.path.exists(pidfile)), f"{pidfile} was left")


class FailureTests(SynchronousTestCase):
    """
    Start-up mistakes end twistd with a non-zero code and the reason.
    """

    def test_portInUse(self):
        """A port already in use ends twistd -n with the reason, no hang."""
        directory = tempDir(self)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            code, output = run([TWISTD, "-n", "--pidfile=", "qotd", "--port", loopback(port)],
                               directory)
        self.assertNotEqual(code, 0)
        self.assertIn("Address already in use", output)

    def test_badOption(self):
        """A bad option value ends twistd with one sentence, no traceback."""
        code, output = run([TWISTD, "-n", "qotd", "--port", "nonsense:1"], tempDir(self))
        self.assertNotEqual(code, 0)
        self.assertIn("nonsense:1", output)
        self.assertNotIn("Traceback", output)

    def test_missingFile(self):
        """A missing quote file is named, no traceback."""
        code, output = run([TWISTD, "-n", "qotd", "--file", "absent.txt"], tempDir(self))
        self.assertNotEqual(code, 0)
        self.assertIn("absent.txt", output)
        self.assertNotIn("Traceback", output)

    def test_badConfig(self):
        """A config file with an unknown key is named, no traceback."""
        directory = tempDir(self)
        with open(os.path.join(directory, "bad.yaml"), "w") as f:
            f.write("colour: blue\n")
        code, output = run([TWISTD, "-n", "qotd", "--config", "bad.yaml"], directory)
        self.assertNotEqual(code, 0)
        self.assertIn("Unknown option 'colour' in config file bad.yaml", output)
        self.assertNotIn("Traceback", output)


class PersistedRunTests(SynchronousTestCase):
    """
    mktap -> twistd -f/-s -> SIGTERM -> the shutdown file runs again.
    """

    def runSaved(self, flag, path, directory, port, quote):
        process = startTwistd(self, [flag, path], directory, port)
        self.assertEqual(readAll(port), quote)
        # twistd ends itself with the signal it stopped for, once shut down.
        self.assertIn(stopProcess(process), (0, -signal.SIGTERM))

    def test_tap(self):
        """A .tap from mktap serves what the command line said, and so does
        the -shutdown.tap twistd writes when it stops."""
        directory, port = tempDir(self), freePort()
        code, output = run([MKTAP, "qotd", "--port", loopback(port), "--static", "Persisted."],
                           directory)
        self.assertEqual(code, 0, output)
        self.runSaved("-f", "qotd.tap", directory, port, b"Persisted.\r\n")
        self.assertTrue(os.path.exists(os.path.join(directory, "qotd-shutdown.tap")))
        self.runSaved("-f", "qotd-shutdown.tap", directory, port, b"Persisted.\r\n")

    def test_tas(self):
        """A .tas from mktap --type source runs with twistd -s, and so does
        its -shutdown.tas."""
        directory, port = tempDir(self), freePort()
        code, output = run([MKTAP, "--type", "source", "qotd", "--port", loopback(port),
                            "--static", "Source."], directory)
        self.assertEqual(code, 0, output)
        self.runSaved("-s", "qotd.tas", directory, port, b"Source.\r\n")
        self.assertTrue(os.path.exists(os.path.join(directory, "qotd-shutdown.tas")))
        self.runSaved("-s", "qotd-shutdown.tas", directory, port, b"Source.\r\n")

    def test_appended(self):
        """An appended application runs both trees."""
        directory, first, second = tempDir(self), freePort(), freePort()
        run([MKTAP, "qotd", "-p", loopback(first), "-s", "One."], directory)
        code, output = run([MKTAP, "--append", "qotd.tap", "qotd", "-p", loopback(second),
                            "-s", "Two."], directory)
        self.assertEqual(code, 0, output)
        startTwistd(self, ["-f", "qotd.tap"], directory, first)
        waitForPort(second)
        self.assertEqual((readAll(first), readAll(second)), (b"One.\r\n", b"Two.\r\n"))
