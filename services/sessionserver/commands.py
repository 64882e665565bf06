"""
Command dispatch, without I/O: L{Server} checks and runs one command for a
L{Client} and returns its reply value, handling authentication and
transactions (MULTI/EXEC/DISCARD) the way Redis 7 does.

Password guessing is made slow and visible: a connection is closed after
L{AUTH_FAILURE_LIMIT} failed AUTH (or HELLO AUTH) attempts, and failures
are logged with the client's address, at most one line per
L{AUTH_LOG_INTERVAL} seconds (on the server's clock), each line counting
the failures since the one before.
"""

import hmac

from twisted.logger import Logger

from services.persistence import keepAlive
from services.sessionserver import admin, keyspace  # noqa: F401 (they fill the table)
from services.sessionserver.resp import OK, ReplyError, Status
from services.sessionserver.store import OutOfMemory
from services.sessionserver.table import (
    COMMANDS, SERVER_VERSION, command, parseInteger, syntaxError, wrongArity)

__all__ = ["Server", "Client"]

NOAUTH = ReplyError("NOAUTH Authentication required.")
WRONGPASS = ReplyError("WRONGPASS invalid username-password pair or user is disabled.")
OOM = ReplyError("OOM command not allowed when used memory > 'maxmemory'.")
QUEUED = Status("QUEUED")
_TRANSACTION = (b"exec", b"discard", b"multi", b"quit", b"reset")

AUTH_FAILURE_LIMIT = 5
"""Failed AUTH attempts after which a connection is closed."""

AUTH_LOG_INTERVAL = 10
"""The fewest seconds between two log lines about failed AUTH attempts."""

_log = Logger()


class Client:
    """
    The state of one connection.

    @ivar id: a number unique within the server.
    @ivar name: set with C{CLIENT SETNAME}, or L{None}.
    @ivar resp3: whether replies use RESP3 (after C{HELLO 3}).
    @ivar authenticated: whether commands other than AUTH/HELLO/QUIT may run.
    @ivar closing: set by QUIT (or too many failed AUTH): close once the
        reply is written.
    @ivar transaction: the commands queued since MULTI, or L{None}.
    @ivar authFailures: how many AUTH attempts failed on this connection.
    """

    def __init__(self, id, authenticated, address=""):
        self.id = id
        self.address = address
        self.name = None
        self.libName = None
        self.libVersion = None
        self.resp3 = False
        self.authenticated = authenticated
        self.closing = False
        self.transaction = None
        self.transactionFailed = False
        self.authFailures = 0


class Server:
    """
    The shared state of a session server: its store, password and counters.

    @ivar store: the L{services.sessionserver.store.Store}.
    @ivar password: the password clients must give, or L{None}.
    @ivar journal: the L{services.sessionserver.journal.Journal} in use
        (its C{info()} gives INFO's persistence fields), or L{None}.
    @ivar ports: the TCP port numbers listened on, for INFO.
    """

    def __init__(self, store, password=None):
        self.store = store
        self.password = password
        self._volatileInit()

    def _volatileInit(self):
        self.clients = {}
        self.lastClientId = 0
        self.totalConnections = 0
        self.totalCommands = 0
        self.startedAt = None
        self.journal = None
        self.ports = []
        self._authLoggedAt = None
        self._authUnlogged = 0

    def __getstate__(self):
        return keepAlive(self, {"store": self.store, "password": self.password})

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._volatileInit()

    def commit(self):
        """
        Make the writes done so far durable as the journal's fsync policy
        says; called before replies acknowledging them are sent.

        @raise services.sessionserver.journal.JournalWriteError: if they
            could not be written; they were undone and must not be
            acknowledged.
        """
        if self.journal is not None:
            self.journal.commit()

    def connect(self, address=""):
        """
        A new L{Client} for a connection from C{address}.
        """
        if self.startedAt is None:
            self.startedAt = self.store.now()
        self.lastClientId += 1
        self.totalConnections += 1
        client = Client(self.lastClientId, self.password is None, address)
        self.clients[client.id] = client
        return client

    def disconnect(self, client):
        """
        Forget C{client}, whose connection is gone.
        """
        self.clients.pop(client.id, None)

    def checkPassword(self, username, password):
        """
        Whether C{username} (only C{default} exists) and C{password} match.
        """
        if username != b"default" or self.password is None:
            return self.password is None and username == b"default"
        return hmac.compare_digest(password, self.password)

    def authenticate(self, client, username, password):
        """
        Check C{client}'s credentials: authenticate it, or count, log and
        answer a failure (closing the connection after
        L{AUTH_FAILURE_LIMIT} of them).

        @return: L{None} on success, else the error reply.
        """
        if self.checkPassword(username, password):
            client.authenticated = True
            return None
        client.authFailures += 1
        if client.authFailures >= AUTH_FAILURE_LIMIT:
            client.closing = True
        self._logAuthFailure(client)
        return WRONGPASS

    def _logAuthFailure(self, client):
        now = self.store.now()
        self._authUnlogged += 1
        if self._authLoggedAt is not None and \
                now - self._authLoggedAt < AUTH_LOG_INTERVAL * 1000:
            return
        _log.warn("Failed AUTH from {address} ({count} failed AUTH since the last report)",
                  address=client.address, count=self._authUnlogged)
        self._authLoggedAt, self._authUnlogged = now, 0

    def execute(self, client, args):
        """
        Run one command for C{client} and return its reply value.
        """
        self.totalCommands += 1
        name = args[0].lower()
        entry = COMMANDS.get(name)
        if client.transaction is not None and name not in _TRANSACTION:
            return self._queue(client, entry, args)
        error = self._refuse(client, entry, args)
        if error is not None:
            return error
        return self._run(client, entry, args)

    def _refuse(self, client, entry, args):
        if entry is None:
            return _unknownCommand(args)
        if not entry.arityOK(len(args)):
            return wrongArity(entry.name)
        if not client.authenticated and "no-auth" not in entry.flags:
            return NOAUTH
        if "denyoom" in entry.flags and self._overMemory():
            return OOM
        return None

    def _overMemory(self):
        store = self.store
        return bool(store.maxmemory) and store.policy == "noeviction" \
            and store.usedMemory >= store.maxmemory

    def _run(self, client, entry, args):
        if self.journal is not None and "write" in entry.flags:
            self.journal.beforeChange(_keys(entry, args))
        try:
            return entry.handler(self, client, args)
        except ReplyError as e:
            return e
        except OutOfMemory:
            return OOM

    def _queue(self, client, entry, args):
        error = self._refuse(client, entry, args)
        if error is not None:
            client.transactionFailed = True
            return error
        client.transaction.append((entry, args))
        return QUEUED


