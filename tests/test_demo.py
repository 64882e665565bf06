"""
Tests for the built-in quotes demo: its pages, form and JSON API through
the app resource in memory, its quote store and QOTD quoter, over a real
database (SQLite in a temporary file, and PostgreSQL when it is running).
"""

import functools
import json
import os
import re
import urllib.parse
import uuid

from twisted.internet import defer, task
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.server import Site
from zope.interface.verify import verifyObject

from appserver.tap import webapp
from appserver.sessions import MemorySessionStore, SessionManager, SessionResource, Signer
from appserver.web import AppResource, loadApp
from appserver.web.demo.quoter import DatabaseQuoter, IQuoter, formatQuote
from appserver.web.demo.store import MIGRATIONS, QuoteStore
from services.db import DatabaseService
from services.sessionserver.store import Store
from tests.support import requireService, roundTrips, tempDir
from tests.websupport import parseResponse, startRequest

SEEDED = "An apple a day keeps the doctor away."
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def inReactor(method):
    """
    Run an C{async def} test method as a Deferred trial waits for.
    """
    @functools.wraps(method)
    def run(self):
        return defer.ensureDeferred(method(self))
    return run


def demoResource(db):
    """
    The demo app over C{db}, behind a session manager with a memory store,
    answering errors as C{twistd web-app} does.
    """
    app = loadApp("appserver.web.demo", attributes={"db": db})
    clock = task.Clock()
    store = MemorySessionStore(Store(clock=clock))
    manager = SessionManager(store, Signer([b"s" * 32]), clock=clock)
    resource = AppResource(app.buildRouter(), errorStatuses=webapp.ERROR_STATUSES)
    return SessionResource(resource, manager)


class Browser:
    """
    Send requests to a resource in memory, keeping its cookies.
    """

    def __init__(self, resource):
        self.site = Site(resource, reactor=MemoryReactorClock())
        self.cookies = {}

    async def fetch(self, method, path, body=b"", headers=None):
        """
        Send one request; return its L{tests.websupport.Answer} once the
        response is complete.
        """
        headers = dict(headers or {})
        if self.cookies:
            headers[b"Cookie"] = b"; ".join(b"=".join(item) for item in self.cookies.items())
        transport = startRequest(self.site.resource, method, path, headers, body, self.site)
        channel = getattr(transport.protocol, "_channel", transport.protocol)
        if channel.requests:
            await channel.requests[-1].notifyFinish()
        answer = parseResponse(transport.value())
        self._keepCookie(answer.header("set-cookie"))
        return answer

    def _keepCookie(self, header):
        if header:
            name, _, value = header.split(b";")[0].partition(b"=")
            self.cookies[name.strip()] = value.strip()

    async def json(self, method, path, data=None, contentType=b"application/json"):
        """
        Send C{data} as JSON (when given); return the answer and its decoded body.
        """
        body = b"" if data is None else json.dumps(data).encode()
        headers = {b"Content-Type": contentType} if contentType else {}
        answer = await self.fetch(method, path, body, headers)
        return answer, (json.loads(answer.body) if answer.body else None)

    async def postForm(self, path, fields):
        """
        Post C{fields} form-encoded.
        """
        body = urllib.parse.urlencode(fields).encode()
        return await self.fetch(b"POST", path, body,
                                {b"Content-Type": b"application/x-www-form-urlencoded"})


def csrfFrom(page):
    """
    The CSRF token of the home page's form.
    """
    return re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()


