"""
The reloader service: watch an application directory and report changes.

L{ReloaderService} watches a directory and its subdirectories (new ones
too) with inotify, collects the paths that changed, and once the files have
been quiet for C{delay} seconds (an editor's save is a burst of events)
calls C{onChange(paths)} with the set of changed paths, relative to the
watched directory with C{/} separators. The caller decides what a path
means (a controller, a template, C{app.yaml}).

Events that count: a file written and closed, created, deleted, moved in or
out, or its attributes changed (C{touch}); editors' temporary and swap
files, byte-code and version-control directories are ignored (see
L{isIgnored}). Where inotify is unavailable the service polls modification
times every C{pollInterval} seconds instead, with the same behaviour.

Only one C{onChange} call runs at a time: changes made while one runs are
reported by the next call, once it has finished and the files are quiet.

A failed call is logged once: C{onChange} raises L{ChangeFailed} for a
failure it has logged itself (one clean line, such as a syntax error's file
and line), which is only recorded; any other exception is logged with its
traceback.
"""

import os
from collections.abc import Callable
from typing import Any

from twisted.application import service
from twisted.internet import defer, task
from twisted.internet.base import DelayedCall
from twisted.logger import Logger
from twisted.python.filepath import FilePath
from zope.interface import implementer

from services.figures import IServiceFigures
from services.persistence import PersistentService

try:
    from twisted.internet import inotify
except ImportError:  # Not Linux: the service polls.
    inotify = None  # type: ignore[assignment]

__all__ = ["ReloaderService", "ChangeFailed", "isIgnored", "WATCH_MASK"]

# The kernel's event bits (linux/inotify.h), as twisted.internet.inotify
# names them; spelled here so this module imports where inotify is absent.
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_ISDIR = 0x40000000

_CHANGES = (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE
            | IN_ATTRIB)
WATCH_MASK = _CHANGES | IN_DELETE_SELF

_IGNORED_DIRECTORIES = frozenset({"__pycache__", ".git", ".hg", ".svn"})
_IGNORED_SUFFIXES = (".swp", ".swo", ".swx", ".swpx", "~", ".pyc", ".pyo",
                     "___jb_tmp___", "___jb_old___", "-journal", "-wal", "-shm")

_log = Logger()


class ChangeFailed(Exception):
    """
    Raised by an C{onChange} that has already logged why it failed: the
    reloader keeps the message (L{ReloaderService.lastError}) without
    logging it a second time.
    """


def isIgnored(relativePath: str) -> bool:
    """
    Whether a change to C{relativePath} (with C{/} separators) is noise:
    vim's swap files and C{4913} probe, C{file~} backups, emacs' C{.#file}
    locks and C{#file#} autosaves, JetBrains' safe-write files, byte-code,
    SQLite's journals, and anything under C{__pycache__}, C{.git}, C{.hg}
    or C{.svn}.
    """
    parts = relativePath.split("/")
    if _IGNORED_DIRECTORIES.intersection(parts):
        return True
    name = parts[-1]
    return (name == "4913" or name.startswith(".#")
            or (len(name) > 1 and name.startswith("#") and name.endswith("#"))
            or name.endswith(_IGNORED_SUFFIXES))


def _notifierErrors():
    if inotify is None:
        return (ImportError, OSError)
    return (ImportError, OSError, inotify.INotifyError)


def _makeINotify(reactor):
    if inotify is None:
        raise ImportError("twisted.internet.inotify is not available on this platform")
    return inotify.INotify(reactor)


def _scan(root):
    """
    Map each file under C{root} (relative path) to its modification time and
    size; ignored directories are not entered.
    """
    snapshot = {}
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [d for d in subdirectories if d not in _IGNORED_DIRECTORIES]
        for name in files:
            path = os.path.join(directory, name)
            try:
                info = os.stat(path)
            except OSError:
                continue  # Deleted while we looked; the next scan sees it gone.
            snapshot[_relative(root, path)] = (info.st_mtime_ns, info.st_size)
    return snapshot


