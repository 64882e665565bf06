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
from appserver.web.eager import hasSucceeded
from appserver.web.hooks import beforeResponse
from services.persistence import PersistentObject

__all__ = ["SessionManager", "SessionStoreUnavailable", "getSession", "DEFAULT_IDLE_TIMEOUT",
           "DEFAULT_ABSOLUTE_TIMEOUT"]

DEFAULT_IDLE_TIMEOUT = 30 * 60
DEFAULT_ABSOLUTE_TIMEOUT = 12 * 60 * 60

_STATE = "_appserverSession"
_PENDING = object()
_EXPIRED_DATE = "Thu, 01 Jan 1970 00:00:00 GMT"


class SessionStoreUnavailable(Exception):
    """
    The session store failed to load, save or delete a session: it cannot
    be reached, did not answer in time or answered an error. The message
    says which, in one sentence; C{twistd web-app} answers 503.
    """


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
    manager: Any = ISessionManager(request, None)  # Any: mypy cannot call zope methods
    if manager is None:
        raise RuntimeError(
            "this request has no session manager; wrap the site's resource in "
            "appserver.sessions.SessionResource"
        )
    return manager.sessionForRequest(request)


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
    """

    log = Logger()
    _volatile = ("signer",)

    def __init__(self, store: ISessionStore, signer: Signer | None = None,
                 idleTimeout: float = DEFAULT_IDLE_TIMEOUT,
                 absoluteTimeout: float = DEFAULT_ABSOLUTE_TIMEOUT, cookieName: str = "sid",
                 cookieMaxAge: int | None = None, clock: Any = None) -> None:
        self.store = store
        self.signer = signer
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
        self.cookieName = cookieName
        self.cookieMaxAge = cookieMaxAge
        self._reactor = clock

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
            created, data = decodeRecord(record)
        except ValueError:
            self.log.warn("Discarding the unreadable record of session {id}", id=sessionId[:8])
            return self._newSession()
        if created + self.absoluteTimeout <= self._now():
            self._ask("delete", self.store.delete, sessionId).addErrback(
                lambda f: self.log.warn("Deleting an expired session failed: {error}",
                                        error=f.getErrorMessage())
            )
            return self._newSession()
        return Session(sessionId, created, data, loaded=record, now=self._now)

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
        record = session.record()
        timeout = min(self.idleTimeout, session.created + self.absoluteTimeout - self._now())
        saving = timeout > 0 and session.needsSaving(record)
        if session.hasNewId:
            return self._commitNewId(request, session, hadCookie, record, timeout, saving)
        if saving:
            return self._ask("save", self.store.save, session.id, record, timeout)
        return None

    def _commitNewId(self, request, session, hadCookie, record, timeout, saving):
        work = []
        if session.loadedId is not None:
            work.append(self._ask("delete", self.store.delete, session.loadedId))
        if saving:
            work.append(self._ask("save", self.store.save, session.id, record, timeout))
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
