"""
L{SessionServerService}: the session server as one picklable service.

It owns the store, the optional journal, the active expiry sweep and one
listening child per RESP port and per Albatross port. Without a journal, the
store's keys are part of the pickle, so a persisted application (C{twistd -f
x.tap}, saved at shutdown as C{x-shutdown.tap}) keeps its sessions; with a
journal, the file is the copy and the pickle holds only the configuration.
"""

from collections.abc import Iterable
from typing import Any

from twisted.internet import task

from services.persistence import PersistentMultiService
from services.ports import ListeningService
from services.sessionserver.albatross import AlbatrossFactory
from services.sessionserver.commands import Server
from services.sessionserver.journal import (
    CorruptJournal, Journal, JournalUnavailable, corruptionMessage)
from services.sessionserver.protocol import RedisFactory
from services.sessionserver.store import Store

__all__ = ["SessionServerService", "DEFAULT_PORT", "EXPIRY_INTERVAL", "EXPIRY_BATCH"]

DEFAULT_PORT = "tcp:34343:interface=127.0.0.1"
EXPIRY_INTERVAL = 0.1
"""Seconds between active expiry sweeps (Redis runs ten a second)."""
EXPIRY_BATCH = 2000
"""The most keys one sweep removes, so that a sweep never stalls clients."""


class SessionServerService(PersistentMultiService):
    """
    A session server speaking RESP (and optionally Albatross's protocol).

    @ivar store: the L{Store}.
    @ivar server: the L{Server} running commands against it.
    @ivar journalPath: the journal file, or L{None} to keep data in memory.
    @ivar journal: the open L{Journal} while running, else L{None}.
    """

    _volatile = ("journal", "_expiry", "_sync")

    def __init__(self, ports: Iterable[str] = (DEFAULT_PORT,),
                 albatrossPorts: Iterable[str] = (), password: bytes | None = None,
                 maxmemory: int = 0, policy: str = "volatile-lru",
                 journalPath: str | None = None, fsync: str = "everysec", clock: Any = None,
                 reactor: Any = None) -> None:
        PersistentMultiService.__init__(self)
        self.setName("session-server")
        self.store = Store(clock, maxmemory, policy)
        self.store.persistData = journalPath is None
        self.server = Server(self.store, password, fsync)
        self.journalPath = journalPath
        self._reactor = clock
        self._volatileInit()
        redis = RedisFactory(self.server)
        for description in ports:
            ListeningService(description, redis, reactor).setServiceParent(self)
        albatross = AlbatrossFactory(self.server)
        for description in albatrossPorts:
            ListeningService(description, albatross, reactor).setServiceParent(self)

    @property
    def fsync(self) -> str:
        """
        The journal's fsync policy (C{CONFIG SET appendfsync} changes it).
        """
        return self.server.fsync

    def __setstate__(self, state: dict[str, Any]) -> None:
        """
        Load C{state}; one pickled before the server kept the fsync policy
        (as the service's C{fsync}) hands it to the server.
        """
        fsync = state.pop("fsync", None)
        PersistentMultiService.__setstate__(self, state)
        if fsync is not None:
            self.server.fsync = fsync

    def startService(self) -> None:
        """
        Replay the journal, start the expiry sweep (and with a journal the
        once-a-second fsync timer, which fsyncs under C{everysec}), then
        listen.
        """
        clock = self._getReactor()
        self.store.clock = clock
        self.server.startedAt = self.store.now()
        if self.journalPath is not None:
            self._openJournal(clock)
        self._expiry = self._loop(clock, self.store.expireDue, EXPIRY_INTERVAL, EXPIRY_BATCH)
        PersistentMultiService.startService(self)
        self.server.ports = [port.port.getHost().port for port in self
                             if isinstance(port, ListeningService) and port.port is not None
                             and hasattr(port.port.getHost(), "port")]

    def _openJournal(self, clock):
        journal = Journal(self.journalPath, self.server.fsync, clock)
        try:
            journal.load(self.store)
        except OSError as e:
            raise JournalUnavailable(
                f"Cannot open the journal {self.journalPath}: {e.strerror or e}.") from None
        except CorruptJournal as e:
            raise JournalUnavailable(corruptionMessage(self.journalPath, e)) from None
        self.journal = self.server.journal = journal
        self._sync = self._loop(clock, self._syncEverySecond, 1.0)

    def _syncEverySecond(self):
        """
        fsync the journal if the policy, which may change while running,
        is C{everysec}.
        """
        if self.journal is not None and self.journal.fsync == "everysec":
            self.journal.sync()

    def _loop(self, clock, function, interval, *args):
        call = task.LoopingCall(function, *args)
        call.clock = clock
        call.start(interval, now=False)
        return call

    def stopService(self) -> Any:
        """
        Stop listening, then stop the timers and close the journal.
        """
        stopped = PersistentMultiService.stopService(self)
        stopped.addCallback(lambda ignored: self._stopRunning())
        return stopped

    def _stopRunning(self):
        for loop in (self._expiry, self._sync):
            if loop is not None and loop.running:
                loop.stop()
        self._expiry = self._sync = None
        if self.journal is not None:
            self.journal.close()
            self.journal = self.server.journal = None
