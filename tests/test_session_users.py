"""
Tests for the sessions of logged-in users (OWASP ASVS 5.0 V7): the users'
index every store keeps, listing, revoking and limiting a user's sessions,
and the session manager's login.
"""

import os
import pickle
import time

from twisted.internet import defer, task
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from appserver.sessions import (
    ISessionStore, SessionManager, Signer, getSession, revoke, revokeAll, sessionsOf,
)
from appserver.sessions.manager import SEEN_INTERVAL
from appserver.sessions.session import Session, decodeRecord, encodeRecord
from appserver.sessions.signing import newSessionId
from appserver.sessions.stores import FileSessionStore, MemorySessionStore
from appserver.sessions.stores._util import userKey
from appserver.sessions.users import UserSessions, agentSummary, idHash
from appserver.tap import webapp
from appserver.web.hooks import runBeforeResponse
from services.sessionserver.store import Store
from tests.support import freePort, parseOptions, startTwistd, tempDir
from tests import test_session_stores as stores
from tests.test_sessions import makeRequest, setCookies

START = 1_700_000_000
ABSOLUTE = 3600
FIREFOX = (b"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 "
           b"Firefox/120.0")


class UserIndexContractMixin:
    """
    The users' index and L{UserSessions} over every store. A test case
    provides C{self.store} (opened), C{now()} and C{advance(seconds)}.
    """

    def setUpUsers(self):
        self.users = UserSessions(self.store, ABSOLUTE, self.now)

    @defer.inlineCallbacks
    def loggedIn(self, user, timeout=60, ago=0, address="10.0.0.1"):
        """
        Store a session logged in as C{user} C{ago} seconds ago, indexed
        under it; fire with its id.
        """
        sessionId, created = newSessionId(), self.now() - ago
        login = {"user": user, "seen": created, "address": address, "agent": "Firefox"}
        yield self.store.save(sessionId, encodeRecord(created, {}, login), timeout)
        yield self.store.addToUser(user, sessionId, ABSOLUTE)
        return sessionId

    @defer.inlineCallbacks
    def test_interface(self):
        """The store still provides ISessionStore, index methods included."""
        self.assertTrue(verifyObject(ISessionStore, self.store))
        yield None

    @defer.inlineCallbacks
    def test_index(self):
        """Ids added under a user are listed for that user alone; removing one takes it out."""
        first, second, other = newSessionId(), newSessionId(), newSessionId()
        for user, sessionId in [("alice", first), ("alice", second), ("bob", other)]:
            yield self.store.addToUser(user, sessionId, 60)
        listed = yield self.store.sessionsOfUser("alice")
        self.assertEqual(sorted(listed), sorted([first, second]))
        yield self.store.removeFromUser("alice", first)
        yield self.store.removeFromUser("alice", newSessionId())
        self.assertEqual((yield self.store.sessionsOfUser("alice")), [second])
        self.assertEqual((yield self.store.sessionsOfUser("bob")), [other])
        self.assertEqual((yield self.store.sessionsOfUser("nobody")), [])

    @defer.inlineCallbacks
    def test_anyUserName(self):
        """User ids of any characters and length are kept apart."""
        names = ["ünïcode ✓", "../../etc", "a" * 5000, "a*", "a?[b]\\"]
        ids = [newSessionId() for _ in names]
        for name, sessionId in zip(names, ids, strict=True):
            yield self.store.addToUser(name, sessionId, 60)
        for name, sessionId in zip(names, ids, strict=True):
            self.assertEqual((yield self.store.sessionsOfUser(name)), [sessionId])

    @defer.inlineCallbacks
    def test_badIds(self):
        """An index entry must be a session id."""
        for bad in ["../x", "A" * 32, ""]:
            self.assertRaises(ValueError, self.store.addToUser, "alice", bad, 60)
            self.assertRaises(ValueError, self.store.peek, bad)
        yield None

    @defer.inlineCallbacks
    def test_peek(self):
        """Peeking reads a record without pushing its expiry; a missing one is None."""
        sessionId = newSessionId()
        yield self.store.save(sessionId, b"record", 0.5)
        self.assertEqual((yield self.store.peek(sessionId)), b"record")
        yield self.advance(0.3)
        self.assertEqual((yield self.store.peek(sessionId)), b"record")
        yield self.advance(0.3)
        self.assertIsNone((yield self.store.peek(sessionId)))
        self.assertIsNone((yield self.store.peek(newSessionId())))

    @defer.inlineCallbacks
    def test_deleteAll(self):
        """Deleting everything ends every session and empties every index."""
        alice = yield self.loggedIn("alice")
        yield self.loggedIn("bob")
        yield self.store.save(newSessionId(), b"anonymous", 60)
        self.assertEqual((yield self.store.deleteAll()), 3)
        self.assertIsNone((yield self.store.load(alice, 60)))
        self.assertEqual((yield self.store.sessionsOfUser("alice")), [])
        self.assertEqual((yield self.store.sessionsOfUser("bob")), [])

    @defer.inlineCallbacks
    def test_list(self):
        """A user's live sessions are listed oldest first, by hash, with their metadata."""
        newer = yield self.loggedIn("alice", ago=10, address="10.0.0.2")
        older = yield self.loggedIn("alice", ago=20)
        yield self.loggedIn("bob")
        listed = yield defer.ensureDeferred(self.users.list("alice", current=newer))
        self.assertEqual([info.idHash for info in listed], [idHash(older), idHash(newer)])
        self.assertEqual([info.current for info in listed], [False, True])
        info = listed[1]
        self.assertEqual((info.lastSeen, info.address, info.userAgent),
                         (info.created, "10.0.0.2", "Firefox"))
        self.assertLess(abs(info.created - (self.now() - 10)), 1)
        self.assertNotIn(newer, repr(listed))

    @defer.inlineCallbacks
    def test_dropsEnded(self):
        """Entries of sessions that expired, were deleted or are another user's are dropped."""
        live = yield self.loggedIn("alice")
        yield self.loggedIn("alice", timeout=0.2)
        deleted = yield self.loggedIn("alice")
        tooOld = yield self.loggedIn("alice", ago=ABSOLUTE)
        yield self.store.delete(deleted)
        taken = yield self.loggedIn("bob")
        yield self.store.addToUser("alice", taken, 60)
        yield self.advance(0.3)
        listed = yield defer.ensureDeferred(self.users.list("alice"))
        self.assertEqual([info.idHash for info in listed], [idHash(live)])
        self.assertEqual((yield self.store.sessionsOfUser("alice")), [live])
        self.assertIsNotNone((yield self.store.peek(tooOld)))

    @defer.inlineCallbacks
    def test_revoke(self):
        """Revoking by hash ends that session only; an unknown hash ends nothing."""
        kept = yield self.loggedIn("alice")
        ended = yield self.loggedIn("alice")
        self.assertFalse((yield defer.ensureDeferred(self.users.revoke("alice", "0" * 32))))
        self.assertFalse((yield defer.ensureDeferred(self.users.revoke("bob", idHash(ended)))))
        self.assertTrue((yield defer.ensureDeferred(self.users.revoke("alice", idHash(ended)))))
        self.assertIsNone((yield self.store.load(ended, 60)))
        self.assertIsNotNone((yield self.store.load(kept, 60)))
        self.assertEqual((yield self.store.sessionsOfUser("alice")), [kept])

    @defer.inlineCallbacks
    def test_revokeAll(self):
        """Revoking all of a user's sessions keeps the one named, and no other user's."""
        ids = yield defer.gatherResults([self.loggedIn("alice") for _ in range(3)])
        bob = yield self.loggedIn("bob")
        self.assertEqual((yield defer.ensureDeferred(self.users.revokeAll("alice", ids[1]))), 2)
        peeked = yield defer.gatherResults([self.store.peek(i) for i in ids])
        self.assertEqual([record is None for record in peeked], [True, False, True])
        self.assertEqual((yield self.store.sessionsOfUser("alice")), [ids[1]])
        self.assertIsNotNone((yield self.store.peek(bob)))
        self.assertEqual((yield defer.ensureDeferred(self.users.revokeAll("alice"))), 1)
        self.assertEqual((yield self.store.sessionsOfUser("alice")), [])

    @defer.inlineCallbacks
    def test_limit(self):
        """Limiting ends the oldest sessions beyond the bound, never the one kept."""
        oldest = yield self.loggedIn("alice", ago=30)
        middle = yield self.loggedIn("alice", ago=20)
        newest = yield self.loggedIn("alice", ago=10)
        self.assertEqual((yield defer.ensureDeferred(self.users.limit("alice", 2, oldest))), 1)
        self.assertIsNone((yield self.store.peek(middle)))
        self.assertEqual(sorted((yield self.store.sessionsOfUser("alice"))),
                         sorted([oldest, newest]))
        self.assertEqual((yield defer.ensureDeferred(self.users.limit("alice", 2, oldest))), 0)