def _keys(entry, args):
    """
    The keys a command names, by its table entry, or L{None} for a command
    that may change every key (FLUSHALL).
    """
    if not entry.firstKey:
        return None
    last = entry.lastKey if entry.lastKey > 0 else len(args) + entry.lastKey
    return args[entry.firstKey:last + 1:entry.step]


def _unknownCommand(args):
    """
    Redis 7's text for an unknown command, quoting its first arguments.
    """
    text = ""
    for arg in args[1:]:
        if len(text) >= 128:
            break
        text += "'" + arg.decode("utf-8", "replace")[:128 - len(text)] + "' "
    name = args[0].decode("utf-8", "replace")[:128]
    return ReplyError(f"ERR unknown command '{name}', with args beginning with: {text}")


@command("multi", 1, "no-script fast", group="transactions", since="1.2.0")
def multi(server, client, args):
    """Start a transaction."""
    if client.transaction is not None:
        return ReplyError("ERR MULTI calls can not be nested")
    client.transaction = []
    client.transactionFailed = False
    return OK


@command("exec", 1, "no-script", group="transactions", since="1.2.0")
def exec_(server, client, args):
    """Run the commands queued since MULTI."""
    if client.transaction is None:
        return ReplyError("ERR EXEC without MULTI")
    queued, failed = client.transaction, client.transactionFailed
    client.transaction, client.transactionFailed = None, False
    if failed:
        return ReplyError("EXECABORT Transaction discarded because of previous errors.")
    return [server._run(client, entry, queuedArgs) for entry, queuedArgs in queued]


@command("discard", 1, "no-script fast", group="transactions", since="2.0.0")
def discard(server, client, args):
    """Forget the commands queued since MULTI."""
    if client.transaction is None:
        return ReplyError("ERR DISCARD without MULTI")
    client.transaction, client.transactionFailed = None, False
    return OK


@command("auth", -2, "no-auth fast", group="connection")
def auth(server, client, args):
    """Authenticate the connection."""
    if len(args) > 3:
        return syntaxError()
    if server.password is None and len(args) == 2:
        return ReplyError(
            "ERR AUTH <password> called without any password configured for the "
            "default user. Are you sure your configuration is correct?")
    username = args[1] if len(args) == 3 else b"default"
    return server.authenticate(client, username, args[-1]) or OK


def _helloOptions(args):
    """
    HELLO's AUTH and SETNAME options as C{(credentials or None, name or None)}.
    """
    credentials = name = None
    j = 2
    while j < len(args):
        option = args[j].upper()
        if option == b"AUTH" and j + 2 < len(args):
            credentials = (args[j + 1], args[j + 2])
            j += 3
        elif option == b"SETNAME" and j + 1 < len(args):
            name = args[j + 1]
            j += 2
        else:
            text = args[j].decode("utf-8", "replace")
            raise ReplyError(f"ERR Syntax error in HELLO option '{text}'")
    return credentials, name


@command("hello", -1, "no-auth fast", group="connection", since="6.0.0")
def hello(server, client, args):
    """Handshake: choose the protocol version, authenticate, name the client."""
    version = 3 if client.resp3 else 2
    if len(args) > 1:
        version = parseInteger(args[1], "ERR Protocol version is not an integer or out of range")
        if not 2 <= version <= 3:
            return ReplyError("NOPROTO unsupported protocol version")
    credentials, name = _helloOptions(args)
    if credentials is not None:
        error = server.authenticate(client, *credentials)
        if error is not None:
            return error
    if not client.authenticated:
        return ReplyError(
            "NOAUTH HELLO must be called with the client already authenticated, "
            "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
            "authenticate the client and select the RESP protocol version at the "
            "same time")
    if name is not None:
        admin.checkClientName(name)
        client.name = name or None
    client.resp3 = version == 3
    return {b"server": b"redis", b"version": SERVER_VERSION.encode(), b"proto": version,
            b"id": client.id, b"mode": b"standalone", b"role": b"master",
            b"modules": []}


@command("quit", -1, "no-auth fast", group="connection")
def quit_(server, client, args):
    """Close the connection."""
    client.closing = True
    return OK


@command("reset", 1, "no-auth fast", group="connection", since="6.2.0")
def reset(server, client, args):
    """Reset the connection's state."""
    client.transaction, client.transactionFailed = None, False
    client.resp3 = False
    client.name = None
    client.authenticated = server.password is None
    return Status("RESET")

