"""
A real web-app whose session store, a real twistd session-server, fails:
a wrong database or an unreachable server stops the start in one sentence;
while the server is stopped (SIGSTOP) or down, requests needing a session
get 503, and the next ones succeed once it is back.
"""

import os
import signal
import urllib.error

from twisted.trial.unittest import SynchronousTestCase

from appserver.tap.webapp import SESSIONS_UNAVAILABLE
from tests.support import TWISTD, freePort, run, startTwistd, stopProcess, tempDir
from tests.test_sessions_integration import COUNTER, SECRET, Browser
from tests.test_webapp_integration import writeFiles


class StoreFailureTests(SynchronousTestCase):
    """
    web-app over C{--sessions redis://...} to a twistd session-server.
    """

    def startSessionServer(self, port=None):
        """
        Start a session server (on C{port}, else a free one); return its
        process and port.
        """
        port = port or freePort()
        process = startTwistd(self, ["session-server", "--port", f"tcp:{port}:interface=127.0.0.1"],
                              tempDir(self), port)
        return process, port

    def webArguments(self, directory, port, url):
        """
        The arguments of a web-app serving the counter app from
        C{directory} on C{port}, its sessions in C{url}.
        """
        writeFiles(directory, {"app/controllers/counter.py": COUNTER})
        return ["web-app", "--port", f"tcp:{port}:interface=127.0.0.1", "--app", "app",
                "--db", "sqlite:///app.sqlite3", "--secret", SECRET, "--sessions", url]

    def assertStartRefused(self, url, message):
        directory = tempDir(self)
        code, output = run([TWISTD, "-n", "--pidfile="]
                           + self.webArguments(directory, freePort(), url), directory)
        self.assertEqual(code, 1, output)
        self.assertIn(f"web-app cannot start: {message}\n", output)
        self.assertNotIn("Traceback", output)

    def test_wrongDatabase(self):
        """A database the session server does not have (it has only 0) stops the start."""
        _, port = self.startSessionServer()
        url = f"redis://127.0.0.1:{port}/1"
        self.assertStartRefused(
            url, f"The session store {url} answered an error: ERR DB index is out of range.")

    def test_unreachable(self):
        """A session server that is not there stops the start."""
        url = f"redis://127.0.0.1:{freePort()}/0"
        self.assertStartRefused(
            url, f"The session store {url} cannot be reached: [Errno 111] Connection refused.")

    def assertUnavailable(self, browser, port):
        with self.assertRaises(urllib.error.HTTPError) as caught:
            browser.count(port)
        self.assertEqual((caught.exception.code, caught.exception.read()),
                         (503, SESSIONS_UNAVAILABLE))

    def test_storeFailsWhileServing(self):
        """
        While the session server is stopped (answering nothing: after the
        client's 5 s timeout) or down (at once), requests get 503 logged in
        one line; once it runs again, sessions work again.
        """
        server, port = self.startSessionServer()
        directory, webPort = tempDir(self), freePort()
        startTwistd(self, self.webArguments(directory, webPort, f"redis://127.0.0.1:{port}/0"),
                    directory, webPort)
        browser = Browser()
        self.assertEqual(browser.count(webPort), 1)
        server.send_signal(signal.SIGSTOP)
        self.addCleanup(server.send_signal, signal.SIGCONT)
        self.assertUnavailable(browser, webPort)
        server.send_signal(signal.SIGCONT)
        self.assertEqual(browser.count(webPort), 2)
        stopProcess(server)
        self.assertUnavailable(browser, webPort)
        self.startSessionServer(port)
        self.assertEqual(browser.count(webPort), 1)
        with open(os.path.join(directory, "twistd.out")) as log:
            text = log.read()
        self.assertEqual(text.count("answered 503: The session store could not"), 2)
        self.assertNotIn("Traceback", text)