class DemoMixin:
    """
    The demo's behaviour over whatever database L{databaseURL} names.
    """

    timeout = 60

    def startDatabase(self):
        db = DatabaseService(self.databaseURL(), minThreads=1, maxThreads=3,
                             migrationDirs=[MIGRATIONS])
        db.startService()
        self.addCleanup(self.stopDatabase, db)
        return db

    def stopDatabase(self, db):
        if db.running:
            db.stopService()

    def setUp(self):
        self.db = self.startDatabase()
        self.browser = Browser(demoResource(self.db))

    async def postNul(self):
        """
        Post a quote holding a NUL character through the JSON API and the
        form; return both answers.
        """
        api = await self.browser.fetch(b"POST", b"/api/quotes", b'{"text": "a\\u0000b"}',
                                       {b"Content-Type": b"application/json"})
        token = csrfFrom((await self.browser.fetch(b"GET", b"/")).body)
        form = await self.browser.postForm(b"/quotes", {"text": "c\x00d", "csrf_token": token})
        return api, form

    @inReactor
    async def test_list(self):
        """GET /api/quotes lists the seeded quotes as id/text/author objects."""
        answer, quotes = await self.browser.json(b"GET", b"/api/quotes")
        self.assertEqual(answer.code, 200)
        self.assertEqual(answer.header("content-type"), b"application/json")
        self.assertEqual(quotes[0], {"id": 1, "text": SEEDED, "author": "Proverb"})
        self.assertEqual(len(quotes), 4)

    @inReactor
    async def test_addGetDelete(self):
        """A posted quote is 201 with its id and Location; it can be read and deleted."""
        answer, created = await self.browser.json(
            b"POST", b"/api/quotes", {"text": " New quote ", "author": "Me"})
        self.assertEqual(answer.code, 201)
        self.assertEqual(created, {"id": 5, "text": "New quote", "author": "Me"})
        location = answer.header("location")
        self.assertEqual(location, b"/api/quotes/5")
        answer, shown = await self.browser.json(b"GET", location)
        self.assertEqual((answer.code, shown), (200, created))
        answer, _ = await self.browser.json(b"DELETE", location)
        self.assertEqual(answer.code, 204)
        answer, error = await self.browser.json(b"GET", location)
        self.assertEqual((answer.code, error), (404, {"error": "No quote 5."}))
        answer, _ = await self.browser.json(b"DELETE", location)
        self.assertEqual(answer.code, 404)

    @inReactor
    async def test_idsNotReused(self):
        """A deleted quote's id is never given to a new quote."""
        _, first = await self.browser.json(b"POST", b"/api/quotes", {"text": "a"})
        await self.browser.json(b"DELETE", b"/api/quotes/%d" % first["id"])
        _, second = await self.browser.json(b"POST", b"/api/quotes", {"text": "b"})
        self.assertEqual(second["id"], first["id"] + 1)
        self.assertEqual(second["author"], "")

    @inReactor
    async def test_absent(self):
        """Unknown ids, even beyond the range of the id column, are 404."""
        for quoteId in [0, 99, 2 ** 31, 10 ** 30]:
            path = b"/api/quotes/%d" % quoteId
            self.assertEqual((await self.browser.json(b"GET", path))[0].code, 404)
            self.assertEqual((await self.browser.json(b"DELETE", path))[0].code, 404)

    @inReactor
    async def test_badRequests(self):
        """Bad JSON, a missing or bad field and another content type are 400s with a message."""
        cases = [
            (b"{oops", b"application/json", "Malformed JSON"),
            (b"", b"application/json", "empty"),
            (b"[1]", b"application/json", "JSON object"),
            (b'{"author": "x"}', b"application/json", "'text'"),
            (b'{"text": "  "}', b"application/json", "'text'"),
            (b'{"text": "x", "author": 3}', b"application/json", "'author'"),
            (json.dumps({"text": "x" * 1001}).encode(), b"application/json", "at most"),
            (b'{"text": "x"}', b"text/plain", "application/json"),
            (b'{"text": "x"}', b"application/x-www-form-urlencoded", "application/json"),
            (b'{"text": "x"}', None, "application/json"),
        ]
        for body, contentType, message in cases:
            headers = {b"Content-Type": contentType} if contentType else {}
            answer = await self.browser.fetch(b"POST", b"/api/quotes", body, headers)
            self.assertEqual(answer.code, 400, body)
            self.assertIn(message, json.loads(answer.body)["error"])
        _, quotes = await self.browser.json(b"GET", b"/api/quotes")
        self.assertEqual(len(quotes), 4)

    @inReactor
    async def test_contentTypeParameters(self):
        """A charset parameter and upper case do not matter."""
        answer, _ = await self.browser.json(b"POST", b"/api/quotes", {"text": "x"},
                                            contentType=b"Application/JSON; charset=utf-8")
        self.assertEqual(answer.code, 201)

    @inReactor
    async def test_home(self):
        """The home page shows a quote, every quote, and a form with a CSRF token."""
        answer = await self.browser.fetch(b"GET", b"/")
        self.assertEqual(answer.code, 200)
        self.assertIn(b'<form method="post" action="/quotes">', answer.body)
        self.assertIn(b"All 4 quotes", answer.body)
        self.assertIn(SEEDED.encode(), answer.body)
        self.assertIn(b'<blockquote id="random">', answer.body)
        self.assertNotIn(b'id="flash"', answer.body)
        self.assertNotIn(b'id="empty"', answer.body)
        self.assertTrue(csrfFrom(answer.body))

    @inReactor
    async def test_homeEscapes(self):
        """Quotes are HTML-escaped on the page."""
        await self.browser.json(b"POST", b"/api/quotes", {"text": "<script>x</script>"})
        body = (await self.browser.fetch(b"GET", b"/")).body
        self.assertIn(b"&lt;script&gt;x&lt;/script&gt;", body)
        self.assertNotIn(b"<script>", body)

    @inReactor
    async def test_homeEmpty(self):
        """With no quotes, the page says so."""
        for quoteId in range(1, 5):
            await self.browser.json(b"DELETE", b"/api/quotes/%d" % quoteId)
        body = (await self.browser.fetch(b"GET", b"/")).body
        self.assertIn(b'id="empty"', body)
        self.assertNotIn(b"<blockquote", body)

    @inReactor
    async def test_form(self):
        """The form with its CSRF token adds a quote, redirects with 303, and flashes once."""
        token = csrfFrom((await self.browser.fetch(b"GET", b"/")).body)
        answer = await self.browser.postForm(
            b"/quotes", {"text": "Form quote", "author": "Tester", "csrf_token": token})
        self.assertEqual((answer.code, answer.header("location")), (303, b"/"))
        page = (await self.browser.fetch(b"GET", b"/")).body
        self.assertIn(b'<p id="flash" role="status">Quote added.</p>', page)
        self.assertIn(b"Form quote", page)
        self.assertIn(b"All 5 quotes", page)
        self.assertNotIn(b'id="flash"', (await self.browser.fetch(b"GET", b"/")).body)
        _, quotes = await self.browser.json(b"GET", b"/api/quotes")
        self.assertEqual(quotes[-1], {"id": 5, "text": "Form quote", "author": "Tester"})

    @inReactor
    async def test_formInvalid(self):
        """An empty quote from the form adds nothing and flashes why."""
        token = csrfFrom((await self.browser.fetch(b"GET", b"/")).body)
        answer = await self.browser.postForm(b"/quotes", {"text": " ", "csrf_token": token})
        self.assertEqual(answer.code, 303)
        page = (await self.browser.fetch(b"GET", b"/")).body
        self.assertIn(b"A quote needs a non-empty", page)
        self.assertIn(b"All 4 quotes", page)

    @inReactor
    async def test_formBadToken(self):
        """A missing or wrong CSRF token is a 403 with a short message, and adds nothing."""
        await self.browser.fetch(b"GET", b"/")
        for fields in [{"text": "Forged"}, {"text": "Forged", "csrf_token": "nope"}]:
            answer = await self.browser.postForm(b"/quotes", fields)
            self.assertEqual(answer.code, 403)
            self.assertIn(b"reload the page", answer.body)
        stranger = Browser(self.browser.site.resource)
        token = csrfFrom((await self.browser.fetch(b"GET", b"/")).body)
        answer = await stranger.postForm(b"/quotes", {"text": "Forged", "csrf_token": token})
        self.assertEqual(answer.code, 403)
        _, quotes = await self.browser.json(b"GET", b"/api/quotes")
        self.assertNotIn("Forged", [q["text"] for q in quotes])

    @inReactor
    async def test_anonymousViews(self):
        """Anonymous page views store no session; a form post stores one."""
        store = self.browser.site.resource.manager.store.store
        for _ in range(50):
            answer = await Browser(self.browser.site.resource).fetch(b"GET", b"/")
            self.assertEqual(answer.code, 200)
            self.assertTrue(csrfFrom(answer.body))
        self.assertEqual(len(store), 0)
        token = csrfFrom((await self.browser.fetch(b"GET", b"/")).body)
        await self.browser.postForm(b"/quotes", {"text": "Stored", "csrf_token": token})
        self.assertEqual(len(store), 1)

    @inReactor
    async def test_formTokenInQuery(self):
        """A CSRF token in the query string instead of the form is a 403."""
        token = csrfFrom((await self.browser.fetch(b"GET", b"/")).body)
        answer = await self.browser.postForm(
            b"/quotes?csrf_token=" + token.encode(), {"text": "From the query"})
        self.assertEqual(answer.code, 403)
        _, quotes = await self.browser.json(b"GET", b"/api/quotes")
        self.assertNotIn("From the query", [q["text"] for q in quotes])

    @inReactor
    async def test_quoter(self):
        """The QOTD quoter serves seeded quotes, then one added later."""
        quoter = DatabaseQuoter(self.db)
        verifyObject(IQuoter, quoter)
        store = QuoteStore(self.db)
        seeded = [formatQuote(q) for q in await store.list()]
        self.assertIn(await quoter.getQuote(), seeded)
        self.assertIn(f"{SEEDED} \N{EM DASH} Proverb", seeded)
        for quoteId in range(1, 5):
            self.assertTrue(await store.delete(quoteId))
        self.assertEqual(await quoter.getQuote(), "")
        await self.browser.json(b"POST", b"/api/quotes", {"text": "Added later"})
        self.assertEqual(await quoter.getQuote(), "Added later")

    @inReactor
    async def test_survivesRestart(self):
        """Quotes added and deleted stay so after the database service restarts."""
        _, created = await self.browser.json(b"POST", b"/api/quotes",
                                             {"text": "Kept", "author": "Disk"})
        await self.browser.json(b"DELETE", b"/api/quotes/2")
        self.db.stopService()
        self.db = self.startDatabase()
        browser = Browser(demoResource(self.db))
        _, quotes = await browser.json(b"GET", b"/api/quotes")
        self.assertEqual([q["id"] for q in quotes], [1, 3, 4, created["id"]])
        self.assertEqual(quotes[-1], created)
        self.assertEqual(self.db.appliedMigrations, [])
        self.assertIn(await DatabaseQuoter(self.db).getQuote(),
                      [formatQuote(q) for q in quotes])
        _, again = await browser.json(b"POST", b"/api/quotes", {"text": "Next"})
        self.assertEqual(again["id"], created["id"] + 1)

    @inReactor
    async def test_concurrentAdds(self):
        """Quotes added at the same time from several pool threads get distinct ids."""
        store = QuoteStore(self.db)
        ids = await defer.gatherResults([store.add(f"q{n}", "") for n in range(20)])
        self.assertEqual(sorted(ids), list(range(5, 25)))


