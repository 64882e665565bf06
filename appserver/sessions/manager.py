"""
Finding, creating and saving the session of a request.
"""

from functools import partial
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import Request
from zope.interface import implementer

from appserver.sessions.interfaces import ISessionManager, ISessionStore
from appserver.sessions.session import Session, decodeRecord
from appserver.sessions.signing import Signer, newSessionId
from appserver.sessions.users import SessionInfo, UserSessions, agentSummary, idHash
from appserver.web.eager import hasSucceeded
from appserver.web.hooks import beforeResponse
from services.persistence import PersistentObject

__all__ = ["SessionManager", "SessionStoreUnavailable", "getSession", "managerOf", "sessionsOf",
           "revoke", "revokeAll", "DEFAULT_IDLE_TIMEOUT", "DEFAULT_ABSOLUTE_TIMEOUT",
           "SEEN_INTERVAL"]

DEFAULT_IDLE_TIMEOUT = 30 * 60
DEFAULT_ABSOLUTE_TIMEOUT = 12 * 60 * 60
# A logged-in session's "last seen" is rewritten at most this often (seconds),
# so that reading a session stays a read.
SEEN_INTERVAL = 60

_STATE = "_appserverSession"
_PENDING = object()
_EXPIRED_DATE = "Thu, 01 Jan 1970 00:00:00 GMT"


class SessionStoreUnavailable(Exception):
    """
    The session store failed to load, save or delete a session: it cannot
    be reached, did not answer in time or answered an error. The message
    says which, in one sentence; C{twistd web-app} answers 503.
    """


def managerOf(request: Request) -> Any:
    """
    The L{ISessionManager} attached to C{request}.

    @raise RuntimeError: if there is none (see
        L{appserver.sessions.resource.SessionResource}).
    """
    manager: Any = ISessionManager(request, None)  # Any: mypy cannot call zope methods
    if manager is None:
        raise RuntimeError(
            "this request has no session manager; wrap the site's resource in "
            "appserver.sessions.SessionResource"
        )
    return manager


def getSession(request: Request) -> defer.Deferred[Session]:
    """
    The session of C{request}: a L{Deferred} firing with its
    L{appserver.sessions.session.Session}, loaded from the store at most
    once per request and saved, if changed, before the response is sent.
    Use C{session = await getSession(request)} in a coroutine, or C{yield}
    it in C{inlineCallbacks}.

    @raise RuntimeError: if no L{ISessionManager} was attached to the
        request (see L{appserver.sessions.resource.SessionResource}).
    """
    return managerOf(request).sessionForRequest(request)


def _loadedSession(request):
    """
    The session of C{request} if it has been loaded, else L{None}.
    """
    state = request.__dict__.get(_STATE)
    return state if type(state) is Session else None


def sessionsOf(request: Request, userId: str) -> defer.Deferred[list[SessionInfo]]:
    """
    The live sessions of C{userId} in the store of C{request}'s manager:
    L{appserver.sessions.users.SessionInfo}s, oldest first, the request's
    own marked C{current} once it has been loaded. They show a hash of each
    session's id, never the id.
    """
    current = _loadedSession(request)
    return defer.ensureDeferred(managerOf(request).users.list(userId, current))


def revoke(request: Request, userId: str, hashed: str) -> defer.Deferred[bool]:
    """
    End the session of C{userId} shown as C{hashed} (a C{SessionInfo}'s
    C{idHash}); fire with whether there was one. The request's own session
    is invalidated instead (else the end of the request would save it
    again).
    """
    own = _loadedSession(request)
    if own is not None and own.user == userId and idHash(own.id) == hashed:
        own.invalidate()
        return defer.succeed(True)
    return defer.ensureDeferred(managerOf(request).users.revoke(userId, hashed))


def revokeAll(request: Request, userId: str,
              keep: Session | str | None = None) -> defer.Deferred[int]:
    """
    End every session of C{userId} but C{keep} (a session or an id; give
    the request's own for "log out everywhere else" and after a password
    change); fire with how many ended.
    """
    return defer.ensureDeferred(managerOf(request).users.revokeAll(userId, keep))


def _storeFailed(failure, action):
    raise SessionStoreUnavailable(
        f"The session store could not {action} a session: {failure.getErrorMessage()}"
    ) from failure.value


