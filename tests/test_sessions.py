"""
Tests for web sessions: the session object, the manager (cookies, lazy
loading, saving, rotation, timeouts), the resource wrapper, CSRF tokens and
the sessions service.
"""

import http.cookiejar
import io
import os
import pickle

from twisted.internet import defer, task
from twisted.logger import LogLevel, formatEvent
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web import client, server
from twisted.web.resource import Resource
from twisted.web.test.requesthelper import DummyChannel
from zope.interface import implementer
from zope.interface.verify import verifyObject

from appserver.sessions import (
    ISessionManager, ISessionStore, Session, SessionManager, SessionResource, Signer,
    checkCsrfToken, csrfToken, getSession, makeSessionsService, tokenFromRequest,
)
from appserver.sessions.manager import SessionStoreUnavailable
from appserver.sessions.session import decodeRecord, encodeRecord
from appserver.sessions.signing import newSessionId
from appserver.sessions.stores import FileSessionStore, MemorySessionStore
from appserver.tap import webapp
from appserver.web import Controller, route
from appserver.web.hooks import runBeforeResponse
from appserver.web.resource import AppResource
from appserver.web.router import Router
from services.errors import StartupError
from services.sessionserver.store import Store
from tests.support import assertPersists, captureLog, freePort, tempDir
from tests.test_session_stores import silentServer, startRedisServer
from tests.websupport import request

SECRET = b"k" * 32
START = 1_700_000_000
MINUTE = 60
HOUR = 3600


@implementer(ISessionStore)
class RecordingStore:
    """
    A memory store that records the calls made to it.
    """

    def __init__(self, clock):
        self.wrapped = MemorySessionStore(Store(clock=clock))
        self.calls = []

    def open(self):
        return self.wrapped.open()

    def close(self):
        return self.wrapped.close()

    def load(self, sessionId, timeout):
        self.calls.append(("load", sessionId, timeout))
        return self.wrapped.load(sessionId, timeout)

    def save(self, sessionId, record, timeout):
        self.calls.append(("save", sessionId, timeout))
        return self.wrapped.save(sessionId, record, timeout)

    def delete(self, sessionId):
        self.calls.append(("delete", sessionId))
        return self.wrapped.delete(sessionId)

    def names(self):
        return [call[0] for call in self.calls]


def makeRequest(cookies=(), secure=False, manager=None):
    """
    A twisted.web request carrying C{cookies} (name, value pairs).
    """
    channel = DummyChannel()
    if secure:
        channel.transport = DummyChannel.SSL()
    request = server.Request(channel, False)
    if cookies:
        header = "; ".join(f"{name}={value}" for name, value in cookies)
        request.requestHeaders.setRawHeaders(b"cookie", [header.encode("latin-1")])
    request.parseCookies()
    if manager is not None:
        request.setComponent(ISessionManager, manager)
    return request


def setCookies(request):
    """
    The Set-Cookie values of C{request}, as text.
    """
    return [cookie.decode("latin-1") for cookie in request.cookies]


class SessionObjectTests(SynchronousTestCase):
    def test_mapping(self):
        """A session is a mutable mapping."""
        session = Session(newSessionId(), START)
        session["a"] = [1, {"b": None}]
        self.assertEqual(dict(session), {"a": [1, {"b": None}]})
        self.assertEqual(len(session), 1)
        del session["a"]
        self.assertNotIn("a", session)

    def test_getAndContains(self):
        """get and in read the data."""
        session = Session(newSessionId(), START, {"a": 1})
        self.assertEqual((session.get("a"), session.get("b"), session.get("b", 2)), (1, None, 2))
        self.assertEqual(("a" in session, "b" in session), (True, False))

    def test_notJSON(self):
        """Assigning a value JSON cannot hold raises TypeError naming the key."""
        session = Session(newSessionId(), START)
        for value in [object(), {1, 2}, b"bytes", float("nan"), float("inf"),
                      {"x": object()}]:
            with self.assertRaises(TypeError) as e:
                session["key"] = value
            self.assertIn("'key'", str(e.exception))
            self.assertNotIn("key", session)

    def test_plainValues(self):
        """Strings, integers, booleans and None are kept as given."""
        session = Session(newSessionId(), START)
        for value in ["text", "", 2**70, -1, True, False, None]:
            session["key"] = value
            self.assertIs(session["key"], value)

    def test_keysAreStrings(self):
        """Keys must be strings."""
        with self.assertRaises(TypeError):
            Session(newSessionId(), START)[1] = "x"

    def test_rotate(self):
        """Rotating changes the id, keeps the data and restarts the clock."""
        session = Session(newSessionId(), START, {"a": 1}, loaded=b"r", now=lambda: START + 5)
        old = session.id
        session.rotate()
        self.assertNotEqual(session.id, old)
        self.assertEqual((session.loadedId, session.created, dict(session)), (old, START + 5, {"a": 1}))
        self.assertTrue(session.hasNewId)

    def test_invalidate(self):
        """Invalidating changes the id and empties the session."""
        session = Session(newSessionId(), START, {"a": 1}, loaded=b"r")
        session.invalidate()
        self.assertEqual((len(session), session.invalidated), (0, True))
        self.assertFalse(session.needsSaving(session.record()))


