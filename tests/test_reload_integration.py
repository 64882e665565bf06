"""
Integration tests: twistd web-app --reload with a real app directory, edited
the way people and editors do.
"""

import http.client
import json
import os
import time

from twisted.trial.unittest import SynchronousTestCase

from tests.support import freePort, startTwistd, tempDir

DEADLINE = 15

VERSION = """\
from appserver.web import Controller, route

class Version(Controller):
    @route("/version")
    def version(self, request):
        return "{version}"
"""

EXTRA = """\
from appserver.web import Controller, route

class Extra(Controller):
    @route("/extra")
    def extra(self, request):
        return "extra"
"""


def get(port, path):
    """
    GET C{path}: C{(status, headers, body)}.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def waitFor(condition, what, deadline=DEADLINE):
    """
    Poll C{condition()} until it returns a true value, for at most
    C{deadline} seconds.
    """
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {deadline}s")


def writeInPlace(path, text):
    with open(path, "w") as f:
        f.write(text)


def writeThenRename(path, text):
    temporary = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(temporary, "w") as f:
        f.write(text)
    os.replace(temporary, path)


class ReloadTests(SynchronousTestCase):
    """
    Edit a served controller and see the new code answer.
    """

    def setUp(self):
        self.root = tempDir(self)
        self.app = os.path.join(self.root, "app")
        os.makedirs(os.path.join(self.app, "controllers"))
        self.controller = os.path.join(self.app, "controllers", "version.py")
        writeInPlace(self.controller, VERSION.format(version="v1"))
        self.port = freePort()
        startTwistd(self, ["web-app", "--port", f"tcp:{self.port}:interface=127.0.0.1",
                           "--app", self.app, "--reload", "--debug",
                           "--db", "sqlite:///app.sqlite3"], self.root, self.port)
        self.assertEqual(get(self.port, "/version")[2], b"v1")

    def waitForBody(self, path, body):
        waitFor(lambda: get(self.port, path)[2] == body, f"{path} answering {body!r}")

    def reloader(self):
        services = json.loads(get(self.port, "/_appserver/services")[2])["services"][0]
        return {c["name"]: c for c in services["children"]}["reloader"]["figures"]

    def test_writeInPlace(self):
        """A controller rewritten in place answers with its new code."""
        writeInPlace(self.controller, VERSION.format(version="v2"))
        self.waitForBody("/version", b"v2")

    def test_writeThenRename(self):
        """A controller saved as editors do (write a copy, rename over) reloads."""
        writeThenRename(self.controller, VERSION.format(version="v3"))
        self.waitForBody("/version", b"v3")
        writeThenRename(self.controller, VERSION.format(version="v4"))
        self.waitForBody("/version", b"v4")

    def test_newAndRemovedFiles(self):
        """A new controller file adds its routes; deleting it removes them."""
        extra = os.path.join(self.app, "controllers", "extra.py")
        writeInPlace(extra, EXTRA)
        self.waitForBody("/extra", b"extra")
        os.remove(extra)
        waitFor(lambda: get(self.port, "/extra")[0] == 404, "/extra gone")
        self.assertEqual(get(self.port, "/version")[2], b"v1")

    def test_brokenKeepsServing(self):
        """A syntax error keeps the old code serving, with a banner, until fixed."""
        writeInPlace(self.controller, "def broken(:\n")
        status, headers, body = waitFor(
            lambda: (lambda a: a if "X-Appserver-Reload-Error" in a[1] else None)(
                get(self.port, "/version")),
            "the reload error banner")
        self.assertEqual(status, 200)
        self.assertIn("version.py, line 1", headers["X-Appserver-Reload-Error"])
        self.assertTrue(body.endswith(b"v1"))
        self.assertIn("version.py, line 1", self.reloader()["lastError"])
        writeInPlace(self.controller, VERSION.format(version="fixed"))
        self.waitForBody("/version", b"fixed")
        self.assertNotIn("X-Appserver-Reload-Error", get(self.port, "/version")[1])
        self.assertIsNone(self.reloader()["lastError"])

    def test_brokenLoggedOnce(self):
        """A failed reload is one log line naming the file and line, no traceback."""
        writeInPlace(self.controller, "def broken(:\n")
        waitFor(lambda: self.reloader()["lastError"], "the failed reload")
        with open(os.path.join(self.root, "twistd.out")) as f:
            log = f.read()
        self.assertEqual(len([line for line in log.splitlines() if "version.py" in line]), 1,
                         log)
        self.assertIn("version.py, line 1", log)
        self.assertNotIn("Traceback", log)

    def test_newDirectory(self):
        """Templates in a directory made after start are watched and reloaded."""
        templates = os.path.join(self.app, "templates")
        os.makedirs(templates)
        page = ('<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">'
                '{word}</p>')
        writeInPlace(os.path.join(templates, "page.xml"), page.format(word="one"))
        writeInPlace(self.controller, VERSION.format(version="v1") +
                     '    @route("/page")\n'
                     '    def page(self, request):\n'
                     '        return self.template("page.xml")\n')
        waitFor(lambda: b"<p>one</p>" in get(self.port, "/page")[2], "the template")
        writeThenRename(os.path.join(templates, "page.xml"), page.format(word="two"))
        waitFor(lambda: b"<p>two</p>" in get(self.port, "/page")[2], "the new template")