class SQLiteDemoTests(DemoMixin, TestCase):
    """
    The demo over SQLite in a temporary file.
    """

    def databaseURL(self):
        if not hasattr(self, "_path"):
            self._path = os.path.join(tempDir(self), "demo.sqlite3")
        return f"sqlite:///{self._path}"

    @inReactor
    async def test_nulStored(self):
        """SQLite stores text with a NUL character as it is."""
        api, form = await self.postNul()
        self.assertEqual((api.code, form.code), (201, 303))
        _, quotes = await self.browser.json(b"GET", b"/api/quotes")
        self.assertEqual([q["text"] for q in quotes[-2:]], ["a\x00b", "c\x00d"])


class PostgresDemoTests(DemoMixin, TestCase):
    """
    The demo over PostgreSQL, in a schema of its own.
    """

    def setUp(self):
        requireService("PostgreSQL", "127.0.0.1", 5432)
        self.schema = f"appserver_demo_{uuid.uuid4().hex[:12]}"
        self.admin(f"CREATE SCHEMA {self.schema}")
        self.addCleanup(self.admin, f"DROP SCHEMA {self.schema} CASCADE")
        DemoMixin.setUp(self)

    def admin(self, sql):
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
            connection.execute(sql)

    def databaseURL(self):
        return f"{POSTGRES_ADMIN}?options=-csearch_path%3D{self.schema}"

    @inReactor
    async def test_nulRefused(self):
        """Text with a NUL character, which PostgreSQL cannot store, is a 400 saying so."""
        for answer in await self.postNul():
            self.assertEqual((answer.code, answer.body), (400, webapp.UNSTORABLE_TEXT))
        self.assertEqual(self.flushLoggedErrors(), [])


