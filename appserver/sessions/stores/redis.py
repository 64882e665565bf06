"""
Sessions in a Redis-protocol server: our session server or a real Redis.
"""

from twisted.internet import defer
from zope.interface import implementer

from appserver.sessions.interfaces import ISessionStore
from appserver.sessions.resp import RedisClient
from appserver.sessions.stores._util import DEFAULT_PREFIX, checkId, milliseconds

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

    def __init__(self, client, prefix=DEFAULT_PREFIX):
        self.client = client
        self.prefix = prefix

    @classmethod
    def fromURL(cls, url, prefix=DEFAULT_PREFIX, reactor=None):
        """
        A store for the C{redis://} URL C{url}.

        @raise ValueError: if the URL is not one.
        """
        return cls(RedisClient(url, reactor=reactor), prefix)

    def _key(self, sessionId):
        return self.prefix + checkId(sessionId).encode("ascii")

    def open(self):
        """
        Start connecting to the server.
        """
        self.client.start()
        return defer.succeed(None)

    def close(self):
        """
        Close the connections.
        """
        return self.client.stop()

    def load(self, sessionId, timeout):
        """
        See L{ISessionStore.load}.
        """
        key = self._key(sessionId)
        d = self.client.executeMany([[b"GET", key], [b"PEXPIRE", key, milliseconds(timeout)]])
        return d.addCallback(lambda replies: replies[0])

    def save(self, sessionId, record, timeout):
        """
        See L{ISessionStore.save}.
        """
        d = self.client.execute(b"SET", self._key(sessionId), record, b"PX", milliseconds(timeout))
        return d.addCallback(lambda _: None)

    def delete(self, sessionId):
        """
        See L{ISessionStore.delete}.
        """
        return self.client.execute(b"DEL", self._key(sessionId)).addCallback(lambda _: None)