class ClockUsersMixin(UserIndexContractMixin):
    """
    Stores whose time is a L{task.Clock} (as in L{stores.ClockStoreMixin}).
    """

    advance = stores.ClockStoreMixin.advance

    def setUp(self):
        stores.ClockStoreMixin.setUp(self)
        self.setUpUsers()

    def now(self):
        return self.clock.seconds()


class MemoryUsersTests(ClockUsersMixin, TestCase):
    def makeStore(self):
        return MemorySessionStore(Store(clock=self.clock))

    def test_pickled(self):
        """The index is a set in the store, and pickles with it."""
        sessionId = newSessionId()
        self.store.addToUser("alice", sessionId, 60)
        [key] = self.store.store.keys()
        self.assertEqual(key[:len(b"session:user:")], b"session:user:")
        copy = pickle.loads(pickle.dumps(self.store))
        copy.store.clock = self.clock
        self.assertEqual(self.successResultOf(copy.sessionsOfUser("alice")), [sessionId])

    def test_indexExpires(self):
        """A user's set goes when the timeout given at the last login has passed."""
        self.store.addToUser("alice", newSessionId(), 60)
        self.clock.advance(61)
        self.assertEqual(self.store.store.keys(), [])

    def test_emptiedIndexGoes(self):
        """A user whose last session is removed leaves nothing in the store."""
        sessionId = newSessionId()
        self.store.addToUser("alice", sessionId, 60)
        self.store.removeFromUser("alice", sessionId)
        self.assertEqual(self.store.store.keys(), [])

    def test_wrongType(self):
        """A key of another type where the index goes fails the call, not the process."""
        self.store.addToUser("alice", newSessionId(), 60)
        [key] = self.store.store.keys()
        self.store.store.set(key, b"a string")
        self.failureResultOf(self.store.addToUser("alice", newSessionId(), 60))
        self.failureResultOf(self.store.sessionsOfUser("alice"))