class RecordTests(SynchronousTestCase):
    """
    The stored form of a session.
    """

    def test_roundTrip(self):
        """A record decodes to the creation time and data it was encoded from."""
        data = {"a": [1, {"b": None}], "é": "ü", "t": True, "f": 1.5}
        self.assertEqual(decodeRecord(encodeRecord(1700000000.25, data)),
                         (1700000000.25, data, None))
        self.assertEqual(decodeRecord(bytearray(encodeRecord(5, {}))), (5, {}, None))

    def test_notRecords(self):
        """Anything but a whole record object raises ValueError."""
        for record in [b"", b"\xff", b"[", b"null", b"[1]", b'"x', b' {"created":1,"data":{}}',
                       b'{"created":1,"data":{}} x', b'{"created":1,"data":{}}{}',
                       b'{"created":"1","data":{}}', b'{"created":1,"data":[]}',
                       b'{"created":1}', b'{"data":{}}', b'{"created":1,"data":{"a":"\\q"}}']:
            self.assertRaises(ValueError, decodeRecord, record)


class ManagerTests(SynchronousTestCase):
    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(START)
        self.store = RecordingStore(self.clock)
        self.manager = SessionManager(self.store, Signer([SECRET]), clock=self.clock)

    def request(self, cookie=None, secure=False, name="sid"):
        cookies = [(name, cookie)] if cookie else []
        return makeRequest(cookies, secure, self.manager)

    def session(self, request):
        return self.successResultOf(getSession(request))

    def finish(self, request):
        self.successResultOf(runBeforeResponse(request))
        return setCookies(request)

    def cookieValue(self, cookies):
        self.assertEqual(len(cookies), 1)
        return cookies[0].split(";")[0].split("=", 1)[1]

    def login(self, **data):
        request = self.request()
        session = self.session(request)
        session.update(data or {"user": "alice"})
        return self.cookieValue(self.finish(request)), session

    def test_verify(self):
        """The manager provides ISessionManager."""
        self.assertTrue(verifyObject(ISessionManager, self.manager))

    def test_noManager(self):
        """Without a manager, getSession says how to attach one."""
        with self.assertRaises(RuntimeError) as e:
            getSession(makeRequest())
        self.assertIn("SessionResource", str(e.exception))

    def test_lazy(self):
        """A request that never asks for its session touches no store."""
        request = self.request(self.manager.signer.sign(newSessionId()))
        self.assertEqual(self.finish(request), [])
        self.assertEqual(self.store.calls, [])

    def test_newEmpty(self):
        """A new session left empty is neither stored nor sent."""
        request = self.request()
        session = self.session(request)
        self.assertTrue(session.isNew)
        self.assertEqual(self.finish(request), [])
        self.assertEqual(self.store.calls, [])

    def test_newCookie(self):
        """A new session with data is stored once and its cookie set with safe attributes."""
        value, session = self.login()
        self.assertEqual(self.store.names(), ["save"])
        self.assertEqual(self.manager.signer.unsign(value), session.id)
        cookie = self.finishedCookie()
        attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
        self.assertEqual(sorted(attributes), ["httponly", "path=/", "samesite=lax"])

    def finishedCookie(self):
        request = self.request()
        self.session(request)["x"] = 1
        cookies = self.finish(request)
        self.assertEqual(request.responseHeaders.getRawHeaders(b"cache-control"),
                         [b"private, no-store"])
        return cookies[0]

    def test_secure(self):
        """Over TLS the cookie is Secure and named with the __Host- prefix."""
        request = self.request(secure=True)
        self.session(request)["x"] = 1
        [cookie] = self.finish(request)
        self.assertTrue(cookie.startswith("__Host-sid="))
        self.assertIn("Secure", cookie)
        value = self.cookieValue([cookie])
        self.assertEqual(dict(self.session(self.request(value, secure=True, name="__Host-sid"))),
                         {"x": 1})
        self.assertTrue(self.session(self.request(value, secure=True)).isNew)

    def test_maxAge(self):
        """A configured cookie lifetime is sent as Max-Age."""
        self.manager.cookieMaxAge = 3600
        request = self.request()
        self.session(request)["x"] = 1
        [cookie] = self.finish(request)
        self.assertIn("Max-Age=3600", cookie)

    def test_loadUnchanged(self):
        """A returning session loads its data; unchanged, it is not saved nor its cookie resent."""
        value, _ = self.login()
        del self.store.calls[:]
        request = self.request(value)
        session = self.session(request)
        self.assertEqual((dict(session), session.isNew), ({"user": "alice"}, False))
        self.assertEqual(self.finish(request), [])
        self.assertEqual(self.store.calls, [("load", session.id, 30 * MINUTE)])

    def test_changed(self):
        """A changed session is saved once, without a new cookie."""
        value, _ = self.login()
        request = self.request(value)
        session = self.session(request)
        session["n"] = 1
        session["n"] = 2
        del self.store.calls[:]
        self.assertEqual(self.finish(request), [])
        self.assertEqual(self.store.names(), ["save"])
        self.assertEqual(self.session(self.request(value))["n"], 2)

    def test_nestedChange(self):
        """A change inside a stored value is saved too."""
        value, _ = self.login(cart=[])
        request = self.request(value)
        self.session(request)["cart"].append("book")
        self.finish(request)
        self.assertEqual(self.session(self.request(value))["cart"], ["book"])

    def test_once(self):
        """Asking twice in a request gives the same session from one load."""
        value, _ = self.login()
        del self.store.calls[:]
        request = self.request(value)
        self.assertIs(self.session(request), self.session(request))
        self.assertEqual(self.store.names(), ["load"])

    def test_concurrent(self):
        """Callers waiting for a slow store all get the one session."""
        slow = defer.Deferred()
        self.store.load = lambda sessionId, timeout: slow
        request = self.request(self.manager.signer.sign(newSessionId()))
        first, second = getSession(request), getSession(request)
        self.assertNoResult(first)
        slow.callback(None)
        self.assertIs(self.successResultOf(first), self.successResultOf(second))

    def assertUnavailable(self, d, action):
        """
        Assert that C{d} failed with L{SessionStoreUnavailable} saying that
        the store could not do C{action}, and why.
        """
        failure = self.failureResultOf(d, SessionStoreUnavailable)
        self.assertEqual(str(failure.value),
                         f"The session store could not {action} a session: down")

    def test_storeFailure(self):
        """A store that fails makes getSession fail as unavailable, for every caller."""
        self.store.load = lambda sessionId, timeout: defer.fail(ConnectionError("down"))
        request = self.request(self.manager.signer.sign(newSessionId()))
        self.assertUnavailable(getSession(request), "load")
        self.assertUnavailable(getSession(request), "load")

    def test_storeRaises(self):
        """A store raising instead of failing its Deferred makes getSession fail, every time."""
        def load(sessionId, timeout):
            raise ConnectionError("down")
        self.store.load = load
        request = self.request(self.manager.signer.sign(newSessionId()))
        self.assertUnavailable(getSession(request), "load")
        self.assertUnavailable(getSession(request), "load")

    def test_slowStoreFails(self):
        """Callers waiting for a store that fails later all get the failure."""
        slow = defer.Deferred()
        self.store.load = lambda sessionId, timeout: slow
        request = self.request(self.manager.signer.sign(newSessionId()))
        first, second = getSession(request), getSession(request)
        slow.errback(ConnectionError("down"))
        self.assertUnavailable(first, "load")
        self.assertUnavailable(second, "load")

    def test_saveFailure(self):
        """A store failing to save makes the response's hooks fail as unavailable."""
        self.store.save = lambda *args: defer.fail(ConnectionError("down"))
        request = self.request()
        self.session(request)["a"] = 1
        self.assertUnavailable(runBeforeResponse(request), "save")

    def test_deleteFailure(self):
        """A store failing to delete a rotated session's record fails the hooks too."""
        cookie, _ = self.login()
        def delete(sessionId):
            raise ConnectionError("down")
        self.store.delete = delete
        request = self.request(cookie)
        self.session(request).rotate()
        self.assertUnavailable(runBeforeResponse(request), "delete")

    def test_badCookies(self):
        """Forged, malformed and unknown cookies get a fresh session, and are cleared."""
        forged = Signer([b"x" * 32]).sign(newSessionId())
        unknown = self.manager.signer.sign(newSessionId())
        for cookie in [forged, unknown, "garbage", "a.b", "%00"]:
            request = self.request(cookie)
            self.assertTrue(self.session(request).isNew, cookie)
            [cleared] = self.finish(request)
            self.assertIn("Max-Age=0", cleared)

    def test_badCookieNewData(self):
        """A fresh session replacing a bad cookie gets its own cookie."""
        request = self.request("garbage")
        session = self.session(request)
        session["x"] = 1
        self.assertEqual(self.manager.signer.unsign(self.cookieValue(self.finish(request))), session.id)

    def test_idleTimeout(self):
        """Thirty idle minutes end a session."""
        value, _ = self.login()
        self.clock.advance(30 * MINUTE)
        self.assertTrue(self.session(self.request(value)).isNew)

    def test_sliding(self):
        """Each request restarts the idle timeout, without rewriting the session."""
        value, _ = self.login()
        for _ in range(5):
            self.clock.advance(20 * MINUTE)
            request = self.request(value)
            self.assertFalse(self.session(request).isNew)
            self.finish(request)
        self.assertEqual(self.store.names().count("save"), 1)

    def test_absoluteTimeout(self):
        """Twelve hours after creation a session ends however active it is, and is deleted."""
        value, session = self.login()
        for _ in range(12 * 3 - 1):
            self.clock.advance(20 * MINUTE)
            request = self.request(value)
            self.assertFalse(self.session(request).isNew)
            self.finish(request)
        self.clock.advance(20 * MINUTE)
        self.assertTrue(self.session(self.request(value)).isNew)
        self.assertEqual(self.store.calls[-1], ("delete", session.id))

    def test_expiredDeleteFails(self):
        """A store failing to delete an expired session logs one warning; the visitor
        gets a new session."""
        self.manager.idleTimeout = 24 * HOUR
        value, _ = self.login()
        self.clock.advance(11 * HOUR)
        self.assertFalse(self.session(self.request(value)).isNew)
        self.store.delete = lambda sessionId: defer.fail(ConnectionError("down"))
        events = captureLog(self)
        self.clock.advance(2 * HOUR)
        self.assertTrue(self.session(self.request(value)).isNew)
        self.assertEqual([formatEvent(e) for e in events if e["log_level"] >= LogLevel.warn],
                         ["Deleting an expired session failed: "
                          "The session store could not delete a session: down"])
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_saveTimeoutBounded(self):
        """Near the absolute limit, a save's expiry is what remains of it."""
        self.manager.idleTimeout = 24 * HOUR
        value, _ = self.login()
        self.clock.advance(12 * HOUR - 10 * MINUTE)
        request = self.request(value)
        self.session(request)["x"] = 1
        self.finish(request)
        self.assertEqual(self.store.calls[-1][2], 10 * MINUTE)

    def test_rotate(self):
        """Rotating deletes the old record, keeps the data and sends a new cookie."""
        value, session = self.login()
        old = session.id
        request = self.request(value)
        session = self.session(request)
        session.rotate()
        newValue = self.cookieValue(self.finish(request))
        self.assertEqual(self.manager.signer.unsign(newValue), session.id)
        self.assertIn(("delete", old), self.store.calls)
        self.assertTrue(self.session(self.request(value)).isNew)
        self.assertEqual(dict(self.session(self.request(newValue))), {"user": "alice"})

    def test_rotateRestartsAbsolute(self):
        """The absolute timeout counts from the last rotation."""
        self.manager.idleTimeout = 24 * HOUR
        value, _ = self.login()
        self.clock.advance(11 * HOUR)
        request = self.request(value)
        self.session(request).rotate()
        value = self.cookieValue(self.finish(request))
        self.clock.advance(2 * HOUR)
        self.assertFalse(self.session(self.request(value)).isNew)

    def test_invalidate(self):
        """Invalidating deletes the record and clears the cookie."""
        value, session = self.login()
        request = self.request(value)
        self.session(request).invalidate()
        [cleared] = self.finish(request)
        self.assertIn("Max-Age=0", cleared)
        self.assertIn(("delete", session.id), self.store.calls)
        self.assertTrue(self.session(self.request(value)).isNew)

    def test_invalidateThenUse(self):
        """Data put in a session after invalidating it starts a new session."""
        value, _ = self.login()
        request = self.request(value)
        session = self.session(request)
        session.invalidate()
        session["flash"] = "Logged out."
        newValue = self.cookieValue(self.finish(request))
        self.assertEqual(dict(self.session(self.request(newValue))), {"flash": "Logged out."})

    def test_secretRotation(self):
        """Cookies signed with a retired secret still find their session."""
        value, _ = self.login()
        self.manager.signer = Signer([b"n" * 32, SECRET])
        self.assertFalse(self.session(self.request(value)).isNew)

    def test_corruptRecord(self):
        """An unreadable record gives a fresh session."""
        sessionId = newSessionId()
        self.store.wrapped.save(sessionId, b"\xffnot json", 60)
        request = self.request(self.manager.signer.sign(sessionId))
        self.assertTrue(self.session(request).isNew)
        self.flushLoggedErrors()

    def test_noSecrets(self):
        """A manager without secrets fails with the reason."""
        self.manager.signer = None
        self.assertIn("secrets", str(self.failureResultOf(getSession(self.request())).value))

    def test_notJSONAtSave(self):
        """A non-JSON value slipped into a stored list fails the save with TypeError."""
        value, _ = self.login(cart=[])
        request = self.request(value)
        self.session(request)["cart"].append(object())
        self.failureResultOf(runBeforeResponse(request), TypeError)

    def test_pickles(self):
        """A manager pickles without its clock and signer."""
        restored = pickle.loads(pickle.dumps(self.manager))
        self.assertEqual((restored.idleTimeout, restored.signer, restored._reactor),
                         (self.manager.idleTimeout, None, None))


