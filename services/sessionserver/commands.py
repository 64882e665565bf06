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
import os
from collections.abc import Callable
from time import perf_counter
from typing import Any

from twisted.logger import Logger

from services.persistence import PersistentObject
from services.sessionserver.handling import wrongArity
from services.resp import ReplyError, Status
from services.sessionserver.store import OutOfMemory, Store
from services.sessionserver.table import COMMANDS, Command

__all__ = ["Server", "Client"]

NOAUTH = ReplyError("NOAUTH Authentication required.")
WRONGPASS = ReplyError("WRONGPASS invalid username-password pair or user is disabled.")
OOM = ReplyError("OOM command not allowed when used memory > 'maxmemory'.")
QUEUED = Status("QUEUED")
_TRANSACTION = (b"exec", b"discard", b"multi", b"watch", b"quit", b"reset")

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
    @ivar localAddress: the server's end of the connection (C{host:port}).
    @ivar created: when the connection was made (ms on the store's clock).
    @ivar lastInteraction: when its connection last received bytes (ms;
        the protocol sets it).
    @ivar lastCommand: the name of its last command as C{CLIENT INFO}
        shows it (C{client|info} for a subcommand), or L{None}.
    @ivar noEvict: set by C{CLIENT NO-EVICT ON}.
    @ivar fd: the connection's file descriptor, -1 when unknown.
    @ivar kill: closes the connection now (for C{CLIENT KILL}), or L{None}.
    @ivar watching: the keys given to C{WATCH} since the last C{EXEC},
        C{DISCARD}, C{UNWATCH} or C{RESET}.
    @ivar watchedKeyChanged: whether one of them changed since.
    """

    def __init__(self, id: int, authenticated: bool, address: str = "",
                 localAddress: str = "", created: int = 0) -> None:
        self.id = id
        self.address = address
        self.localAddress = localAddress
        self.created = self.lastInteraction = created
        self.lastCommand: str | None = None
        self.noEvict = False
        self.fd = -1
        self.kill: Callable[[], None] | None = None
        self.name: bytes | None = None
        self.libName: bytes | None = None
        self.libVersion: bytes | None = None
        self.resp3 = False
        self.authenticated = authenticated
        self.closing = False
        self.transaction: list[tuple[Command, list[bytes]]] | None = None
        self.transactionFailed = False
        self.authFailures = 0
        self.watching: set[bytes] = set()
        self.watchedKeyChanged = False

    def keyChanged(self, key: bytes) -> None:
        """
        A watched key changed: the next C{EXEC} fails.
        """
        self.watchedKeyChanged = True


class Server(PersistentObject):
    """
    The shared state of a session server: its store, password and counters.

    @ivar store: the L{services.sessionserver.store.Store}.
    @ivar password: the password clients must give, or L{None}.
    @ivar journal: the L{services.sessionserver.journal.Journal} in use
        (its C{info()} gives INFO's persistence fields), or L{None}.
    @ivar ports: the TCP port numbers listened on, for INFO.
    @ivar fsync: the journal's fsync policy (kept, and reported, without a
        journal too, as Redis keeps C{appendfsync} with C{appendonly no}).
    @ivar commandStats: command (or subcommand, C{config|set}) name to
        C{[calls, seconds, rejected calls, failed calls]}, for C{INFO
        commandstats}.
    @ivar errorStats: error code (C{ERR}, C{WRONGTYPE}, ...) to how many
        error replies carried it, for C{INFO errorstats}.
    @ivar runId: 40 random hex digits naming this run (INFO's C{run_id}).
    @cvar commands: the command table (see L{services.sessionserver.table}).
    """

    commands = COMMANDS
    fsync = "everysec"
    _volatile = ("clients", "lastClientId", "totalConnections", "totalCommands", "startedAt",
                 "journal", "ports", "_authLoggedAt", "_authUnlogged", "commandStats",
                 "errorStats", "runId")
    journal: Any
    startedAt: float | None

    def __init__(self, store: Store, password: bytes | None = None,
                 fsync: str = "everysec") -> None:
        self.store = store
        self.password = password
        self.fsync = fsync
        self._volatileInit()

    def _volatileInit(self):
        PersistentObject._volatileInit(self)
        self.clients = {}
        self.lastClientId = 0
        self.ports = []
        self._authUnlogged = 0
        self.runId = os.urandom(20).hex()
        self.resetStats()

    def resetStats(self) -> None:
        """
        Zero the counters C{CONFIG RESETSTAT} resets: connections and
        commands counted, command and error statistics, and the store's.
        """
        self.totalConnections = self.totalCommands = 0
        self.commandStats: dict[str, list[Any]] = {}
        self.errorStats: dict[str, int] = {}
        self.store.resetStats()

    def setFsync(self, policy: str) -> None:
        """
        Switch the journal's fsync policy to C{policy} (one of C{always},
        C{everysec}, C{no}); switching to C{always} fsyncs what was written
        before at once.
        """
        self.fsync = policy
        if self.journal is not None:
            self.journal.fsync = policy
            if policy == "always":
                self.journal.sync()

    def commit(self) -> None:
        """
        Make the writes done so far durable as the journal's fsync policy
        says; called before replies acknowledging them are sent.

        @raise services.sessionserver.journal.JournalWriteError: if they
            could not be written; they were undone and must not be
            acknowledged.
        """
        if self.journal is not None:
            self.journal.commit()

    def connect(self, address: str = "", localAddress: str = "") -> Client:
        """
        A new L{Client} for a connection from C{address} to
        C{localAddress}.
        """
        now = self.store.now()
        if self.startedAt is None:
            self.startedAt = now
        self.lastClientId += 1
        self.totalConnections += 1
        client = Client(self.lastClientId, self.password is None, address, localAddress, now)
        self.clients[client.id] = client
        return client

    def disconnect(self, client: Client) -> None:
        """
        Forget C{client}, whose connection is gone.
        """
        self.unwatch(client)
        self.clients.pop(client.id, None)

    def watch(self, client: Client, keys: list[bytes]) -> None:
        """
        Make C{client}'s next C{EXEC} fail if one of C{keys} changes first.
        """
        for key in keys:
            self.store.watch(key, client)
            client.watching.add(key)

    def unwatch(self, client: Client) -> None:
        """
        Forget the keys C{client} watches.
        """
        for key in client.watching:
            self.store.unwatch(key, client)
        client.watching.clear()
        client.watchedKeyChanged = False

    def watchedKeysChanged(self, client: Client) -> bool:
        """
        Whether a key C{client} watches changed (or expired) since C{WATCH}.
        """
        for key in client.watching:
            # An expired key is removed now, which counts as a change.
            self.store.peek(key)
        return client.watchedKeyChanged

    def checkPassword(self, username: bytes, password: bytes) -> bool:
        """
        Whether C{username} (only C{default} exists) and C{password} match.
        """
        if username != b"default" or self.password is None:
            return self.password is None and username == b"default"
        return hmac.compare_digest(password, self.password)

    def authenticate(self, client: Client, username: bytes, password: bytes
                     ) -> ReplyError | None:
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

    def execute(self, client: Client, args: list[bytes]) -> Any:
        """
        Run one command for C{client} and return its reply value.
        """
        self.totalCommands += 1
        name = args[0].lower()
        entry = self.commands.get(name)
        if entry is not None:
            client.lastCommand = _shownName(entry, args) if entry.subcommands else entry.name
        if client.transaction is not None and name not in _TRANSACTION:
            return self._queue(client, entry, args)
        error = self._refuse(client, entry, args)
        if error is not None:
            return error
        return self.run(client, entry, args)

    def _refuse(self, client, entry, args):
        """
        The error refusing C{args} before it runs (counted as a rejected
        call), or L{None}.
        """
        if entry is None:
            error = _unknownCommand(args)
        elif not entry.arityOK(len(args)):
            error = wrongArity(entry.name)
        elif not client.authenticated and "no-auth" not in entry.flags:
            error = NOAUTH
        elif "denyoom" in entry.flags and self._overMemory():
            error = OOM
        else:
            return None
        if entry is not None:
            self._statsOf(entry, args)[2] += 1
        self._countError(error)
        return error

    def _statsOf(self, entry, args):
        """
        The statistics of the command (or subcommand, C{config|set}) C{args}.
        """
        name = _shownName(entry, args) if entry.subcommands else entry.name
        stats = self.commandStats.get(name)
        if stats is None:
            stats = self.commandStats[name] = [0, 0.0, 0, 0]
        return stats

    def _countError(self, error):
        code = error.args[0].split(" ", 1)[0]
        self.errorStats[code] = self.errorStats.get(code, 0) + 1

    def _overMemory(self):
        store = self.store
        return bool(store.maxmemory) and store.policy == "noeviction" \
            and store.usedMemory >= store.maxmemory

    def run(self, client: Client, entry: Command, args: list[bytes]) -> Any:
        """
        Run the table entry C{entry} with C{args} for C{client}, its checks
        passed, and return its reply value.
        """
        if self.journal is not None and "write" in entry.flags:
            self.journal.beforeChange(_keys(entry, args))
        stats = self.commandStats.get(entry.name) if not entry.subcommands else None
        if stats is None:
            stats = self._statsOf(entry, args)
        started = perf_counter()
        try:
            reply = entry.handler(self, client, args)
        except ReplyError as e:
            reply = e
        except OutOfMemory:
            reply = OOM
        stats[0] += 1
        stats[1] += perf_counter() - started
        if isinstance(reply, ReplyError):
            stats[3] += 1
            self._countError(reply)
        return reply

    def _queue(self, client, entry, args):
        error = self._refuse(client, entry, args)
        if error is not None:
            client.transactionFailed = True
            return error
        client.transaction.append((entry, args))
        return QUEUED


def _shownName(entry, args):
    """
    The name of a container command as C{CLIENT INFO}'s C{cmd} shows it:
    C{name|subcommand} for a known subcommand, else C{name}.
    """
    if len(args) > 1:
        sub = args[1].lower()
        if sub in entry.subcommands:
            return f"{entry.name}|{sub.decode()}"
    return entry.name


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
