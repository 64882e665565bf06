"""
Web sessions in real twistd web-app processes, used through a browser-like
cookie jar: the embedded store, several processes sharing it over RESP, and
a real Redis.
"""

import http.cookiejar
import json
import urllib.request

from twisted.trial.unittest import SynchronousTestCase

from tests.support import freePort, requireService, startTwistd, tempDir, waitForPort
from tests.test_webapp_integration import writeFiles

SECRET = "a shared secret of enough length"

COUNTER = '''
from appserver.sessions import getSession
from appserver.web import Controller, route


class Counter(Controller):
    @route("/count")
    async def count(self, request):
        session = await getSession(request)
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    @route("/login", methods=["POST"])
    async def login(self, request):
        session = await getSession(request)
        session.rotate()
        session["user"] = "alice"
        return {"user": "alice"}

    @route("/logout", methods=["POST"])
    async def logout(self, request):
        session = await getSession(request)
        session.invalidate()
        return {"bye": True}
'''


class Browser:
    """
    A client keeping cookies as a browser does.
    """

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(self, port, path, method="GET"):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                         data=b"" if method == "POST" else None)
        with self.opener.open(request, timeout=10) as response:
            return response.headers.get_all("Set-Cookie") or [], json.loads(response.read())

    def count(self, port):
        return self.call(port, "/count")[1]["n"]

    def cookie(self):
        return {cookie.name: cookie.value for cookie in self.jar}


class SessionsTests(SynchronousTestCase):
    """
    Sessions over real HTTP with real twistd processes.
    """

    def startApp(self, *options):
        directory, port = tempDir(self), freePort()
        writeFiles(directory, {"app/controllers/counter.py": COUNTER})
        startTwistd(self, ["web-app", "--port", f"tcp:{port}:interface=127.0.0.1",
                           "--app", "app", "--db", "sqlite:///app.sqlite3",
                           "--secret", SECRET] + list(options), directory, port)
        return port

    def test_embeddedStore(self):
        """A session follows its cookie; the cookie is HttpOnly, SameSite=Lax,
        set only when the session is created or rotated."""
        port = self.startApp()
        browser, other = Browser(), Browser()
        cookies, body = browser.call(port, "/count")
        self.assertEqual(body, {"n": 1})
        self.assertEqual(len(cookies), 1)
        attributes = [part.strip().lower() for part in cookies[0].split(";")]
        self.assertIn("httponly", attributes)
        self.assertIn("samesite=lax", attributes)
        self.assertIn("path=/", attributes)
        self.assertFalse(any(part.startswith("expires") for part in attributes))
        cookies, body = browser.call(port, "/count")
        self.assertEqual((cookies, body), ([], {"n": 2}))
        self.assertEqual(other.count(port), 1)
        self.assertEqual(browser.count(port), 3)

    def test_rotateAndInvalidate(self):
        """Login rotates the id (the old cookie no longer works); logout
        ends the session."""
        port = self.startApp()
        browser = Browser()
        browser.count(port)
        before = browser.cookie()
        cookies, _ = browser.call(port, "/login", "POST")
        self.assertEqual(len(cookies), 1)
        self.assertNotEqual(browser.cookie(), before)
        self.assertEqual(browser.count(port), 2)
        thief = Browser()
        thief.jar.set_cookie(cookieFor(*next(iter(before.items()))))
        self.assertEqual(thief.count(port), 1)
        browser.call(port, "/logout", "POST")
        self.assertEqual(browser.count(port), 1)

    def test_forgedCookie(self):
        """A forged cookie silently gets a fresh session."""
        port = self.startApp()
        browser = Browser()
        browser.count(port)
        name, value = next(iter(browser.cookie().items()))
        forged = Browser()
        forged.jar.set_cookie(cookieFor(name, value[:-2] + "00"))
        self.assertEqual(forged.count(port), 1)

    def test_sharedThroughSessionPort(self):
        """A second process shares the first one's embedded store through
        --session-port, so a user can land on either."""
        sessionPort = freePort()
        first = self.startApp("--session-port", f"tcp:{sessionPort}:interface=127.0.0.1")
        waitForPort(sessionPort)
        second = self.startApp("--sessions", f"redis://127.0.0.1:{sessionPort}/0")
        browser = Browser()
        self.assertEqual([browser.count(first), browser.count(second),
                          browser.count(first)], [1, 2, 3])

    def test_realRedis(self):
        """Two processes share sessions through a real Redis."""
        requireService("Redis", "127.0.0.1", 6379)
        first = self.startApp("--sessions", "redis://127.0.0.1:6379/0")
        second = self.startApp("--sessions", "redis://127.0.0.1:6379/0")
        browser = Browser()
        self.assertEqual([browser.count(first), browser.count(second),
                          browser.count(second)], [1, 2, 3])
        browser.call(first, "/logout", "POST")
        self.assertEqual(browser.count(second), 1)
        browser.call(second, "/logout", "POST")


def cookieFor(name, value):
    """
    A cookie for 127.0.0.1, as a browser would keep it.
    """
    return http.cookiejar.Cookie(
        0, name, value, None, False, "127.0.0.1", False, False, "/", True,
        False, None, False, None, None, {"HttpOnly": None})