class FileUsersTests(ClockUsersMixin, TestCase):
    def makeStore(self):
        return FileSessionStore(tempDir(self), clock=self.clock)

    def test_sweepPrunesIndex(self):
        """Sweeping drops index entries of sessions whose file is gone, and emptied users."""
        live, expired = self.successResultOf(defer.gatherResults(
            [self.loggedIn("alice"), self.loggedIn("alice", timeout=1)]))
        self.successResultOf(self.loggedIn("bob", timeout=1))
        self.clock.advance(2)
        self.assertEqual(self.store.sweep(), 2)
        self.assertEqual(self.successResultOf(self.store.sessionsOfUser("alice")), [live])
        self.assertNotIn(expired, os.listdir(os.path.join(self.store.directory, "users",
                                                            userKey("alice"))))
        self.assertEqual(os.listdir(os.path.join(self.store.directory, "users")),
                         [userKey("alice")])

    def test_sweepWithoutUsers(self):
        """Sweeping a store where nobody logged in is no error."""
        self.assertEqual(self.store.sweep(), 0)


class RealTimeUsersMixin(UserIndexContractMixin):
    """
    The Redis store against a real server: time passes for real, and keys
    live under a prefix unique to the test, removed afterwards (as in
    L{RealTimeStoreMixin}).
    """

    removeKeys = stores.RealTimeStoreMixin.removeKeys
    advance = stores.RealTimeStoreMixin.advance

    def setUp(self):
        stores.RealTimeStoreMixin.setUp(self)
        self.setUpUsers()

    def now(self):
        return time.time()

    @defer.inlineCallbacks
    def test_indexExpires(self):
        """A user's set is a Redis set that lives as long as the longest session."""
        yield self.loggedIn("alice")
        [key] = yield self.client.execute(b"KEYS", self.prefix + b"user:*")
        self.assertEqual((yield self.client.execute(b"TYPE", key)), b"set")
        self.assertGreater((yield self.client.execute(b"PTTL", key)), (ABSOLUTE - 5) * 1000)

    @defer.inlineCallbacks
    def test_deleteAllOwnPrefix(self):
        """Deleting everything leaves keys outside the store's prefix alone."""
        outside = self.prefix[:-1] + b"-outside"
        self.addCleanup(self.client.execute, b"DEL", outside)
        yield self.client.execute(b"SET", outside, b"x")
        yield self.loggedIn("alice")
        self.assertEqual((yield self.store.deleteAll()), 1)
        self.assertEqual((yield self.client.execute(b"GET", outside)), b"x")