class NoDatabaseTests(SynchronousTestCase):
    """
    The demo loaded without a database, and the quoter's persistence.
    """

    def test_noDatabase(self):
        """Without a database, the demo's pages answer 503 with a short message."""
        app = loadApp("appserver.web.demo")
        resource = AppResource(app.buildRouter())
        browser = Browser(resource)
        answer = self.successResultOf(defer.ensureDeferred(
            browser.fetch(b"GET", b"/api/quotes")))
        self.assertEqual((answer.code, answer.body), (503, b"The quotes demo has no database."))

    def test_formatQuote(self):
        """A quote is 'text — author', or its text alone without an author."""
        self.assertEqual(formatQuote({"text": "a", "author": "b"}), "a \N{EM DASH} b")
        self.assertEqual(formatQuote({"text": "a", "author": ""}), "a")
        self.assertEqual(formatQuote(None), "")

    def test_quoterPersists(self):
        """The quoter pickles with its database service, and nothing else."""
        db = DatabaseService("sqlite:///demo.sqlite3", migrationDirs=[MIGRATIONS])
        for restored in roundTrips(DatabaseQuoter(db)):
            self.assertEqual(list(vars(restored)), ["db"])
            self.assertIsInstance(restored.db, DatabaseService)
            self.assertEqual(restored.db.migrationDirs, (MIGRATIONS,))
