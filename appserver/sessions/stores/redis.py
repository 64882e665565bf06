"""
Sessions in a Redis-protocol server: our session server or a real Redis.
"""

from typing import Any

from twisted.internet import defer
from zope.interface import implementer

from appserver.sessions.interfaces import ISessionStore
from appserver.sessions.manager import SessionStoreUnavailable
from appserver.sessions.resp import ProtocolError, RedisClient, RedisError
from appserver.sessions.stores._util import DEFAULT_PREFIX, checkId, milliseconds
from services.db.url import maskURL

__all__ = ["RedisSessionStore"]


@implementer(ISessionStore)
class RedisSessionStore:
    """
    An L{ISessionStore} over a L{RedisClient}: one key per session with a
    millisecond TTL. Loading pipelines C{GET} and C{PEXPIRE} (one round
    trip, understood by every Redis version and by our session server).

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