class CsrfTests(SynchronousTestCase):
    """
    CSRF tokens: signed and bound to a cookie for visitors without a
    stored session (nothing kept on the server), the session's own token
    once there is one.
    """

    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(START)
        self.store = MemorySessionStore(Store(clock=self.clock))
        self.manager = SessionManager(self.store, Signer([SECRET]), clock=self.clock)

    def visit(self, cookies=(), secure=False):
        """
        A request with C{cookies}, and its session.
        """
        request = makeRequest(cookies, secure, self.manager)
        return request, self.successResultOf(getSession(request))

    def csrfCookie(self, request):
        values = [c for c in setCookies(request) if c.split("=")[0] in ("csrf", "__Host-csrf")]
        self.assertEqual(len(values), 1, setCookies(request))
        return values[0]

    def anonymousToken(self):
        """
        A token given to a new visitor, and the cookie the visitor keeps.
        """
        request, session = self.visit()
        token = csrfToken(request, session)
        cookie = self.csrfCookie(request).split(";")[0].split("=", 1)
        self.successResultOf(runBeforeResponse(request))
        return token, tuple(cookie)

    def test_anonymousStoresNothing(self):
        """A visitor without a session gets a token and a cookie, and no session is stored."""
        request, session = self.visit()
        token = csrfToken(request, session)
        self.assertEqual(csrfToken(request, session), token)
        self.assertGreaterEqual(len(token), 32)
        cookie = self.csrfCookie(request)
        for attribute in ["path=/", "httponly", "samesite=lax"]:
            self.assertIn(attribute, cookie.lower())
        self.assertEqual(request.responseHeaders.getRawHeaders(b"cache-control"),
                         [b"private, no-store"])
        self.successResultOf(runBeforeResponse(request))
        self.assertEqual(len(session), 0)
        self.assertEqual(len(self.store.store), 0)

    def test_anonymousCheck(self):
        """The signed token passes with its cookie only, as str or bytes."""
        token, cookie = self.anonymousToken()
        request, session = self.visit([cookie])
        self.assertTrue(checkCsrfToken(request, session, token))
        self.assertTrue(checkCsrfToken(request, session, token.encode()))
        otherToken, otherCookie = self.anonymousToken()
        for bad in [None, "", token[:-1], token + "x", otherToken, "\u00e9"]:
            self.assertFalse(checkCsrfToken(request, session, bad), bad)
        for cookies in [(), [otherCookie], [("csrf", "forged")]]:
            request, session = self.visit(cookies)
            self.assertFalse(checkCsrfToken(request, session, token), cookies)

    def test_sameCookie(self):
        """A browser keeps its cookie: later pages give it no new one and the same token."""
        token, cookie = self.anonymousToken()
        request, session = self.visit([cookie])
        self.assertEqual(csrfToken(request, session), token)
        self.assertEqual(setCookies(request), [])

    def test_rotatedSecret(self):
        """A token signed with an older secret still in use passes."""
        token, cookie = self.anonymousToken()
        self.manager.signer = Signer([b"n" * 32, SECRET])
        self.assertTrue(checkCsrfToken(*self.visit([cookie]), token))
        self.manager.signer = Signer([b"n" * 32])
        self.assertFalse(checkCsrfToken(*self.visit([cookie]), token))

    def test_secure(self):
        """Over TLS the cookie is __Host-csrf, Secure."""
        request, session = self.visit(secure=True)
        csrfToken(request, session)
        cookie = self.csrfCookie(request)
        self.assertTrue(cookie.startswith("__Host-csrf="))
        self.assertIn("Secure", cookie)

    def test_sessionToken(self):
        """A visitor with a session gets the session's own token, kept in it."""
        request, session = self.visit()
        session["user"] = "alice"
        token = csrfToken(request, session)
        self.assertEqual(csrfToken(request, session), token)
        self.assertNotIn("csrf=", " ".join(setCookies(request)))
        self.assertTrue(checkCsrfToken(request, session, token))
        self.assertFalse(checkCsrfToken(request, session, token[:-1]))
        other, otherSession = self.visit()
        otherSession["user"] = "bob"
        self.assertNotEqual(csrfToken(other, otherSession), token)

    def test_sessionTokenWins(self):
        """Once the session has its own token, the cookie's token no longer passes."""
        token, cookie = self.anonymousToken()
        request, session = self.visit([cookie])
        session["user"] = "alice"
        csrfToken(request, session)
        self.assertFalse(checkCsrfToken(request, session, token))

    def test_loadedSession(self):
        """A session loaded from the store counts as one even when empty."""
        request, session = self.visit()
        session["flash"] = "hi"
        self.successResultOf(runBeforeResponse(request))
        sid = [c for c in setCookies(request) if c.startswith("sid=")][0].split(";")[0]
        request, session = self.visit([tuple(sid.split("=", 1))])
        del session["flash"]
        csrfToken(request, session)
        self.assertIn("_csrf", session)

    def test_noSecrets(self):
        """Without loaded secrets, asking for a token says why it cannot be made."""
        request, session = self.visit()
        self.manager.signer = None
        error = self.assertRaises(RuntimeError, csrfToken, request, session)
        self.assertIn("secrets", str(error))

    def test_fromRequest(self):
        """The token comes from the form field, else the X-CSRF-Token header."""
        request = makeRequest()
        self.assertIsNone(tokenFromRequest(request))
        request.requestHeaders.setRawHeaders(b"x-csrf-token", [b"header"])
        self.assertEqual(tokenFromRequest(request), b"header")
        request = makeRequest()
        request.requestHeaders.setRawHeaders(
            b"content-type", [b"application/x-www-form-urlencoded"])
        request.content = io.BytesIO(b"text=hi&csrf_token=field")
        self.assertEqual(tokenFromRequest(request), "field")

    def test_notFromQuery(self):
        """A token in the query string is ignored, even in the request's args."""
        request = makeRequest()
        request.uri = b"/quotes?csrf_token=query"
        request.args = {b"csrf_token": [b"query"]}
        self.assertIsNone(tokenFromRequest(request))


