"""
Tests for the demo's account page: a login by name, "your sessions" and
their revoke buttons, through the app resource in memory with two
browsers (cookie jars) at once.
"""

import re
import urllib.parse

from twisted.internet import task
from twisted.trial.unittest import TestCase

from appserver.sessions import MemorySessionStore, SessionManager, SessionResource, Signer
from appserver.tap import webapp
from appserver.web import AppResource, loadApp
from appserver.web.demo.controllers.account import validName
from services.sessionserver.store import Store
from tests.test_demo import Browser, inReactor

START = 1_700_000_000


class Jar(Browser):
    """
    A browser keeping every cookie a response sets, and dropping those it
    clears.
    """

    async def fetch(self, method, path, body=b"", headers=None):
        answer = await Browser.fetch(self, method, path, body, headers)
        for value in re.findall(rb"(?im)^set-cookie:\s*(.*?)\r$", answer.raw.split(b"\r\n\r\n")[0]
                                + b"\r"):
            name, _, rest = value.partition(b"=")
            if b"max-age=0" in rest.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = rest.split(b";")[0].strip()
        return answer

    async def page(self):
        """
        The account page's body, as text.
        """
        answer = await self.fetch(b"GET", b"/account")
        assert answer.code == 200, answer.raw
        return answer.body.decode()

    async def post(self, path, **fields):
        """
        Post a form of the account page with its CSRF token; return the answer.
        """
        fields.setdefault("csrf_token", re.search(r'name="csrf_token" value="([^"]+)"',
                                                  await self.page()).group(1))
        body = urllib.parse.urlencode(fields).encode()
        return await self.fetch(b"POST", path.encode(), body,
                                {b"Content-Type": b"application/x-www-form-urlencoded"})


def otherHashes(page):
    """
    The hashes in the revoke buttons of "other browsers".
    """
    return re.findall(r'name="session" value="([0-9a-f]{32})"', page)


class AccountTests(TestCase):
    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(START)
        self.store = MemorySessionStore(Store(clock=self.clock))
        self.manager = SessionManager(self.store, Signer([b"s" * 32]), clock=self.clock)
        app = loadApp("appserver.web.demo", attributes={"db": None})
        resource = SessionResource(
            AppResource(app.buildRouter(), errorStatuses=webapp.ERROR_STATUSES), self.manager)
        self.first, self.second = Jar(resource), Jar(resource)

    @inReactor
    async def test_anonymous(self):
        """Without a login the page offers the login form and stores no session."""
        page = await self.first.page()
        self.assertIn('action="/login"', page)
        self.assertNotIn("Your sessions", page)
        self.assertEqual(len(self.store.store), 0)

    @inReactor
    async def test_login(self):
        """Logging in by name shows the user and this browser's session, no other."""
        answer = await self.first.post("/login", name=" alice ")
        self.assertEqual((answer.code, answer.header("location")), (303, b"/account"))
        page = await self.first.page()
        self.assertIn('<span id="user">alice</span>', page)
        self.assertIn("Logged in as alice.", page)
        self.assertEqual(otherHashes(page), [])

    @inReactor
    async def test_loginNeedsToken(self):
        """A login without the CSRF token is refused."""
        answer = await self.first.post("/login", name="alice", csrf_token="forged")
        self.assertEqual(answer.code, 403)
        self.assertIn("Log in", await self.first.page())

    @inReactor
    async def test_badName(self):
        """An empty name is refused with a message, and nobody is logged in."""
        await self.first.post("/login", name="   ")
        page = await self.first.page()
        self.assertIn("A name is 1 to 64 printable characters.", page)
        self.assertIn('action="/login"', page)

    async def bothLoggedIn(self):
        """
        Log both browsers in as alice; return the hash the first lists for
        the second.
        """
        await self.first.post("/login", name="alice")
        await self.second.post("/login", name="alice")
        [other] = otherHashes(await self.first.page())
        return other

    @inReactor
    async def test_revokeOtherBrowser(self):
        """One browser lists the other's session and logs it out."""
        other = await self.bothLoggedIn()
        answer = await self.first.post("/account/revoke", session=other)
        self.assertEqual(answer.code, 303)
        self.assertIn("Session ended.", await self.first.page())
        self.assertIn('action="/login"', await self.second.page())
        self.assertIn('<span id="user">alice</span>', await self.first.page())
        self.assertEqual(otherHashes(await self.first.page()), [])

    @inReactor
    async def test_revokeNeedsToken(self):
        """Revoking without the CSRF token is refused and ends nothing."""
        other = await self.bothLoggedIn()
        answer = await self.first.post("/account/revoke", session=other, csrf_token="x")
        self.assertEqual(answer.code, 403)
        self.assertIn('<span id="user">alice</span>', await self.second.page())

    @inReactor
    async def test_revokeOthers(self):
        """"Log out everywhere else" ends the other browser's session and keeps this one."""
        await self.bothLoggedIn()
        await self.first.post("/account/revoke-others")
        self.assertIn("Ended 1 other sessions.", await self.first.page())
        self.assertIn('action="/login"', await self.second.page())

    @inReactor
    async def test_otherUsersApart(self):
        """Another user's sessions are not listed, and cannot be revoked by hash."""
        await self.first.post("/login", name="alice")
        await self.second.post("/login", name="bob")
        self.assertEqual(otherHashes(await self.first.page()), [])
        [bobs] = await self.manager.users.list("bob")
        await self.first.post("/account/revoke", session=bobs.idHash)
        self.assertIn("That session had already ended.", await self.first.page())
        self.assertIn('<span id="user">bob</span>', await self.second.page())

    @inReactor
    async def test_logout(self):
        """Logging out ends the session and its entry in the user's list."""
        await self.bothLoggedIn()
        await self.second.post("/logout")
        self.assertIn("Logged out.", await self.second.page())
        self.assertEqual(otherHashes(await self.first.page()), [])

    def test_validName(self):
        """Names are stripped; empty, overlong or unprintable ones are refused."""
        self.assertEqual(validName("  ann "), "ann")
        for bad in ["", "  ", "a" * 65, "a\nb", None, 3]:
            self.assertRaises(ValueError, validName, bad)