class LocalRedisUsersTests(RealTimeUsersMixin, TestCase):
    """
    The index against the machine's Redis at 127.0.0.1:6379.
    """

    serverURL = stores.LocalRedisStoreTests.serverURL


class RedisServerUsersTests(RealTimeUsersMixin, TestCase):
    """
    The index against a redis-server of our own.
    """

    serverURL = stores.RedisServerStoreTests.serverURL


class SessionServerUsersTests(RealTimeUsersMixin, TestCase):
    """
    The index against our own twistd session-server.
    """

    def serverURL(self):
        port = freePort()
        startTwistd(self, ["session-server", "--port", f"tcp:{port}:interface=127.0.0.1",
                           "--requirepass", "sesame"], tempDir(self), port)
        return f"redis://:sesame@127.0.0.1:{port}/0"


class SharedMemoryUsersTests(RealTimeUsersMixin, TestCase):
    """
    The index of a memory store, seen through its sessions service's
    session port as other processes see it.
    """

    serverURL = stores.SharedMemoryStoreTests.serverURL

    @defer.inlineCallbacks
    def test_shared(self):
        """A login indexed in the service's process is listed over the port, and back."""
        local = MemorySessionStore(self.service.store.store, prefix=self.prefix)
        mine, theirs = newSessionId(), newSessionId()
        yield local.addToUser("alice", mine, 60)
        yield self.store.addToUser("alice", theirs, 60)
        for store in (local, self.store):
            self.assertEqual(sorted((yield store.sessionsOfUser("alice"))), sorted([mine, theirs]))


