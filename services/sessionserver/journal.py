"""
The session server's append-only journal.

Every change to the store is appended as a RESP command (C{SET k v PXAT t},
C{DEL k}, C{PEXPIREAT k t}, C{PERSIST k}, C{FLUSHALL}, and for hashes and
sets C{HSET k f v ...}, C{HDEL k f ...}, C{SADD k m ...}, C{SREM k m ...})
followed by its checksum (see L{journalfile}); expiry times are absolute, so replaying the
file at start-up rebuilds the keyspace as it was, less what has expired
since. Records reach the file before the replies that acknowledge them are
sent (L{Journal.commit}); C{fsync} decides when the operating system is told
to put them on disk: C{always} (before replying), C{everysec} (once a
second) or C{no} (when it likes).

A write that fails (a full disk, an I/O error) is undone: the file is cut
back to its last complete record, the store gets back the values the
failed commands changed, and L{JournalWriteError} tells the caller, which
answers with an error instead of acknowledging.

At start-up, a torn tail (a record cut short by the end of the file, what a
crash mid-write leaves) is cut off with a warning. Anything else that is
not a good record is corruption: loading stops with L{CorruptJournal} and
leaves the file as it is, for C{appserver-check-journal} to report and fix.
When the file grows well past the size of the live data, it is rewritten in
the background, a few keys per reactor turn, while writes go on.
"""

import io
import os
from functools import partial
from collections.abc import Iterable, Sequence
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from services.persistence import PersistentObject
from services.sessionserver.store import Hash, Set, Store
from services.sessionserver.journalfile import (
    HEADER, CorruptJournal, JournalReader, encodeCommand, encodeRecord)

__all__ = ["Journal", "FSYNC_POLICIES", "CorruptJournal", "JournalWriteError",
           "JournalUnavailable", "corruptionMessage", "encodeCommand"]

FSYNC_POLICIES = ("always", "everysec", "no")
COMPACT_BATCH = 1000
FILE_MODE = 0o600
"""The journal's permissions, whatever the umask: it holds session data."""


class JournalUnavailable(RuntimeError):
    """
    The journal cannot be opened or is corrupt, so the server cannot start;
    the message is one sentence for the operator, naming the file.
    """


class JournalWriteError(Exception):
    """
    Records could not be written (or fsynced); they were undone.

    @ivar strerror: the operating system's text for the error, as Redis
        quotes it in C{MISCONF Errors writing to the AOF file: ...}.
    """

    def __init__(self, error: OSError) -> None:
        Exception.__init__(self, error)
        self.strerror = error.strerror or str(error)


def corruptionMessage(path: str, error: CorruptJournal) -> str:
    """
    The one sentence saying that the journal at C{path} is corrupt (a
    L{CorruptJournal}) and how to repair it.
    """
    return (f"The journal {path} is corrupt at byte {error.offset} ({error.reason}), "
            f"so it was left untouched and the server did not start: run "
            f"'appserver-check-journal --fix {path}' to cut it there (a backup copy "
            f"is kept), or put back a good copy.")


def _setRecord(key, value, expireAtMillis):
    if expireAtMillis is None:
        return (b"SET", key, value)
    return (b"SET", key, value, b"PXAT", b"%d" % expireAtMillis)


def _collectionRecords(key, value, expireAtMillis):
    """
    The records giving the hash or set C{value} at C{key}, expiring at
    C{expireAtMillis} or never.
    """
    records = value.records(key)
    if expireAtMillis is not None:
        records.append((b"PEXPIREAT", key, b"%d" % expireAtMillis))
    return records


_ITEMS = {b"HSET": (Hash, True), b"HDEL": (Hash, False), b"SADD": (Set, True),
          b"SREM": (Set, False)}


def _applyItems(store, verb, args):
    kind, adding = _ITEMS[verb]
    if not adding:
        store.removeItems(args[1], kind, args[2:])
    elif kind is Hash:
        store.addItems(args[1], kind, list(zip(args[2::2], args[3::2], strict=True)))
    else:
        store.addItems(args[1], kind, [(member, None) for member in args[2:]])


def applyRecord(store: Store, args: Sequence[bytes]) -> None:
    """
    Apply one journal record, already checked by the reader, to C{store}.
    """
    verb = args[0].upper()
    if verb in _ITEMS:
        _applyItems(store, verb, args)
    elif verb == b"SET":
        store.set(args[1], args[2], int(args[4]) if len(args) == 5 else None)
    elif verb == b"DEL":
        store.delete(args[1])
    elif verb == b"PEXPIREAT":
        store.pexpireAt(args[1], int(args[2]))
    elif verb == b"PERSIST":
        store.persist(args[1])
    else:
        store.flush()