class Leaf(Resource):
    isLeaf = True

    def render(self, request):
        self.seen = ISessionManager(request, None)
        return b"ok"


class SessionResourceTests(SynchronousTestCase):
    def setUp(self):
        self.manager = SessionManager(None, Signer([SECRET]))

    def test_render(self):
        """Rendering attaches the manager to the request."""
        leaf = Leaf()
        request = makeRequest()
        self.assertEqual(SessionResource(leaf, self.manager).render(request), b"ok")
        self.assertIs(leaf.seen, self.manager)

    def test_children(self):
        """Finding a child attaches the manager and delegates."""
        root = Resource()
        wrapped = SessionResource(root, self.manager)
        wrapped.putChild(b"leaf", Leaf())
        request = makeRequest()
        self.assertFalse(wrapped.isLeaf)
        child = wrapped.getChildWithDefault(b"leaf", request)
        self.assertIsInstance(child, Leaf)
        self.assertIs(ISessionManager(request), self.manager)


class SessionsServiceTests(SynchronousTestCase):
    def setUp(self):
        self.directory = tempDir(self)
        self.secretPath = os.path.join(self.directory, ".appserver-secret")

    def service(self, **kwargs):
        kwargs.setdefault("secretPath", self.secretPath)
        service = makeSessionsService(**kwargs)
        return service

    def start(self, service):
        service.startService()
        self.addCleanup(service.stopService)
        return service

    def test_name(self):
        """The service is the 'sessions' child, with a memory store by default."""
        service = self.service()
        self.assertEqual(service.name, "sessions")
        self.assertIsInstance(service.store, MemorySessionStore)

    def test_generatedSecret(self):
        """With no secret given, one is generated once per installation and logged."""
        messages = []
        from twisted.logger import globalLogPublisher

        globalLogPublisher.addObserver(messages.append)
        self.addCleanup(globalLogPublisher.removeObserver, messages.append)
        first = self.start(self.service())
        self.assertTrue(os.path.exists(self.secretPath))
        self.assertTrue(any(m.get("path") == self.secretPath and "Generated" in m["log_format"]
                            for m in messages))
        second = self.start(self.service())
        self.assertEqual(first.manager.signer.secrets, second.manager.signer.secrets)

    def test_givenSecrets(self):
        """Given secrets come first, then secret files; nothing is generated."""
        path = os.path.join(self.directory, "file-secret")
        with open(path, "wb") as f:
            f.write(b"f" * 20 + b"\n")
        service = self.start(self.service(secrets=["v" * 20], secretFiles=[path]))
        self.assertEqual(service.manager.signer.secrets, (b"v" * 20, b"f" * 20))
        self.assertFalse(os.path.exists(self.secretPath))

    def test_badSecretFile(self):
        """An unreadable secret file stops the start with the reason."""
        service = self.service(secretFiles=[os.path.join(self.directory, "none")])
        self.assertRaises(ValueError, service.startService)

    def assertStartFails(self, spec, message, timeout=None):
        """
        Assert that a service over the Redis store C{spec} (with the
        client's C{timeout}, when given) fails to start with
        L{StartupError} saying C{message}, and is not running.
        """
        service = self.service(spec=spec, secrets=["s" * 32])
        if timeout is not None:
            service.store.client.timeout = timeout
        e = self.assertRaises(StartupError, service.startService)
        self.assertEqual(str(e), message)
        self.assertFalse(service.running)

    def test_storeUnreachable(self):
        """A Redis store that cannot be reached stops the start, in one sentence."""
        port = freePort()
        self.assertStartFails(
            f"redis://:sesame@127.0.0.1:{port}/0",
            f"The session store redis://:***@127.0.0.1:{port}/0 cannot be reached: "
            f"[Errno 111] Connection refused.")

    def test_storeSilent(self):
        """A Redis store that does not answer within the client's timeout stops the start."""
        url = silentServer(self)
        self.assertStartFails(
            url, f"The session store {url} did not answer within 0.2 seconds.", timeout=0.2)

    def test_storeWrongDatabase(self):
        """A database the server does not have stops the start with the server's answer."""
        url = f"redis://127.0.0.1:{startRedisServer(self)}/16"
        self.assertStartFails(
            url, f"The session store {url} answered an error: ERR DB index is out of range.")

    def test_fileStore(self):
        """A file store's directory is made when the service starts."""
        directory = os.path.join(self.directory, "sessions")
        service = self.service(spec="file:" + directory)
        self.assertIsInstance(service.store, FileSessionStore)
        self.start(service)
        self.assertTrue(os.path.isdir(directory))

    def test_settings(self):
        """Timeouts and cookie settings reach the manager."""
        manager = self.service(idleTimeout=60, absoluteTimeout=600, cookieName="s",
                               cookieMaxAge=30).manager
        self.assertEqual((manager.idleTimeout, manager.absoluteTimeout, manager.cookieName,
                          manager.cookieMaxAge), (60, 600, "s", 30))

    def test_portNeedsMemory(self):
        """Only the memory store can be served on a session port."""
        with self.assertRaises(ValueError):
            self.service(spec="file:/tmp/x", port="tcp:0")

    def test_persists(self):
        """The service pickles, memory sessions and settings included."""
        service = self.service(idleTimeout=60)
        sessionId = newSessionId()
        service.store.save(sessionId, encodeRecord(START, {"a": 1}), 3600 * 24 * 365 * 100)

        def check(restored):
            self.assertEqual(restored.manager.idleTimeout, 60)
            self.assertIs(restored.manager.store, restored.store)
            self.assertIsNotNone(self.successResultOf(restored.store.load(sessionId, 60)))

        assertPersists(self, service, check)

    def test_persistsOtherStores(self):
        """Services with file and Redis stores pickle as their configuration."""
        for spec in ["file:" + self.directory, "redis://:pw@127.0.0.1:1/2"]:
            assertPersists(self, self.service(spec=spec),
                           lambda restored: self.assertEqual(restored.spec, spec))

    def test_persistsWithPort(self):
        """A service serving its store on a session port pickles too."""
        service = self.service(port="tcp:0:interface=127.0.0.1", portPassword="sesame")
        assertPersists(self, service, lambda restored: self.assertEqual(len(list(restored)), 1))


