"""
Web sessions: a dict of JSON values per browser, found through a signed
cookie, loaded lazily and saved once per request, kept in a store (this
process's memory, files, or a Redis-protocol server).

In a controller::

    session = await getSession(request)
    session.login("alice")                # at login: a new id, indexed under alice

See docs/sessions.md.
"""

from appserver.sessions.csrf import checkCsrfToken, csrfToken, tokenFromRequest
from appserver.sessions.interfaces import ISessionManager, ISessionStore
from appserver.sessions.manager import SessionManager, getSession, revoke, revokeAll, sessionsOf
from appserver.sessions.resource import SessionResource
from appserver.sessions.service import SessionsService, makeSessionsService
from appserver.sessions.session import Session
from appserver.sessions.signing import Signer, loadOrCreateSecret, readSecretFile, secretValue
from appserver.sessions import stores
from appserver.sessions.stores import (
    FileSessionStore, MemorySessionStore, RedisSessionStore, checkStoreSpec, storeFromSpec,
)
from appserver.sessions.users import SessionInfo

__all__ = [
    "getSession", "Session", "ISessionStore", "ISessionManager", "SessionManager",
    "SessionResource", "SessionsService", "makeSessionsService", "Signer", "secretValue",
    "readSecretFile", "loadOrCreateSecret", "stores", "MemorySessionStore", "FileSessionStore",
    "RedisSessionStore", "storeFromSpec", "checkStoreSpec", "csrfToken", "checkCsrfToken",
    "tokenFromRequest", "sessionsOf", "revoke", "revokeAll", "SessionInfo",
]