def _restoreKeys(entries, store):
    """
    Put back keys as L{Store.peek} gave them, C{(key, (value,
    expireAtMillis) or None)}.
    """
    for key, entry in entries:
        if entry is None:
            store.delete(key)
        else:
            store.set(key, *entry)


def _putBack(key, collection, remembered, store):
    store.putBack(key, collection, remembered)


def _restoreAll(items, store):
    """
    Put back the whole keyspace as L{Store.items} gave it.
    """
    store.flush()
    for key, value, expireAt in items:
        store.set(key, value, expireAt)


class Journal(PersistentObject):
    """
    An append-only file of the store's changes; the store's observer. It is
    never pickled (its service leaves it out): it is a L{PersistentObject}
    for the reactor, found on first use.

    @ivar path: the file.
    @ivar fsync: one of L{FSYNC_POLICIES}.
    @ivar size: the file's current size in bytes.
    @ivar compactMinSize: no rewrite happens below this size.
    @ivar compactRatio: a rewrite starts when the file is this many times
        the size it had after the last rewrite (or load).
    @ivar checksums: whether records are written with checksums: always,
        except when appending to a file from before checksums existed
        (which is then rewritten with them at once).
    @ivar lastWriteError: the C{OSError} of the last write or fsync if it
        failed, L{None} once one succeeds (INFO's C{aof_last_write_status}).
    """

    log = Logger()

    def __init__(self, path: str, fsync: str = "everysec", clock: Any = None,
                 compactMinSize: int = 64 * 1024 * 1024, compactRatio: float = 2.0) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"unknown fsync policy {fsync!r}")
        self.path = path
        self.fsync = fsync
        self.compactMinSize = compactMinSize
        self.compactRatio = compactRatio
        self._reactor = clock
        self._fd: int | None = None
        self._store: Any = None  # the Store, once loaded
        self._pending: list[tuple[bytes, ...]] = []
        self._undo: list[Any] = []
        self._dirty = False
        self._torn = False
        self._compaction: _Compaction | None = None
        self.checksums = True
        self.lastWriteError: OSError | None = None
        self.size = 0
        self.baseSize = 0

    def load(self, store: Store) -> int:
        """
        Replay the file into C{store}, cutting off a torn tail, then open it
        for appending and become C{store}'s observer.

        @return: the number of records replayed.
        @raise OSError: if the file cannot be read or created.
        @raise CorruptJournal: if the file holds anything but good records
            and a torn tail; the file is left as it is.
        """
        self._store = store
        limit, store.maxmemory = store.maxmemory, 0
        try:
            count, reader = self._replay(store)
        finally:
            store.maxmemory = limit
        self._fd = _openAppend(self.path)
        if reader.torn:
            self._cutTornTail(reader.end)
        self.size = self.baseSize = reader.end
        self.checksums = reader.checksums or not reader.end
        if not reader.end:
            self._writeRecords(HEADER)
        store.observer = self
        if not self.checksums:
            self.compact()
        return count

    def _cutTornTail(self, end):
        """
        Cut off the record a crash left unfinished after byte C{end}.
        """
        self.log.warn("Journal {path}: cut off a torn record at byte {good} "
                      "(the {bad} bytes a crash left unfinished)", path=self.path,
                      good=end, bad=os.fstat(self._fd).st_size - end)
        os.ftruncate(self._fd, end)

    def _replay(self, store):
        """
        Apply every good record; return C{(records, the reader)}.
        """
        try:
            f = open(self.path, "rb")
        except FileNotFoundError:
            f = io.BytesIO()
        count = 0
        with f:
            reader = JournalReader(f)
            for args, _end in reader:
                applyRecord(store, args)
                count += 1
        return count, reader

    def recordSet(self, key: bytes, value: bytes, expireAtMillis: int | None) -> None:
        """
        C{key} was set to C{value} (of any type), expiring at
        C{expireAtMillis} or never.
        """
        if value.__class__ is bytes:
            self._pending.append(_setRecord(key, value, expireAtMillis))
        else:
            self._pending.append((b"DEL", key))
            self._pending.extend(_collectionRecords(key, value, expireAtMillis))

    def recordCommand(self, *args: bytes) -> None:
        """
        A collection changed as the command C{args} (C{HSET}, C{HDEL},
        C{SADD} or C{SREM}, its key and items) says.
        """
        self._pending.append(args)

    def recordDelete(self, key: bytes) -> None:
        """
        C{key} was deleted (or evicted).
        """
        self._pending.append((b"DEL", key))

    def recordExpire(self, key: bytes, expireAtMillis: int | None) -> None:
        """
        C{key} now expires at C{expireAtMillis}, or never if L{None}.
        """
        if expireAtMillis is None:
            self._pending.append((b"PERSIST", key))
        else:
            self._pending.append((b"PEXPIREAT", key, b"%d" % expireAtMillis))

    def recordFlush(self) -> None:
        """
        Every key was removed.
        """
        self._pending.append((b"FLUSHALL",))

    @property
    def pendingCount(self) -> int:
        """
        How many records wait for L{commit}.
        """
        return len(self._pending)

    def beforeChange(self, keys: Iterable[bytes] | None = None) -> None:
        """
        Remember the state of C{keys} (of every key if L{None}) before a
        command changes them, so that a failed L{commit} can put it back.
        """
        store = self._store
        if keys is None:
            self._undo.append(partial(_restoreAll, list(store.items())))
        else:
            self._undo.append(partial(_restoreKeys, [(key, store.peek(key)) for key in keys]))

    def beforeItems(self, key: bytes, collection: Hash | Set, items: list[bytes]) -> None:
        """
        The fields or members C{items} of the hash or set C{collection} at
        C{key} are about to change: remember them, so that a failed
        L{commit} can put them back. (A hash or set a command changes is
        remembered by reference by L{beforeChange}, never copied: undoing
        these changes first brings it back.)
        """
        self._undo.append(partial(_putBack, key, collection, collection.remember(items)))

    def commit(self) -> None:
        """
        Write the pending records to the file (and fsync under C{always});
        start a rewrite if the file has grown well past its base size.

        @raise JournalWriteError: if they could not be written; the file is
            cut back to its last complete record and the changes are undone.
        """
        pending, self._pending = self._pending, []
        undo, self._undo = self._undo, []
        if not pending:
            return
        encode = encodeRecord if self.checksums else encodeCommand
        try:
            self._writeRecords(b"".join([encode(*args) for args in pending]))
        except OSError as e:
            self._failed(e, undo)
            raise JournalWriteError(e) from None
        if self._compaction is not None:
            self._compaction.buffer.extend(pending)
        elif self.size > max(self.compactMinSize, self.baseSize * self.compactRatio):
            self.compact()

    def _writeRecords(self, data):
        """
        Append C{data} (cutting off what a failed write left first) and
        fsync under C{always}.
        """
        if self._torn:
            os.ftruncate(self._fd, self.size)
            self._torn = False
        _writeAll(self._fd, data)
        if self.fsync == "always":
            os.fsync(self._fd)
        else:
            self._dirty = True
        self.size += len(data)
        self.lastWriteError = None

    def _failed(self, error, undo):
        """
        A write failed: cut the file back, undo the changes, report it.
        """
        self.lastWriteError = error
        self.log.error("Journal {path}: writing failed ({error}); the changes "
                       "were undone and not acknowledged", path=self.path,
                       error=error.strerror or error)
        self._torn = True
        try:
            os.ftruncate(self._fd, self.size)
            self._torn = False
        except OSError as e:
            self.log.error("Journal {path}: cannot cut off a failed write ({error}); "
                           "trying again before the next one", path=self.path,
                           error=e.strerror or e)
        self._rollBack(undo)

    def _rollBack(self, undo):
        """
        Put back the states remembered by L{beforeChange} and
        L{beforeItems}, latest first, without recording them. Keys evicted
        to make room stay evicted.
        """
        store = self._store
        observer, store.observer = store.observer, None
        limit, store.maxmemory = store.maxmemory, 0
        try:
            for restore in reversed(undo):
                restore(store)
        finally:
            store.observer, store.maxmemory = observer, limit

    def sync(self) -> None:
        """
        fsync the file if anything was written since the last fsync (run once
        a second under C{everysec}); a failure is logged and reported by
        INFO, as it may have lost writes already acknowledged.
        """
        if self._dirty and self._fd is not None:
            self._dirty = False
            try:
                os.fsync(self._fd)
            except OSError as e:
                self.lastWriteError = e
                self.log.error("Journal {path}: fsync failed ({error})",
                               path=self.path, error=e.strerror or e)

    def close(self) -> None:
        """
        Write what is pending, fsync and close; abandon a running rewrite.
        """
        if self._fd is None:
            return
        try:
            self.commit()
        finally:
            self._closeFile()

    def _closeFile(self):
        if self._compaction is not None:
            self._compaction.abandon()
            self._compaction = None
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        if self._store is not None and self._store.observer is self:
            self._store.observer = None

    def compact(self) -> defer.Deferred[Any]:
        """
        Rewrite the file as the smallest set of records giving the current
        keyspace, in the background; the Deferred fires with the new size
        when it is done, or with L{None} if writing failed (logged; the
        current file stays).
        """
        if self._compaction is not None:
            return self._compaction.done
        self._compaction = _Compaction(self, self._store)
        self._compaction.schedule()
        return self._compaction.done

    def _compacted(self, compaction):
        """
        Swap the rewritten file in for the current one.
        """
        self.commit()
        _writeAll(compaction.fd, compaction.bufferedRecords())
        os.fsync(compaction.fd)
        os.rename(compaction.path, self.path)
        _syncDirectory(self.path)
        os.close(self._fd)
        self._fd = compaction.fd
        self.size = self.baseSize = os.fstat(self._fd).st_size
        self.checksums = True
        self._dirty = False
        self._compaction = None

    def _compactionFailed(self, error):
        """
        A rewrite could not be written: keep the current file.
        """
        self._compaction.abandon()
        self._compaction = None
        self.log.error("Journal {path}: rewriting failed ({error}); the current "
                       "file is kept", path=self.path, error=error.strerror or error)

    def info(self) -> dict[str, Any]:
        """
        The persistence fields of INFO.
        """
        return {"loading": 0, "aof_enabled": 1,
                "aof_rewrite_in_progress": int(self._compaction is not None),
                "aof_current_size": self.size, "aof_base_size": self.baseSize,
                "aof_fsync": self.fsync,
                "aof_last_write_status": "ok" if self.lastWriteError is None else "err",
                "rdb_changes_since_last_save": 0}


