"""
Albatross's session server protocol, over the same store as the Redis
protocol.

Lines end with CRLF (a bare LF is accepted too)::

    new <appid> <age>   ->  OK <id>            (a new, empty session)
    put <appid> <id>    ->  OK - send data now, terminate with blank line
      <data lines> ""   ->  OK
    get <appid> <id>    ->  OK - session follows, <data lines>, ""
                        or  ERROR no such session
    del <appid> <id>    ->  OK
    quit                    (the server closes the connection)

Ids are 128 random bits in hex, made by the server. C{age} is an idle
timeout in seconds: each C{get} or C{put} starts it again. A session lives in
the store under C{albatross:<appid>:<id>}, its value the age on the first
line and the data lines after it.

This protocol has B{no authentication}: anyone who can connect can read
every session. That is why C{--albatross-port} binds to loopback unless
told otherwise; expose it only to trusted machines. What an Albatross
client writes never evicts other keys: under C{--maxmemory}, a C{new} or
C{put} that does not fit answers C{ERROR out of memory} instead, so a
client that did not authenticate cannot push out the sessions of the
authenticated RESP clients. C{age} is at most L{MAX_AGE} seconds. A change
the journal cannot take is undone and answered C{ERROR cannot write the
journal: <reason>}, never C{OK}.
"""

import secrets

from twisted.internet.protocol import Factory
from twisted.protocols.basic import LineReceiver

from services.sessionserver.commands import Server
from services.sessionserver.journal import JournalWriteError
from services.sessionserver.store import OutOfMemory, Store, WrongType

__all__ = ["AlbatrossProtocol", "AlbatrossFactory", "MAX_SESSION_BYTES", "MAX_AGE"]

MAX_SESSION_BYTES = 1024 * 1024
"""The most data one session may hold."""

MAX_AGE = 10 * 365 * 86400
"""The longest idle timeout a session may have, in seconds (ten years)."""

BAD_AGE = b"ERROR age must be a positive number of seconds up to %d" % MAX_AGE

NO_SUCH_SESSION = b"ERROR no such session"


def sessionKey(appid: bytes, sessionId: bytes) -> bytes:
    """
    The store key of an Albatross session.
    """
    return b"albatross:" + appid + b":" + sessionId