class Visits(Controller):
    """
    A page counting visits in the session, through the web framework.
    """

    @route("/")
    async def count(self, request):
        session = await getSession(request)
        session["visits"] = session.get("visits", 0) + 1
        return str(session["visits"])


class StoreFailureAnswerTests(SynchronousTestCase):
    """
    In the web-app tree, a request whose session store fails is answered
    503, logged in one line.
    """

    def setUp(self):
        self.store = RecordingStore(task.Clock())
        manager = SessionManager(self.store, Signer([SECRET]), clock=task.Clock())
        router = Router()
        for pattern, methods, handler in Visits().routes():
            router.add(pattern, methods, handler)
        self.resource = SessionResource(
            AppResource(router, errorStatuses=webapp.ERROR_STATUSES), manager)
        self.cookie = request(self.resource).header("set-cookie").split(b";")[0]

    def assertAnswered503(self):
        answer = request(self.resource, headers={b"Cookie": self.cookie})
        self.assertEqual((answer.code, answer.body), (503, webapp.SESSIONS_UNAVAILABLE))
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_loadFails(self):
        """A session that cannot be loaded is a 503."""
        self.store.load = lambda *args: defer.fail(ConnectionError("refused"))
        self.assertAnswered503()

    def test_saveFails(self):
        """A session that cannot be saved is a 503."""
        self.store.save = lambda *args: defer.fail(defer.TimeoutError("no reply"))
        self.assertAnswered503()