class _Compaction:
    """
    One background rewrite: the live keys are written a batch per reactor
    turn to a temporary file, while records committed meanwhile are also
    kept in C{buffer} and appended at the end, so the result is the latest
    state.
    """

    def __init__(self, journal, store):
        self.journal = journal
        self.store = store
        self.path = journal.path + ".rewrite"
        self.fd = _openAppend(self.path, os.O_TRUNC)
        self.keys = list(store.keys())
        self.position = 0
        self.buffer = []
        self.done = defer.Deferred()
        self._call = None

    def schedule(self):
        self._call = self.journal._getReactor().callLater(0, self.step)

    def step(self):
        """
        Write the next batch of keys, then schedule the next step or finish;
        give up, keeping the current file, if writing fails.
        """
        self._call = None
        try:
            self._writeBatch()
            if self.position < len(self.keys):
                self.schedule()
                return
            self.journal._compacted(self)
        except (OSError, JournalWriteError) as e:
            self.journal._compactionFailed(e)
            self.done.callback(None)
            return
        self.done.callback(self.journal.size)

    def _writeBatch(self):
        batch = self.keys[self.position:self.position + COMPACT_BATCH]
        records = [HEADER] if not self.position else []
        self.position += len(batch)
        for key in batch:
            entry = self.store.peek(key)
            if entry is None:
                continue
            value, expireAt = entry
            if value.__class__ is bytes:
                records.append(encodeRecord(*_setRecord(key, value, expireAt)))
            else:
                records.extend(encodeRecord(*args)
                               for args in _collectionRecords(key, value, expireAt))
        _writeAll(self.fd, b"".join(records))

    def bufferedRecords(self):
        """
        The records committed since the rewrite began, with checksums.
        """
        return b"".join([encodeRecord(*args) for args in self.buffer])

    def abandon(self):
        """
        Stop and remove the temporary file.
        """
        if self._call is not None:
            self._call.cancel()
        os.close(self.fd)
        os.unlink(self.path)


def _openAppend(path, flags=0):
    """
    Open C{path} for appending, created if needed, mode L{FILE_MODE}
    whatever the umask (and whatever mode an older version gave it).
    """
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


def _writeAll(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _syncDirectory(path):
    directory = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
