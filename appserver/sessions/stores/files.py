"""
Sessions as files in a directory, one per session.

A file's name is its session id (only well-formed ids are accepted, so no
name can leave the directory) and its modification time is the moment it
expires: refreshing the idle timeout is one C{utime} call, expiry is
checked on every load, and a periodic sweep removes what nobody loads
again. Writes go to a temporary file that is renamed over the old one, so a
reader never sees half a record.

The sessions of a logged-in user are indexed as empty files named by their
ids in C{users/<sha256 of the user>/}: adding and removing one is atomic,
so processes sharing the directory share the index too.

The calls are synchronous: small files on a local disk cost less than
handing them to a thread. Several processes may share the directory.
"""

import os
import shutil
import tempfile
from typing import Any

from twisted.internet import defer, task
from zope.interface import implementer

from appserver.sessions.interfaces import ISessionStore
from appserver.sessions.signing import isSessionId
from appserver.sessions.stores._util import checkId, startSweeping, stopSweeping, userKey
from services.persistence import PersistentObject

__all__ = ["FileSessionStore"]

_TEMPORARY = ".tmp-"
_STALE_TEMPORARY = 3600
_USERS = "users"


@implementer(ISessionStore)
class FileSessionStore(PersistentObject):
    """
    An L{ISessionStore} keeping each session in a file of C{directory}.

    @ivar directory: the directory, made (mode 0700) by L{open}.
    @ivar sweepInterval: seconds between sweeps of expired files.
    """

    _volatile = ("_sweeper",)
    _sweeper: task.LoopingCall | None

    def __init__(self, directory: str, clock: Any = None, sweepInterval: float = 60) -> None:
        self.directory = os.path.abspath(directory)
        self.sweepInterval = sweepInterval
        self._reactor = clock
        self._volatileInit()

    def _now(self):
        return self._getReactor().seconds()

    def _path(self, sessionId):
        return os.path.join(self.directory, checkId(sessionId))

    def open(self) -> defer.Deferred[None]:
        """
        Make the directory if needed and start sweeping expired files.

        @raise OSError: if the directory cannot be made.
        """
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        self._sweeper = startSweeping(self.sweep, self.sweepInterval, self._getReactor(),
                                      self.directory)
        return defer.succeed(None)

    def close(self) -> defer.Deferred[None]:
        """
        Stop sweeping.
        """
        sweeper, self._sweeper = self._sweeper, None
        stopSweeping(sweeper)
        return defer.succeed(None)

    def load(self, sessionId: str, timeout: float) -> defer.Deferred[bytes | None]:
        """
        See L{ISessionStore.load}.
        """
        return defer.execute(self._load, self._path(sessionId), timeout)

    def _load(self, path, timeout):
        now = self._now()
        try:
            if os.stat(path).st_mtime <= now:
                self._remove(path)
                return None
            with open(path, "rb") as f:
                record = f.read()
            os.utime(path, (now + timeout, now + timeout))
        except FileNotFoundError:
            return None
        return record

    def save(self, sessionId: str, record: bytes, timeout: float) -> defer.Deferred[None]:
        """
        See L{ISessionStore.save}.
        """
        return defer.execute(self._save, self._path(sessionId), record, self._now() + timeout)

    def _save(self, path, record, expireAt):
        fd, temporary = tempfile.mkstemp(prefix=_TEMPORARY, dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(record)
            os.utime(temporary, (expireAt, expireAt))
            os.replace(temporary, path)
        except BaseException:
            self._remove(temporary)
            raise

    def delete(self, sessionId: str) -> defer.Deferred[None]:
        """
        See L{ISessionStore.delete}.
        """
        return defer.execute(self._remove, self._path(sessionId))

    def peek(self, sessionId: str) -> defer.Deferred[bytes | None]:
        """
        See L{ISessionStore.peek}.
        """
        return defer.execute(self._peek, self._path(sessionId))

    def _peek(self, path):
        try:
            with open(path, "rb") as f:
                live = os.fstat(f.fileno()).st_mtime > self._now()
                return f.read() if live else None
        except FileNotFoundError:
            return None

    def _userDirectory(self, userId):
        return os.path.join(self.directory, _USERS, userKey(userId))

    def addToUser(self, userId: str, sessionId: str, timeout: float) -> defer.Deferred[None]:
        """
        See L{ISessionStore.addToUser}: an empty file named by the id in
        the user's directory (entries whose session has gone are dropped
        when listed).
        """
        return defer.execute(self._addToUser, self._userDirectory(userId), checkId(sessionId))

    def _addToUser(self, directory, sessionId):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with open(os.path.join(directory, sessionId), "wb"):
            pass

    def removeFromUser(self, userId: str, sessionId: str) -> defer.Deferred[None]:
        """
        See L{ISessionStore.removeFromUser}.
        """
        path = os.path.join(self._userDirectory(userId), checkId(sessionId))
        return defer.execute(self._remove, path)

    def sessionsOfUser(self, userId: str) -> defer.Deferred[list[str]]:
        """
        See L{ISessionStore.sessionsOfUser}.
        """
        return defer.execute(self._sessionsOfUser, self._userDirectory(userId))

    def _sessionsOfUser(self, directory):
        try:
            return [name for name in os.listdir(directory) if isSessionId(name)]
        except FileNotFoundError:
            return []

    def deleteAll(self) -> defer.Deferred[int]:
        """
        See L{ISessionStore.deleteAll}.
        """
        return defer.execute(self._deleteAll)

    def _deleteAll(self):
        names = [name for name in os.listdir(self.directory) if isSessionId(name)]
        for name in names:
            self._remove(os.path.join(self.directory, name))
        shutil.rmtree(os.path.join(self.directory, _USERS), ignore_errors=True)
        return len(names)

    def _remove(self, path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def sweep(self) -> int:
        """
        Delete expired session files, temporary files left by writers that
        died, and users' index entries whose session file is gone (with the
        directories they leave empty).

        @return: how many session and temporary files were deleted.
        """
        now = self._now()
        removed = 0
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if self._isStale(entry, now):
                    self._remove(entry.path)
                    removed += 1
        self._sweepUsers()
        return removed

    def _sweepUsers(self):
        users = os.path.join(self.directory, _USERS)
        for user in os.listdir(users) if os.path.isdir(users) else ():
            directory = os.path.join(users, user)
            for name in os.listdir(directory):
                if not os.path.exists(os.path.join(self.directory, name)):
                    self._remove(os.path.join(directory, name))
            try:
                os.rmdir(directory)
            except OSError:
                pass  # not empty: the user still has sessions

    def _isStale(self, entry, now):
        try:
            stat = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            return False
        if entry.name.startswith(_TEMPORARY):
            return stat.st_ctime < now - _STALE_TEMPORARY
        return isSessionId(entry.name) and stat.st_mtime <= now