class AlbatrossProtocol(LineReceiver):
    """
    One client of the Albatross session protocol.
    """

    delimiter = b"\n"
    MAX_LENGTH = 16384
    _receiving = None

    def lineReceived(self, line):
        """
        Handle a command, or a line of session data after C{put}.
        """
        line = line.rstrip(b"\r")
        if self._receiving is not None:
            self._dataLine(line)
            return
        words = line.split()
        if not words:
            return
        handler = getattr(self, "do_" + words[0].decode("ascii", "replace").lower(), None)
        if handler is None:
            self.sendLine(b"ERROR unknown command")
            return
        if not _acceptsArgs(handler, len(words) - 1):
            self.sendLine(b"ERROR wrong number of arguments")
            return
        try:
            handler(*words[1:])
        except OutOfMemory:
            self._receiving = None
            self.sendLine(b"ERROR out of memory")

    def _store(self):
        return self.factory.store

    def _session(self, key):
        """
        C{(age, data lines)} of the session stored at C{key}, or L{None} if
        there is none (or what is there was not written as a session: a
        string of another shape, a hash or a set).
        """
        try:
            value = self._store().get(key)
        except WrongType:
            return None
        if value is None:
            return None
        lines = value.split(b"\n")
        age = _parseAge(lines[0])
        return None if age is None else (age, lines[1:])

    def _refresh(self, key, age, lines):
        """
        Store a session's C{age} and data C{lines} under C{key}, idle
        expiring from now, evicting nothing.
        """
        store = self._store()
        self.factory.beforeChange(key)
        store.set(key, b"\n".join([b"%d" % age] + lines), store.now() + age * 1000,
                  evict=False)

    def do_new(self, appid, age):
        """
        Create an empty session idle-expiring after C{age} seconds.
        """
        seconds = _parseAge(age)
        if seconds is None:
            self.sendLine(BAD_AGE)
            return
        sessionId = secrets.token_hex(16).encode()
        self._refresh(sessionKey(appid, sessionId), seconds, [])
        self.sendLine(b"OK " + sessionId)

    def do_put(self, appid, sessionId):
        """
        Replace a session's data with the lines that follow.
        """
        key = sessionKey(appid, sessionId)
        if self._session(key) is None:
            self.sendLine(NO_SUCH_SESSION)
            return
        self._receiving = (key, [], 0)
        self.sendLine(b"OK - send data now, terminate with blank line")

    def _dataLine(self, line):
        key, lines, size = self._receiving
        if line:
            size += len(line) + 1
            if size > MAX_SESSION_BYTES:
                self.sendLine(b"ERROR session too large")
                self.transport.loseConnection()
                return
            lines.append(line)
            self._receiving = (key, lines, size)
            return
        self._receiving = None
        current = self._session(key)
        if current is None:
            self.sendLine(NO_SUCH_SESSION)
            return
        try:
            self._refresh(key, current[0], lines)
        except OutOfMemory:
            self.sendLine(b"ERROR out of memory")
            return
        self.sendLine(b"OK")

    def do_get(self, appid, sessionId):
        """
        Send a session's data lines, followed by a blank line.
        """
        key = sessionKey(appid, sessionId)
        session = self._session(key)
        if session is None:
            self.sendLine(NO_SUCH_SESSION)
            return
        age, lines = session
        store = self._store()
        self.factory.beforeChange(key)
        store.pexpireAt(key, store.now() + age * 1000)
        self._send([b"OK - session follows"] + lines + [b""])

    def do_del(self, appid, sessionId):
        """
        Delete a session.
        """
        key = sessionKey(appid, sessionId)
        self.factory.beforeChange(key)
        self._store().delete(key)
        self.sendLine(b"OK")

    def do_quit(self):
        """
        Close the connection.
        """
        self.transport.loseConnection()

    def sendLine(self, line):
        """
        Send C{line} with CRLF, as Albatross clients expect.
        """
        self._send([line])

    def _send(self, lines):
        """
        Send C{lines} once the writes they acknowledge are journaled, or an
        error saying that they could not be (and were undone).
        """
        try:
            self.factory.commit()
        except JournalWriteError as e:
            lines = [b"ERROR cannot write the journal: " + e.strerror.encode()]
        self.transport.write(b"".join(line + b"\r\n" for line in lines))

    def lineLengthExceeded(self, line):
        """
        Refuse an over-long line and close.
        """
        self.transport.write(b"ERROR line too long\r\n")
        self.transport.loseConnection()


def _parseAge(text):
    """
    The age C{text} gives in seconds, or L{None} unless it is a whole number
    from 1 to L{MAX_AGE}.
    """
    if not text.isdigit() or len(text) > len(b"%d" % MAX_AGE):
        return None
    age = int(text)
    return age if 0 < age <= MAX_AGE else None


def _acceptsArgs(handler, count):
    code = handler.__code__
    return code.co_argcount - 1 == count


class AlbatrossFactory(Factory):
    """
    Builds L{AlbatrossProtocol}s over a store; picklable.

    @ivar server: the L{services.sessionserver.commands.Server} whose store
        holds the sessions and whose journal is committed before replies.
    """

    protocol = AlbatrossProtocol

    def __init__(self, server: Server) -> None:
        self.server = server

    @property
    def store(self) -> Store:
        """
        The store holding the sessions.
        """
        return self.server.store

    def beforeChange(self, key: bytes) -> None:
        """
        Let the journal remember C{key} as it is, to put it back if the
        change about to be made cannot be journaled.
        """
        if self.server.journal is not None:
            self.server.journal.beforeChange([key])

    def commit(self) -> None:
        """
        Make the writes so far durable before a reply acknowledges them.

        @raise JournalWriteError: if they could not be; they were undone.
        """
        self.server.commit()