def _relative(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


@implementer(IServiceFigures)
class ReloaderService(PersistentService):
    """
    Watch a directory tree and call C{onChange(paths)} after changes.

    @ivar path: the watched directory.
    @ivar onChange: called with a frozenset of changed relative paths; may
        return a Deferred. It is pickled with the service, so it must be
        picklable (a bound method of a picklable object is).
    @ivar delay: seconds of quiet after the last event before C{onChange}.
    @ivar pollInterval: seconds between scans when polling.
    @ivar mode: C{"inotify"}, C{"polling"}, or L{None} when stopped.
    @ivar lastReload: when the last C{onChange} call ended (clock seconds),
        or L{None}.
    @ivar lastPaths: the paths given to the last call.
    @ivar lastResult: what the last successful call returned.
    @ivar lastError: the last call's error message, or L{None} if it
        succeeded.
    @ivar lastDuration: how long the last call took, in seconds.
    @ivar reloadCount: how many calls ended since the service was made.
    """

    _volatile = ("_notifierFactory", "_notifier", "_poller", "_snapshot",
                 "_pending", "_timer", "_busy", "_root", "mode", "lastReload",
                 "lastPaths", "lastResult", "lastError", "lastDuration", "reloadCount")
    _timer: DelayedCall | None
    mode: str | None
    lastPaths: frozenset[str]
    _poller: task.LoopingCall | None

    def __init__(self, path: str, onChange: Callable[[frozenset[str]], Any], delay: float = 0.1,
                 pollInterval: float = 0.5, clock: Any = None,
                 notifierFactory: Callable[[Any], Any] | None = None) -> None:
        """
        @param clock: the reactor (or, in tests, a L{task.Clock}); the
            reactor when L{None}.
        @param notifierFactory: makes the inotify watcher from C{clock};
            L{twisted.internet.inotify.INotify} when L{None}. If it raises
            C{ImportError} or C{OSError}, the service polls.
        """
        self.path = path
        self.onChange = onChange
        self.delay = delay
        self.pollInterval = pollInterval
        self._reactor = clock
        self._volatileInit()
        self._notifierFactory = notifierFactory

    def _volatileInit(self):
        PersistentService._volatileInit(self)
        self._snapshot = {}
        self._pending = set()
        self._busy = False
        self.lastPaths = frozenset()
        self.reloadCount = 0

    def startService(self) -> None:
        """
        Start watching with inotify, or polling where it is unavailable.
        """
        service.Service.startService(self)
        self._root = os.path.abspath(self.path)
        try:
            self._startNotifier()
        except _notifierErrors() as e:
            _log.info("inotify is unavailable ({error}); polling {path} every "
                      "{interval}s instead", error=e, path=self._root,
                      interval=self.pollInterval)
            self._startPolling()

    def stopService(self) -> None:
        """
        Stop watching; a pending change is dropped.
        """
        service.Service.stopService(self)
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        self._pending = set()
        self._stopNotifier()
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        self.mode = None

    def _startNotifier(self):
        factory = self._notifierFactory or _makeINotify
        notifier = factory(self._getReactor())
        try:
            notifier.startReading()
            notifier.watch(FilePath(self._root), mask=WATCH_MASK,
                           callbacks=[self._onEvent], recursive=True)
        except BaseException:
            notifier.loseConnection()
            raise
        self._notifier = notifier
        self.mode = "inotify"

    def _stopNotifier(self):
        notifier, self._notifier = self._notifier, None
        if notifier is not None:
            notifier.loseConnection()

    def _restartNotifier(self):
        if not self.running or self.mode != "inotify":
            return
        self._stopNotifier()
        try:
            self._startNotifier()
        except _notifierErrors() as e:
            _log.warn("Cannot watch {path} again ({error}); polling instead",
                      path=self._root, error=e)
            self._startPolling()

    def _startPolling(self):
        self.mode = "polling"
        self._snapshot = _scan(self._root)
        self._poller = task.LoopingCall(self._poll)
        self._poller.clock = self._getReactor()
        self._poller.start(self.pollInterval, now=False)

    def _poll(self):
        current = _scan(self._root)
        previous, self._snapshot = self._snapshot, current
        for relative in set(previous) ^ set(current):
            self._changed(relative)
        for relative in set(previous) & set(current):
            if previous[relative] != current[relative]:
                self._changed(relative)

    def _onEvent(self, watch, filepath, mask):
        """
        Handle one inotify event (the signature of inotify callbacks).
        """
        path = os.fsdecode(filepath.path)
        if mask & IN_DELETE_SELF:
            self._watchLost(path)
        elif mask & _CHANGES:
            if mask & IN_ISDIR and mask & (IN_CREATE | IN_MOVED_TO):
                self._watchNewDirectory(path)
            self._changed(_relative(self._root, path))

    def _watchNewDirectory(self, path):
        if isIgnored(_relative(self._root, path)) or self._notifier is None:
            return
        try:
            self._notifier.watch(FilePath(path), mask=WATCH_MASK,
                                 callbacks=[self._onEvent], recursive=True)
        except _notifierErrors():
            return  # Gone already; its parent reports the deletion.
        # Files made before the watch was in place would go unnoticed.
        for relative in _scan(path):
            self._changed(_relative(self._root, os.path.join(path, relative)))

    def _watchLost(self, path):
        if path != self._root:
            # Twisted's INotify closes itself after a watched subdirectory
            # is deleted: watch the tree again with a new one.
            self._getReactor().callLater(0, self._restartNotifier)
            return
        _log.error("Watched directory {path} was removed; polling until it "
                   "comes back", path=path)
        self._stopNotifier()
        self._startPolling()

    def _changed(self, relative):
        if relative.startswith("../") or relative == "." or isIgnored(relative):
            return
        self._pending.add(relative)
        if self._timer is not None and self._timer.active():
            self._timer.reset(self.delay)
        elif not self._busy:
            self._timer = self._getReactor().callLater(self.delay, self._flush)

    def _flush(self):
        self._timer = None
        paths, self._pending = frozenset(self._pending), set()
        self._busy = True
        started = self._getReactor().seconds()
        d = defer.maybeDeferred(self.onChange, paths)
        d.addCallbacks(self._succeeded, self._failed, (paths,), None, (paths,))
        d.addCallback(self._finished, started)

    def _succeeded(self, result, paths):
        self.lastPaths, self.lastResult, self.lastError = paths, result, None

    def _failed(self, failure, paths):
        if not failure.check(ChangeFailed):
            _log.failure("Reloading after changes to {paths}", failure, paths=sorted(paths))
        self.lastPaths, self.lastResult = paths, None
        self.lastError = " ".join(failure.getErrorMessage().split()) or str(failure.type)

    def _finished(self, ignored, started):
        self._busy = False
        self.lastReload = self._getReactor().seconds()
        self.lastDuration = self.lastReload - started
        self.reloadCount += 1
        if self._pending and self.running:
            self._timer = self._getReactor().callLater(self.delay, self._flush)

    def figures(self) -> dict[str, Any]:
        """
        Figures for a status page, JSON-ready.
        """
        return {
            "path": self.path,
            "mode": self.mode,
            "delay": self.delay,
            "lastReload": self.lastReload,
            "lastDuration": self.lastDuration,
            "lastPaths": sorted(self.lastPaths),
            "lastError": self.lastError,
            "reloadCount": self.reloadCount,
        }