class _Loading:
    """
    The session of one request, once loaded, and those waiting for it.
    """

    def __init__(self):
        self._result = _PENDING
        self._waiting = []

    def done(self, result):
        """
        Record the outcome (a session or a failure) and give it to those
        waiting.
        """
        self._result = result
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            self._fire(d)

    def _fire(self, d):
        if isinstance(self._result, Failure):
            d.errback(self._result)
        else:
            d.callback(self._result)

    def wait(self):
        """
        A Deferred firing with the outcome, at once if it is known.
        """
        d = defer.Deferred()
        if self._result is _PENDING:
            self._waiting.append(d)
        else:
            self._fire(d)
        return d


@implementer(ISessionManager)
class SessionManager(PersistentObject):
    """
    Sessions kept in a store and found through a signed cookie.

    The idle timeout slides: every request that reads the session pushes
    the record's expiry in the store (the store's TTL, enforced by the
    store). The absolute timeout counts from the session's creation time,
    kept in the record and checked on every load.

    @ivar store: the L{ISessionStore}.
    @ivar signer: the L{appserver.sessions.signing.Signer} of cookie values;
        run-time state, set by whoever loads the secrets (the sessions
        service does so when it starts) and never pickled.
    @ivar idleTimeout: seconds of inactivity after which a session ends.
    @ivar absoluteTimeout: seconds after its creation (or last rotation)
        after which a session ends however active it is.
    @ivar cookieName: the cookie's name; C{__Host-} is prefixed over TLS.
    @ivar cookieMaxAge: the cookie's C{Max-Age} in seconds, or L{None} for a
        browser-session cookie.
    @ivar maxPerUser: the most sessions one user may have at once (0: no
        limit); a login beyond it ends that user's oldest sessions.
    """

    log = Logger()
    _volatile = ("signer",)

    def __init__(self, store: ISessionStore, signer: Signer | None = None,
                 idleTimeout: float = DEFAULT_IDLE_TIMEOUT,
                 absoluteTimeout: float = DEFAULT_ABSOLUTE_TIMEOUT, cookieName: str = "sid",
                 cookieMaxAge: int | None = None, clock: Any = None,
                 maxPerUser: int = 0) -> None:
        self.store = store
        self.signer = signer
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
        self.cookieName = cookieName
        self.cookieMaxAge = cookieMaxAge
        self.maxPerUser = maxPerUser
        self._reactor = clock

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A manager pickled before the limit existed has none.
        state.setdefault("maxPerUser", 0)
        PersistentObject.__setstate__(self, state)

    @property
    def users(self) -> UserSessions:
        """
        The L{UserSessions} of the store: the users' sessions, listed and
        ended.
        """
        return UserSessions(self.store, self.absoluteTimeout, self._now)

    def _now(self):
        return self._getReactor().seconds()

    def cookieNameFor(self, request: Request) -> str:
        """
        The cookie's name for C{request}: C{__Host-<name>} over TLS, which
        browsers accept only when Secure, for Path=/ and without a Domain.
        """
        return ("__Host-" if request.isSecure() else "") + self.cookieName

    def sessionForRequest(self, request: Request) -> defer.Deferred[Session]:
        """
        See L{ISessionManager.sessionForRequest}.
        """
        state = request.__dict__.get(_STATE)
        if state is None:
            state = request.__dict__[_STATE] = self._start(request)
        if type(state) is Session:
            return defer.succeed(state)
        return state.wait()

    def _start(self, request):
        """
        Begin loading the session of C{request}: the L{Session} itself when
        it is there at once (new, or from a store that answered at once),
        else a L{_Loading}.
        """
        try:
            return self._load(request)
        except Exception:
            failed = _Loading()
            failed.done(Failure())
            return failed

    def _load(self, request):
        if self.signer is None:
            raise RuntimeError("session secrets are not loaded; start the sessions service")
        cookie = request.getCookie(self.cookieNameFor(request).encode("ascii"))
        sessionId = None if cookie is None else self.signer.unsign(cookie)
        if sessionId is None:
            return self._loaded(self._newSession(), request, cookie is not None)
        loading = self._ask("load", self.store.load, sessionId, self.idleTimeout)
        if hasSucceeded(loading):
            return self._loaded(self._fromRecord(loading.result, sessionId), request, True)
        state = _Loading()
        loading.addCallback(self._fromRecord, sessionId)
        loading.addCallback(self._loaded, request, True).addBoth(state.done)
        return state

    def _ask(self, action, method, *args):
        """
        Call the store's C{method(*args)}; a failure, raised or through the
        Deferred, becomes L{SessionStoreUnavailable} naming C{action}.
        """
        try:
            asking = method(*args)
        except Exception:
            asking = defer.fail()
        if hasSucceeded(asking):
            return asking
        return asking.addErrback(_storeFailed, action)

    def _fromRecord(self, record, sessionId):
        if record is None:
            return self._newSession()
        try:
            created, data, login = decodeRecord(record)
        except ValueError:
            self.log.warn("Discarding the unreadable record of session {id}", id=sessionId[:8])
            return self._newSession()
        if created + self.absoluteTimeout <= self._now():
            self._ask("delete", self.store.delete, sessionId).addErrback(
                lambda f: self.log.warn("Deleting an expired session failed: {error}",
                                        error=f.getErrorMessage())
            )
            return self._newSession()
        return Session(sessionId, created, data, loaded=record, now=self._now, login=login)

    def _newSession(self):
        return Session(newSessionId(), self._now(), now=self._now)

    def _loaded(self, session, request, hadCookie):
        beforeResponse(request, partial(self._commit, request, session, hadCookie))
        return session

    def _commit(self, request, session, hadCookie):
        """
        Save C{session} if it must be; for one with a new id, also delete
        the record of the old one and tell the client the new one.
        """
        if session.user is not None:
            self._noteVisit(request, session)
        record = session.record()
        timeout = min(self.idleTimeout, session.created + self.absoluteTimeout - self._now())
        saving = timeout > 0 and session.needsSaving(record)
        if session.hasNewId:
            return self._commitNewId(request, session, hadCookie, record, timeout, saving)
        if saving:
            return self._ask("save", self.store.save, session.id, record, timeout)
        return None

    def _noteVisit(self, request, session):
        """
        Record when, from where and with what a logged-in session was used,
        if that is new or C{SEEN_INTERVAL} old.
        """
        now, address = self._now(), getattr(request.getClientAddress(), "host", None)
        agent = agentSummary(request.getHeader(b"user-agent"))
        if session.lastSeen is None or session.hasNewId or now - session.lastSeen >= SEEN_INTERVAL:
            session.noteVisit(now, address, agent)

    async def _index(self, session):
        """
        Index a newly logged-in session under its user, then end that
        user's oldest sessions beyond L{maxPerUser}.
        """
        users = self.users
        await users.add(session.user, session.id)
        if self.maxPerUser:
            await users.limit(session.user, self.maxPerUser, keep=session.id)

    def _commitNewId(self, request, session, hadCookie, record, timeout, saving):
        work = []
        if session.loadedId is not None:
            work.append(self._ask("delete", self.store.delete, session.loadedId))
            if session.loadedUser is not None:
                work.append(self._ask("unindex", self.users.remove, session.loadedUser,
                                      session.loadedId))
        if saving:
            saved = self._ask("save", self.store.save, session.id, record, timeout)
            if session.user is not None:
                # After the save: listing drops entries whose record is not there.
                saved.addCallback(lambda _: self._ask(
                    "index", lambda: defer.ensureDeferred(self._index(session))))
            work.append(saved)
            self._setCookie(request, session.id)
        elif hadCookie:
            self._clearCookie(request)
        if len(work) < 2:
            return work[0] if work else None
        return defer.gatherResults(work, consumeErrors=True).addErrback(
            lambda failure: failure.value.subFailure
        )

    def _addCookie(self, request, value, **extra):
        request.addCookie(
            self.cookieNameFor(request).encode("ascii"), value.encode("ascii"),
            path=b"/", secure=request.isSecure() or None, httpOnly=True,
            sameSite="lax", **extra,
        )
        if not request.responseHeaders.hasHeader(b"cache-control"):
            request.responseHeaders.setRawHeaders(b"cache-control", [b"private, no-store"])

    def _setCookie(self, request, sessionId):
        extra = {}
        if self.cookieMaxAge is not None:
            extra["max_age"] = str(int(self.cookieMaxAge)).encode("ascii")
        self._addCookie(request, self.signer.sign(sessionId), **extra)

    def _clearCookie(self, request):
        self._addCookie(request, "", max_age=b"0", expires=_EXPIRED_DATE.encode("ascii"))
