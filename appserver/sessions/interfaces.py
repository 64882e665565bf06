"""
The extension points of web sessions.
"""

from typing import Any

from twisted.internet.defer import Deferred
from zope.interface import Attribute, Interface

__all__ = ["ISessionStore", "ISessionManager"]


class ISessionStore(Interface):
    """
    Where session records live: opaque bytes under a session id, each with
    an expiry enforced by the store itself (so a record nobody reads again
    still goes away).

    Ids are those of L{appserver.sessions.signing.newSessionId}; a store
    may refuse anything else with L{ValueError}. Beside the records, a
    store keeps an index of the sessions of each logged-in user (a set per
    user), which L{appserver.sessions.users} reads. Timeouts are in seconds
    (floats allowed). Every method returns a L{Deferred}.
    """

    def open() -> Deferred[None]:
        """
        Acquire what the store needs (connections, timers). Called when the
        sessions service starts.
        """

    def close() -> Deferred[None]:
        """
        Release what L{open} acquired; records are kept.
        """

    def load(sessionId: str, timeout: float) -> Deferred[bytes | None]:
        """
        Fire with the record stored under C{sessionId}, or L{None} if there
        is none or it has expired, and push its expiry to C{timeout}
        seconds from now (the cheap refresh of a sliding idle timeout).
        """

    def save(sessionId: str, record: bytes, timeout: float) -> Deferred[None]:
        """
        Store C{record} (bytes) under C{sessionId}, replacing any record
        there, to expire C{timeout} seconds from now.
        """

    def delete(sessionId: str) -> Deferred[None]:
        """
        Remove the record under C{sessionId}, if there is one.
        """

    def peek(sessionId: str) -> Deferred[bytes | None]:
        """
        Fire with the record stored under C{sessionId}, or L{None}, leaving
        its expiry alone (listing a user's sessions must not keep them
        alive).
        """

    def addToUser(userId: str, sessionId: str, timeout: float) -> Deferred[None]:
        """
        Index C{sessionId} under the user C{userId} (any string); the index
        of that user may go C{timeout} seconds from now (no session of it
        lives longer).
        """

    def removeFromUser(userId: str, sessionId: str) -> Deferred[None]:
        """
        Remove C{sessionId} from the index of C{userId}, if it is there.
        """

    def sessionsOfUser(userId: str) -> Deferred[list[str]]:
        """
        Fire with the session ids indexed under C{userId}, in no order;
        some may name sessions that have expired since (the caller drops
        them with L{removeFromUser}).
        """

    def deleteAll() -> Deferred[int]:
        """
        Remove every session and every user's index; fire with how many
        sessions there were.
        """


class ISessionManager(Interface):
    """
    Finds, creates and saves the session of a request; see
    L{appserver.sessions.manager.SessionManager}.
    """

    store = Attribute("The L{ISessionStore} the sessions are kept in.")

    def sessionForRequest(request: Any) -> Deferred[Any]:
        """
        Fire with the L{appserver.sessions.session.Session} of C{request},
        loading it at most once per request.
        """
