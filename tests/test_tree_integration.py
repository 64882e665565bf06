"""
Integration tests: the whole web-app tree (db, sessions, app, web, reloader,
qotd) in one twistd process, from the command line and from a .tap file.
"""

import http.client
import json
import os
import signal

from twisted.trial.unittest import SynchronousTestCase

from tests.support import (MKTAP, freePort, readAll, run, startTwistd, stopProcess, tempDir,
                           waitForPort)

QUOTE = "Tests are the best documentation. \N{EM DASH} the tree test"


class Client:
    """
    A keep-alive HTTP client for one server.
    """

    def __init__(self, testCase, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        testCase.addCleanup(self.connection.close)

    def __call__(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read()


def services(client):
    """
    The status page's children by name.
    """
    status, body = client("GET", "/_appserver/services")
    assert status == 200, (status, body)
    return {c["name"]: c for c in json.loads(body)["services"][0]["children"]}


def onlyQuote(client, text, author):
    """
    Delete every quote through the API, then add one.
    """
    for quote in json.loads(client("GET", "/api/quotes")[1]):
        assert client("DELETE", f"/api/quotes/{quote['id']}")[0] == 204
    body = json.dumps({"text": text, "author": author}).encode()
    status, created = client("POST", "/api/quotes", body)
    assert status == 201, (status, created)


class PersistedTreeTests(SynchronousTestCase):
    """
    mktap web-app --qotd-port --reload, then twistd -f, then its shutdown file.
    """

    def test_wholeTree(self):
        """
        The .tap runs every service; a quote added through the API is served
        on the QOTD port; the shutdown file runs the same tree again.
        """
        self.runWholeTree("pickle", "-f", "tap")

    def test_wholeTreeAsSource(self):
        """
        The same with AOT source: mktap --type source, twistd -s, and the
        -shutdown.tas file twistd writes.
        """
        self.runWholeTree("source", "-s", "tas")

    def runWholeTree(self, style, flag, extension):
        root = tempDir(self)
        web, qotd = freePort(), freePort()
        code, output = run([MKTAP, "--type", style, "web-app",
                            "--port", f"tcp:{web}:interface=127.0.0.1",
                            "--qotd-port", f"tcp:{qotd}:interface=127.0.0.1", "--reload",
                            "--db", "sqlite:///quotes.sqlite3"], root)
        self.assertEqual(code, 0, output)
        process = startTwistd(self, [flag, f"web-app.{extension}"], root, web)
        client = Client(self, web)
        tree = services(client)
        self.assertEqual(list(tree), ["db", "sessions", "app", "web", "reloader", "qotd"])
        self.assertTrue(all(service["running"] for service in tree.values()))
        self.assertEqual(tree["reloader"]["figures"]["mode"], "inotify")
        qotdPorts = [c["figures"]["ports"] for c in tree["qotd"]["children"]]
        self.assertEqual(qotdPorts, [[f"tcp:127.0.0.1:{qotd}"]])
        onlyQuote(client, "Tests are the best documentation.", "the tree test")
        self.assertEqual(readAll(qotd).decode("utf-8").strip(), QUOTE)
        client.connection.close()
        self.assertIn(stopProcess(process), (0, -signal.SIGTERM))
        shutdownFile = f"web-app-shutdown.{extension}"
        self.assertTrue(os.path.exists(os.path.join(root, shutdownFile)))

        startTwistd(self, [flag, shutdownFile], root, web)
        # startTwistd waits for the web port; the QOTD port binds after it.
        waitForPort(qotd)
        self.assertEqual(readAll(qotd).decode("utf-8").strip(), QUOTE)
        client = Client(self, web)
        self.assertEqual(list(services(client)),
                         ["db", "sessions", "app", "web", "reloader", "qotd"])
        self.assertEqual(client("GET", "/")[0], 200)


class CommandLineTreeTests(SynchronousTestCase):
    """
    twistd web-app with every child, straight from the command line.
    """

    def test_statusPageOff(self):
        """With --status-page off the page is a 404 and the demo serves the rest."""
        root = tempDir(self)
        port = freePort()
        startTwistd(self, ["web-app", "--port", f"tcp:{port}:interface=127.0.0.1",
                           "--db", "sqlite://:memory:", "--status-page", "off"], root, port)
        client = Client(self, port)
        self.assertEqual(client("GET", "/_appserver/services")[0], 404)
        self.assertEqual(client("GET", "/api/quotes")[0], 200)
