"""
The sessions of logged-in users (OWASP ASVS 5.0 V7): listing them for
their user (7.5.2), ending one or all but the current one (7.4.3), ending
a user's or everyone's from the operator's side (7.4.5), and bounding how
many one user may have at once (7.1.2).

A session is logged in by L{appserver.sessions.session.Session.login};
the manager then indexes it under its user in the store (see
L{appserver.sessions.interfaces.ISessionStore.addToUser}). Controllers use
L{appserver.sessions.manager.sessionsOf}, C{revoke} and C{revokeAll}, which
find this over the request's store. Sessions are
shown by a hash of their id, never the id itself: a page listing them
must not hand out what would let its reader take them over.
"""

import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet import defer

from appserver.sessions.session import Session, decodeRecord

__all__ = ["SessionInfo", "UserSessions", "idHash", "agentSummary"]

_HASH_LENGTH = 32
_AGENT_LENGTH = 60
_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari")]
_SYSTEMS = [("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def idHash(sessionId: str) -> str:
    """
    What shows a session in lists: 32 hex digits of a SHA-256 of its id,
    from which the id cannot be found (it is 128 random bits).
    """
    return hashlib.sha256(b"appserver-session:" + sessionId.encode("ascii")).hexdigest()[
        :_HASH_LENGTH]


def agentSummary(header: bytes | None) -> str:
    """
    A short, printable summary of a C{User-Agent} header: C{"Firefox on
    Linux"} for a browser this knows, else the header's first word (such as
    C{"curl/8.5.0"}), at most 60 characters; C{""} without one.
    """
    text = _UNPRINTABLE.sub("", (header or b"").decode("latin-1"))
    browser = next((name for token, name in _BROWSERS if token in text), None)
    if browser is None:
        return text.split(" ", 1)[0][:_AGENT_LENGTH]
    system = next((name for token, name in _SYSTEMS if token in text), None)
    return browser if system is None else f"{browser} on {system}"


@dataclasses.dataclass(frozen=True)
class SessionInfo:
    """
    One live session of a user, as L{UserSessions.list} shows it.

    @ivar idHash: L{idHash} of the session's id (what L{revoke} takes).
    @ivar created: when the user logged in (seconds since the epoch).
    @ivar lastSeen: when a request last used the session (to the minute).
    @ivar address: the client's address then (L{None} if not an IP one).
    @ivar userAgent: L{agentSummary} of its C{User-Agent} then.
    @ivar current: whether it is the session of the request asking.
    """

    idHash: str
    created: float
    lastSeen: float
    address: str | None
    userAgent: str
    current: bool = False


def _ids(keep: Session | str | None) -> set[str]:
    """
    The session ids C{keep} names: a session (under its current id and the
    one it was loaded under), an id, or none.
    """
    if keep is None:
        return set()
    if isinstance(keep, Session):
        return {keep.id} if keep.loadedId is None else {keep.id, keep.loadedId}
    return {keep}


class UserSessions:
    """
    The users' index of a store, read and changed on behalf of a user or
    the operator.

    @ivar store: the L{appserver.sessions.interfaces.ISessionStore}.
    @ivar absoluteTimeout: the sessions' absolute timeout (seconds): an
        index entry lives as long as the longest session.
    """

    def __init__(self, store: Any, absoluteTimeout: float, now: Callable[[], float]) -> None:
        self.store = store
        self.absoluteTimeout = absoluteTimeout
        self._now = now

    def add(self, userId: str, sessionId: str) -> defer.Deferred[None]:
        """
        Index C{sessionId} under C{userId}.
        """
        return self.store.addToUser(userId, sessionId, self.absoluteTimeout)

    def remove(self, userId: str, sessionId: str) -> defer.Deferred[None]:
        """
        Take C{sessionId} out of C{userId}'s index.
        """
        return self.store.removeFromUser(userId, sessionId)

    async def live(self, userId: str) -> list[tuple[str, SessionInfo]]:
        """
        C{(session id, L{SessionInfo})} of each live session of C{userId},
        oldest first; entries of sessions that ended (expired, logged out,
        revoked) are dropped from the index on the way.
        """
        ids = await self.store.sessionsOfUser(userId)
        records = await defer.gatherResults([self.store.peek(i) for i in ids], consumeErrors=True)
        found = []
        for sessionId, record in zip(ids, records, strict=True):
            info = self._info(userId, sessionId, record)
            if info is None:
                await self.remove(userId, sessionId)
            else:
                found.append((sessionId, info))
        return sorted(found, key=lambda pair: pair[1].created)

    def _info(self, userId, sessionId, record):
        """
        The L{SessionInfo} of a record of C{userId}'s, or L{None} if the
        session is over or no longer his.
        """
        if record is None:
            return None
        try:
            created, _, login = decodeRecord(record)
        except ValueError:
            return None
        if login is None or login["user"] != userId:
            return None
        if created + self.absoluteTimeout <= self._now():
            return None
        return SessionInfo(idHash(sessionId), created, login.get("seen", created),
                           login.get("address"), login.get("agent", ""))

    async def list(self, userId: str, current: Session | str | None = None) -> list[SessionInfo]:
        """
        The live sessions of C{userId}, oldest first, the one C{current}
        names marked as such.
        """
        mine = _ids(current)
        return [dataclasses.replace(info, current=sessionId in mine)
                for sessionId, info in await self.live(userId)]

    async def end(self, userId: str, sessionIds: Iterable[str]) -> int:
        """
        End the sessions C{sessionIds} of C{userId}: their records and
        index entries go. Fire with how many.
        """
        ending = list(sessionIds)
        for sessionId in ending:
            await self.store.delete(sessionId)
            await self.remove(userId, sessionId)
        return len(ending)

    async def revoke(self, userId: str, hashed: str) -> bool:
        """
        End the session of C{userId} whose L{idHash} is C{hashed}; fire with
        whether there was one.
        """
        chosen = [s for s, info in await self.live(userId) if info.idHash == hashed]
        return bool(await self.end(userId, chosen))

    async def revokeAll(self, userId: str, keep: Session | str | None = None) -> int:
        """
        End every session of C{userId} but the one C{keep} names (a
        session, an id or L{None}); fire with how many ended.
        """
        kept = _ids(keep)
        return await self.end(userId, [s for s, _ in await self.live(userId) if s not in kept])

    async def limit(self, userId: str, most: int, keep: str) -> int:
        """
        End the oldest sessions of C{userId} until at most C{most} are left,
        never the session C{keep}; fire with how many ended.
        """
        others = [s for s, _ in await self.live(userId) if s != keep]
        return await self.end(userId, others[:max(0, len(others) + 1 - most)])

