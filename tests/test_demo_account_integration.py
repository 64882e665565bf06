"""
The demo's "your sessions" page in a real twistd web-app, used by two
browsers (two cookie jars) logged in as the same user; and the operator's
appserver-sessions ending a user's sessions in the store that web-app uses.
"""

import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request

from twisted.trial.unittest import SynchronousTestCase

from tests.support import SOURCE, freePort, run, startTwistd, tempDir

SECRET = "a secret of enough length for the demo"


class Browser:
    """
    A client keeping cookies as a browser does, following redirects.
    """

    def __init__(self, port):
        self.port = port
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def page(self, path="/account", fields=None):
        """
        GET C{path}, or POST C{fields} to it; the final page's text.
        """
        data = None if fields is None else urllib.parse.urlencode(fields).encode()
        with self.opener.open(f"http://127.0.0.1:{self.port}{path}", data, timeout=10) as r:
            return r.read().decode()

    def post(self, path, **fields):
        """
        Post a form of the account page, with the page's CSRF token.
        """
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.page()).group(1)
        return self.page(path, dict(fields, csrf_token=token))

    def user(self):
        """
        Who the account page says this browser is logged in as, or None.
        """
        found = re.search(r'<span id="user">([^<]*)</span>', self.page())
        return found and found.group(1)


def otherHashes(page):
    return re.findall(r'name="session" value="([0-9a-f]{32})"', page)


class DemoAccountTests(SynchronousTestCase):
    def startDemo(self, *options):
        directory, port = tempDir(self), freePort()
        startTwistd(self, ["web-app", "--port", f"tcp:{port}:interface=127.0.0.1",
                           "--secret", SECRET] + list(options), directory, port)
        return directory, port

    def test_revokeAnotherBrowser(self):
        """Logged in as one user in two browsers, one lists both and logs the other out."""
        _, port = self.startDemo()
        first, second = Browser(port), Browser(port)
        first.post("/login", name="alice")
        second.post("/login", name="alice")
        self.assertEqual((first.user(), second.user()), ("alice", "alice"))
        page = first.page()
        self.assertIn("Python-urllib", page)
        [other] = otherHashes(page)
        for cookie in list(first.jar) + list(second.jar):
            self.assertNotIn(cookie.value.split(".")[0], page)
        self.assertIn("Session ended.", first.post("/account/revoke", session=other))
        self.assertIsNone(second.user())
        self.assertEqual(first.user(), "alice")
        self.assertEqual(otherHashes(first.page()), [])

    def assertOperatorEnds(self, port, spec):
        """
        appserver-sessions revoke --user, against the store C{spec} names,
        logs alice out of both her browsers and leaves bob logged in.
        """
        alice, again, bob = Browser(port), Browser(port), Browser(port)
        for browser, name in [(alice, "alice"), (again, "alice"), (bob, "bob")]:
            browser.post("/login", name=name)
        code, output = run([sys.executable, "-m", "appserver.sessions.admin", "--sessions",
                            spec, "revoke", "--user", "alice"], SOURCE)
        self.assertEqual((code, output), (0, "Ended 2 sessions of alice.\n"))
        self.assertEqual([b.user() for b in (alice, again, bob)], [None, None, "bob"])

    def test_operatorFileStore(self):
        """The operator ends a user's sessions in the file store web-app uses."""
        directory, port = self.startDemo("--sessions", "file:sessions")
        self.assertOperatorEnds(port, f"file:{directory}/sessions")

    def test_operatorSessionPort(self):
        """The operator ends a user's sessions in web-app's memory store, over --session-port."""
        sessionPort = freePort()
        _, port = self.startDemo("--session-port", f"tcp:{sessionPort}:interface=127.0.0.1",
                                 "--session-port-password", "sesame")
        self.assertOperatorEnds(port, f"redis://:sesame@127.0.0.1:{sessionPort}/0")