class Counter(Resource):
    """
    A page that counts its visits in the session, saving it the way the web
    framework does: hooks after the result, before the response.
    """

    isLeaf = True

    def render(self, request):
        defer.ensureDeferred(self._render(request))
        return server.NOT_DONE_YET

    async def _render(self, request):
        session = await getSession(request)
        if request.postpath == [b"logout"]:
            session.invalidate()
        else:
            session["visits"] = session.get("visits", 0) + 1
        await runBeforeResponse(request)
        request.write(str(session.get("visits", 0)).encode("ascii"))
        request.finish()


class BrowserTests(TestCase):
    """
    Sessions over real HTTP with a browser-like cookie jar.
    """

    def serve(self, spec):
        from twisted.internet import reactor

        self.sessions = makeSessionsService(spec=spec, secrets=["s" * 32])
        self.sessions.startService()
        self.addCleanup(self.sessions.stopService)
        site = server.Site(SessionResource(Counter(), self.sessions.manager))
        port = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.base = f"http://127.0.0.1:{port.getHost().port}/"
        self.jar = http.cookiejar.CookieJar()
        self.agent = client.CookieAgent(client.Agent(reactor), self.jar)

    @defer.inlineCallbacks
    def get(self, path=""):
        response = yield self.agent.request(b"GET", (self.base + path).encode("ascii"))
        body = yield client.readBody(response)
        return response.headers.getRawHeaders(b"set-cookie", []), body

    @defer.inlineCallbacks
    def browse(self):
        cookies, body = yield self.get()
        self.assertEqual((len(cookies), body), (1, b"1"))
        self.assertIn(b"HttpOnly", cookies[0])
        for expected in [b"2", b"3"]:
            cookies, body = yield self.get()
            self.assertEqual((cookies, body), ([], expected))
        cookies, body = yield self.get("logout")
        self.assertIn(b"Max-Age=0", cookies[0])
        self.assertEqual(len(self.jar), 0)
        self.assertEqual((yield self.get())[1], b"1")

    def test_memory(self):
        """Visits are counted in the embedded store, and logout starts over."""
        self.serve("memory")
        return self.browse()

    def test_redis(self):
        """Visits are counted in a real redis-server, and logout starts over."""
        self.serve(f"redis://127.0.0.1:{startRedisServer(self)}/0")
        return self.browse()
