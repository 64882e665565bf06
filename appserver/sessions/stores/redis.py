"""
Sessions in a Redis-protocol server: our session server or a real Redis.
"""

from typing import Any

from twisted.internet import defer
from zope.interface import implementer

from appserver.sessions.interfaces import ISessionStore
from appserver.sessions.manager import SessionStoreUnavailable
from appserver.sessions.resp import RedisClient, RedisError
from appserver.sessions.stores._util import (
    DEFAULT_PREFIX, USERS, checkId, milliseconds, userIndexKey,
)
from services.db.url import maskURL
from services.resp import ProtocolError

__all__ = ["RedisSessionStore"]

_SCAN_COUNT = 1000
_GLOB_SPECIAL = frozenset(b"*?[]\\")


def _globEscaped(text):
    """
    C{text} (bytes) as a glob pattern matching only itself.
    """
    return b"".join(b"\\" + bytes([c]) if c in _GLOB_SPECIAL else bytes([c]) for c in text)


@implementer(ISessionStore)
class RedisSessionStore:
    """
    An L{ISessionStore} over a L{RedisClient}: one key per session with a
    millisecond TTL. Loading pipelines C{GET} and C{PEXPIRE} (one round
    trip, understood by every Redis version and by our session server).

    A logged-in user's sessions are a set, C{<prefix>user:<sha256 of the
    user>}, of session ids (C{SADD}, C{SREM}, C{SMEMBERS}), given on each
    login the longest time to live of a session.

    @ivar client: the L{RedisClient}.
    @ivar prefix: prepended to session ids to make keys.
    """

    def __init__(self, client: RedisClient, prefix: bytes = DEFAULT_PREFIX) -> None:
        self.client = client
        self.prefix = prefix

    @classmethod
    def fromURL(cls, url: str, prefix: bytes = DEFAULT_PREFIX,
                reactor: Any = None) -> "RedisSessionStore":
        """
        A store for the C{redis://} URL C{url}.

        @raise ValueError: if the URL is not one.
        """
        return cls(RedisClient(url, reactor=reactor), prefix)

    def _key(self, sessionId):
        return self.prefix + checkId(sessionId).encode("ascii")

    def checkNow(self) -> None:
        """
        Check, blocking, that the server answers and takes the URL's
        password and database; see L{RedisClient.checkNow}.

        @raise SessionStoreUnavailable: with one sentence naming the URL
            (its password masked) and what is wrong.
        """
        try:
            self.client.checkNow()
        except Exception as e:
            store = f"The session store {maskURL(self.client.url)}"
            raise SessionStoreUnavailable(f"{store} {self._problem(e)}.") from e

    def _problem(self, error):
        reason = str(error).rstrip(".")
        if isinstance(error, TimeoutError):
            return f"did not answer within {self.client.timeout:g} seconds"
        if isinstance(error, RedisError):
            return f"answered an error: {reason}"
        if isinstance(error, ProtocolError):
            return f"does not speak the Redis protocol: {reason}"
        return f"cannot be reached: {reason}"

    def open(self) -> defer.Deferred[None]:
        """
        Start connecting to the server.
        """
        self.client.start()
        return defer.succeed(None)

    def close(self) -> defer.Deferred[None]:
        """
        Close the connections.
        """
        return self.client.stop()

    def load(self, sessionId: str, timeout: float) -> defer.Deferred[bytes | None]:
        """
        See L{ISessionStore.load}.
        """
        key = self._key(sessionId)
        d = self.client.executeMany([[b"GET", key], [b"PEXPIRE", key, milliseconds(timeout)]])
        return d.addCallback(lambda replies: replies[0])

    def save(self, sessionId: str, record: bytes, timeout: float) -> defer.Deferred[None]:
        """
        See L{ISessionStore.save}.
        """
        d = self.client.execute(b"SET", self._key(sessionId), record, b"PX", milliseconds(timeout))
        return d.addCallback(lambda _: None)

    def delete(self, sessionId: str) -> defer.Deferred[None]:
        """
        See L{ISessionStore.delete}.
        """
        return self.client.execute(b"DEL", self._key(sessionId)).addCallback(lambda _: None)

    def peek(self, sessionId: str) -> defer.Deferred[bytes | None]:
        """
        See L{ISessionStore.peek}.
        """
        return self.client.execute(b"GET", self._key(sessionId))

    def addToUser(self, userId: str, sessionId: str, timeout: float) -> defer.Deferred[None]:
        """
        See L{ISessionStore.addToUser}: C{SADD} and C{PEXPIRE}, pipelined.
        """
        key, member = userIndexKey(self.prefix, userId), checkId(sessionId).encode("ascii")
        d = self.client.executeMany([[b"SADD", key, member],
                                     [b"PEXPIRE", key, milliseconds(timeout)]])
        return d.addCallback(lambda _: None)

    def removeFromUser(self, userId: str, sessionId: str) -> defer.Deferred[None]:
        """
        See L{ISessionStore.removeFromUser}.
        """
        d = self.client.execute(b"SREM", userIndexKey(self.prefix, userId), checkId(sessionId))
        return d.addCallback(lambda _: None)

    def sessionsOfUser(self, userId: str) -> defer.Deferred[list[str]]:
        """
        See L{ISessionStore.sessionsOfUser}.
        """
        d = self.client.execute(b"SMEMBERS", userIndexKey(self.prefix, userId))
        return d.addCallback(lambda members: [m.decode("ascii") for m in members])

    @defer.inlineCallbacks
    def deleteAll(self):
        """
        See L{ISessionStore.deleteAll}: C{SCAN} for the keys under
        L{prefix} (a few at a time, so the server never stalls), C{DEL}
        them.
        """
        pattern, cursor, deleted = _globEscaped(self.prefix) + b"*", b"0", 0
        while True:
            cursor, keys = yield self.client.execute(
                b"SCAN", cursor, b"MATCH", pattern, b"COUNT", _SCAN_COUNT)
            if keys:
                yield self.client.execute(b"DEL", *keys)
                deleted += sum(1 for key in keys if not key.startswith(self.prefix + USERS))
            if cursor == b"0":
                return deleted