class SummaryTests(SynchronousTestCase):
    """
    What a listed session shows of its id and user agent.
    """

    def test_idHash(self):
        """An id's hash is 32 hex digits, stable, and does not contain the id."""
        sessionId = newSessionId()
        hashed = idHash(sessionId)
        self.assertEqual((len(hashed), hashed, hashed == sessionId),
                         (32, idHash(sessionId), False))
        self.assertNotEqual(hashed, idHash(newSessionId()))

    def test_agentSummary(self):
        """Known browsers are named with their system; others by their first word."""
        chrome = (b"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
                  b"like Gecko) Chrome/120.0 Safari/537.36")
        edge = chrome + b" Edg/120.0"
        iphone = (b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                  b"(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
        cases = [(FIREFOX, "Firefox on Linux"), (chrome, "Chrome on Windows"),
                 (edge, "Edge on Windows"), (iphone, "Safari on iOS"),
                 (b"curl/8.5.0", "curl/8.5.0"), (None, ""), (b"x\x00\xff\ny" * 40, "xy" * 30),
                 (b"Firefox/1", "Firefox")]
        for header, summary in cases:
            self.assertEqual(agentSummary(header), summary, header)


class ManagerLoginTests(TestCase):
    """
    Logging in through the session manager, and the request-level helpers.
    """

    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(START)
        self.store = MemorySessionStore(Store(clock=self.clock))
        self.manager = SessionManager(self.store, Signer([b"k" * 32]), clock=self.clock,
                                      absoluteTimeout=ABSOLUTE)

    def request(self, cookie=None, agent=FIREFOX):
        request = makeRequest([("sid", cookie)] if cookie else [], manager=self.manager)
        if agent is not None:
            request.requestHeaders.setRawHeaders(b"user-agent", [agent])
        return request

    def finish(self, request):
        self.successResultOf(runBeforeResponse(request))
        cookies = setCookies(request)
        return cookies[0].split(";")[0].split("=", 1)[1] if cookies else None

    def visit(self, cookie=None, act=None, **kw):
        """
        One request with C{cookie} doing C{act(session, request)}; return
        the cookie the browser holds after it, and the session.
        """
        request = self.request(cookie, **kw)
        session = self.successResultOf(getSession(request))
        if act is not None:
            act(session, request)
        return self.finish(request) or cookie, session

    def logIn(self, user="alice", cookie=None):
        return self.visit(cookie, lambda session, _: session.login(user))

    def listed(self, cookie, user="alice"):
        request = self.request(cookie)
        self.successResultOf(getSession(request))
        return self.successResultOf(sessionsOf(request, user))

    def test_loginRotatesAndIndexes(self):
        """Logging in gives a new id, records the user and indexes the session under it."""
        cookie, before = self.visit(act=lambda session, _: session.update(cart=[1]))
        oldId = before.id
        cookie, session = self.logIn(cookie=cookie)
        self.assertNotEqual(session.id, oldId)
        self.assertIsNone(self.successResultOf(self.store.peek(oldId)))
        self.assertEqual(self.successResultOf(self.store.sessionsOfUser("alice")), [session.id])
        _, reloaded = self.visit(cookie)
        self.assertEqual((reloaded.user, reloaded["cart"]), ("alice", [1]))

    def test_emptyLoginStored(self):
        """A login with no other data is stored."""
        cookie, session = self.logIn()
        self.assertIsNotNone(cookie)
        _, data, login = decodeRecord(self.successResultOf(self.store.peek(session.id)))
        self.assertEqual((data, login["user"], login["address"], login["agent"]),
                         ({}, "alice", "192.168.1.1", "Firefox on Linux"))

    def test_badUser(self):
        """A user id must be a non-empty string."""
        session = Session(newSessionId(), START)
        for bad in ["", None, 3]:
            self.assertRaises(ValueError, session.login, bad)

    def test_sessionsOf(self):
        """sessionsOf lists a user's sessions, the request's own marked current."""
        first, _ = self.logIn()
        self.clock.advance(5)
        second, _ = self.logIn()
        listed = self.listed(second)
        self.assertEqual([(info.created, info.current) for info in listed],
                         [(START, False), (START + 5, True)])

    def test_lastSeen(self):
        """Last seen moves when a request comes SEEN_INTERVAL after the last one noted."""
        cookie, _ = self.logIn()
        self.clock.advance(SEEN_INTERVAL - 1)
        self.visit(cookie)
        self.assertEqual(self.listed(cookie)[0].lastSeen, START)
        self.clock.advance(1)
        self.visit(cookie, agent=b"curl/8")
        [info] = self.listed(cookie)
        self.assertEqual((info.lastSeen, info.userAgent), (START + SEEN_INTERVAL, "curl/8"))

    def test_revokeOther(self):
        """Revoking another session of the user logs that browser out."""
        mine, _ = self.logIn()
        theirs, _ = self.logIn()
        other = [info for info in self.listed(mine) if not info.current][0]
        request = self.request(mine)
        self.assertTrue(self.successResultOf(revoke(request, "alice", other.idHash)))
        _, session = self.visit(theirs)
        self.assertEqual((session.isNew, session.user), (True, None))
        _, session = self.visit(mine)
        self.assertEqual(session.user, "alice")

    def test_revokeOwn(self):
        """Revoking the request's own session invalidates it: it is not saved again."""
        mine, session = self.logIn()
        request = self.request(mine)
        own = self.successResultOf(getSession(request))
        self.assertTrue(self.successResultOf(revoke(request, "alice", idHash(own.id))))
        own["flash"] = "bye"
        self.finish(request)
        self.assertEqual(self.visit(mine)[1].user, None)
        self.assertEqual(self.successResultOf(self.store.sessionsOfUser("alice")), [])

    def test_revokeAllKeepsCurrent(self):
        """Log out everywhere else: every other session of the user ends, this one stays."""
        others = [self.logIn()[0] for _ in range(3)]
        mine, _ = self.logIn()
        bob, _ = self.logIn("bob")
        request = self.request(mine)
        session = self.successResultOf(getSession(request))
        self.assertEqual(self.successResultOf(revokeAll(request, "alice", keep=session)), 3)
        self.assertEqual([self.visit(c)[1].user for c in others], [None, None, None])
        self.assertEqual((self.visit(mine)[1].user, self.visit(bob)[1].user), ("alice", "bob"))

    def test_logoutUnindexes(self):
        """Invalidating a logged-in session takes it out of its user's index."""
        cookie, session = self.logIn()
        self.visit(cookie, lambda session, _: session.invalidate())
        self.assertEqual(self.successResultOf(self.store.sessionsOfUser("alice")), [])

    def test_loginAgainMovesIndex(self):
        """Logging in as another user moves the session from one index to the other."""
        cookie, _ = self.logIn()
        _, session = self.logIn("bob", cookie)
        self.assertEqual(self.successResultOf(self.store.sessionsOfUser("alice")), [])
        self.assertEqual(self.successResultOf(self.store.sessionsOfUser("bob")), [session.id])

    def test_maxPerUser(self):
        """Beyond the limit a login ends the user's oldest session, and no one else's."""
        self.manager.maxPerUser = 2
        first, _ = self.logIn()
        bob, _ = self.logIn("bob")
        self.clock.advance(1)
        second, _ = self.logIn()
        self.clock.advance(1)
        third, _ = self.logIn()
        users = [self.visit(c)[1].user for c in [first, second, third, bob]]
        self.assertEqual(users, [None, "alice", "alice", "bob"])

    def test_noLimit(self):
        """With no limit (the default), every login stays."""
        cookies = [self.logIn()[0] for _ in range(5)]
        self.assertEqual(len(self.listed(cookies[0])), 5)

    def test_unpickledManager(self):
        """A manager pickled before the limit existed loads with none."""
        state = self.manager.__getstate__()
        del state["maxPerUser"]
        old = SessionManager.__new__(SessionManager)
        old.__setstate__(state)
        self.assertEqual(old.maxPerUser, 0)


class OptionTests(SynchronousTestCase):
    """
    web-app's --session-max-per-user.
    """

    def manager(self, *argv):
        options = parseOptions(webapp.Options, list(argv))
        return webapp.makeService(options).getServiceNamed("sessions").manager

    def test_default(self):
        """By default a user may have any number of sessions."""
        self.assertEqual(self.manager().maxPerUser, 0)

    def test_limit(self):
        """The option reaches the session manager, from the command line or the environment."""
        self.assertEqual(self.manager("--session-max-per-user", "3").maxPerUser, 3)
        options = parseOptions(webapp.Options, [],
                               {"APPSERVER_SESSION_MAX_PER_USER": "2"})
        self.assertEqual(options["session-max-per-user"], 2)

    def test_negative(self):
        """A negative limit is a usage error naming the option."""
        with self.assertRaises(usage.UsageError) as e:
            parseOptions(webapp.Options, ["--session-max-per-user", "-1"])
        self.assertIn("session-max-per-user", str(e.exception))
