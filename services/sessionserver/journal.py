"""
The session server's append-only journal.

Every change to the store is appended as a RESP command (C{SET k v PXAT t},
C{DEL k}, C{PEXPIREAT k t}, C{PERSIST k}, C{FLUSHALL}); expiry times are
absolute, so replaying the file at start-up rebuilds the keyspace as it was,
less what has expired since. Records reach the file before the replies that
acknowledge them are sent (L{Journal.commit}); C{fsync} decides when the
operating system is told to put them on disk: C{always} (before replying),
C{everysec} (once a second) or C{no} (when it likes).

A torn or corrupt tail (a crash mid-write, a damaged disk block) is cut off at
the end of the last good record, with a warning. When the file grows well
past the size of the live data, it is rewritten in the background, a few
keys per reactor turn, while writes go on.
"""

import os

from twisted.internet import defer
from twisted.logger import Logger

from services.sessionserver.resp import Parser, ProtocolError

__all__ = ["Journal", "FSYNC_POLICIES", "encodeCommand"]

FSYNC_POLICIES = ("always", "everysec", "no")
READ_CHUNK = 1024 * 1024
COMPACT_BATCH = 1000


def encodeCommand(*args):
    """
    A command as a RESP multibulk request.
    """
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def _setRecord(key, value, expireAtMillis):
    if expireAtMillis is None:
        return encodeCommand(b"SET", key, value)
    return encodeCommand(b"SET", key, value, b"PXAT", b"%d" % expireAtMillis)


class CorruptRecord(Exception):
    """
    A record parsed as RESP but is not one the journal writes.
    """


def applyRecord(store, args):
    """
    Apply one journal record to C{store}.

    @raise CorruptRecord: if C{args} is not a record the journal writes.
    """
    verb, count = args[0].upper(), len(args)
    try:
        if verb == b"SET" and count == 3:
            store.set(args[1], args[2])
        elif verb == b"SET" and count == 5 and args[3] == b"PXAT":
            store.set(args[1], args[2], int(args[4]))
        elif verb == b"DEL" and count == 2:
            store.delete(args[1])
        elif verb == b"PEXPIREAT" and count == 3:
            store.pexpireAt(args[1], int(args[2]))
        elif verb == b"PERSIST" and count == 2:
            store.persist(args[1])
        elif verb == b"FLUSHALL" and count == 1:
            store.flush()
        else:
            raise CorruptRecord(args[0])
    except ValueError:
        raise CorruptRecord(args[0]) from None


class Journal:
    """
    An append-only file of the store's changes; the store's observer.

    @ivar path: the file.
    @ivar fsync: one of L{FSYNC_POLICIES}.
    @ivar size: the file's current size in bytes.
    @ivar compactMinSize: no rewrite happens below this size.
    @ivar compactRatio: a rewrite starts when the file is this many times
        the size it had after the last rewrite (or load).
    """

    log = Logger()

    def __init__(self, path, fsync="everysec", clock=None,
                 compactMinSize=64 * 1024 * 1024, compactRatio=2.0):
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"unknown fsync policy {fsync!r}")
        self.path = path
        self.fsync = fsync
        self.compactMinSize = compactMinSize
        self.compactRatio = compactRatio
        self._clock = clock
        self._fd = None
        self._store = None
        self._pending = []
        self._dirty = False
        self._compaction = None
        self.size = 0
        self.baseSize = 0

    def _getClock(self):
        if self._clock is None:
            from twisted.internet import reactor

            self._clock = reactor
        return self._clock

    def load(self, store):
        """
        Replay the file into C{store}, cutting off a bad tail, then open it
        for appending and become C{store}'s observer.

        @return: the number of records replayed.
        @raise OSError: if the file cannot be read or created.
        """
        self._store = store
        limit, store.maxmemory = store.maxmemory, 0
        try:
            count, good, total = self._replay(store)
        finally:
            store.maxmemory = limit
        if good < total:
            self.log.warn(
                "Journal {path}: cut off {bad} bytes of torn or corrupt records "
                "after byte {good}", path=self.path, bad=total - good, good=good)
            os.truncate(self.path, good)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.size = self.baseSize = good
        store.observer = self
        return count

    def _replay(self, store):
        """
        Apply every good record; return C{(records, end of the last good
        record, file size)}.
        """
        parser = Parser()
        count = good = total = 0
        if not os.path.exists(self.path):
            return 0, 0, 0
        with open(self.path, "rb") as f:
            while chunk := f.read(READ_CHUNK):
                total += len(chunk)
                parser.feed(chunk)
                try:
                    while (args := parser.next()) is not None:
                        applyRecord(store, args)
                        count += 1
                        good = parser.consumed
                except (ProtocolError, CorruptRecord):
                    return count, good, os.fstat(f.fileno()).st_size
        return count, good, total

    def recordSet(self, key, value, expireAtMillis):
        """
        C{key} was set to C{value}, expiring at C{expireAtMillis} or never.
        """
        self._append(_setRecord(key, value, expireAtMillis))

    def recordDelete(self, key):
        """
        C{key} was deleted (or evicted).
        """
        self._append(encodeCommand(b"DEL", key))

    def recordExpire(self, key, expireAtMillis):
        """
        C{key} now expires at C{expireAtMillis}, or never if L{None}.
        """
        if expireAtMillis is None:
            self._append(encodeCommand(b"PERSIST", key))
        else:
            self._append(encodeCommand(b"PEXPIREAT", key, b"%d" % expireAtMillis))

    def recordFlush(self):
        """
        Every key was removed.
        """
        self._append(encodeCommand(b"FLUSHALL"))

    def _append(self, record):
        self._pending.append(record)
        if self._compaction is not None:
            self._compaction.buffer.append(record)

    def commit(self):
        """
        Write the pending records to the file (and fsync under C{always});
        start a rewrite if the file has grown well past its base size.
        """
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending = []
        _writeAll(self._fd, data)
        self.size += len(data)
        if self.fsync == "always":
            os.fsync(self._fd)
        else:
            self._dirty = True
        if self._compaction is None and self.size > max(
                self.compactMinSize, self.baseSize * self.compactRatio):
            self.compact()

    def sync(self):
        """
        fsync the file if anything was written since the last fsync (run once
        a second under C{everysec}).
        """
        if self._dirty and self._fd is not None:
            self._dirty = False
            os.fsync(self._fd)

    def close(self):
        """
        Write what is pending, fsync and close; abandon a running rewrite.
        """
        if self._fd is None:
            return
        self.commit()
        if self._compaction is not None:
            self._compaction.abandon()
            self._compaction = None
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        if self._store is not None and self._store.observer is self:
            self._store.observer = None

    def compact(self):
        """
        Rewrite the file as the smallest set of records giving the current
        keyspace, in the background; the Deferred fires when it is done.
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
        _writeAll(compaction.fd, b"".join(compaction.buffer))
        os.fsync(compaction.fd)
        os.rename(compaction.path, self.path)
        _syncDirectory(self.path)
        os.close(self._fd)
        self._fd = compaction.fd
        self.size = self.baseSize = os.fstat(self._fd).st_size
        self._dirty = False
        self._compaction = None

    def info(self):
        """
        The persistence fields of INFO.
        """
        return {"loading": 0, "aof_enabled": 1,
                "aof_rewrite_in_progress": int(self._compaction is not None),
                "aof_current_size": self.size, "aof_base_size": self.baseSize,
                "aof_fsync": self.fsync, "aof_last_write_status": "ok",
                "rdb_changes_since_last_save": 0}


class _Compaction:
    """
    One background rewrite: the live keys are written a batch per reactor
    turn to a temporary file, while records made meanwhile are also kept in
    C{buffer} and appended at the end, so the result is the latest state.
    """

    def __init__(self, journal, store):
        self.journal = journal
        self.store = store
        self.path = journal.path + ".rewrite"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC,
                          0o600)
        self.keys = list(store.keys())
        self.position = 0
        self.buffer = []
        self.done = defer.Deferred()
        self._call = None

    def schedule(self):
        self._call = self.journal._getClock().callLater(0, self.step)

    def step(self):
        """
        Write the next batch of keys, then schedule the next step or finish.
        """
        self._call = None
        batch = self.keys[self.position:self.position + COMPACT_BATCH]
        self.position += len(batch)
        records = []
        for key in batch:
            entry = self.store.peek(key)
            if entry is not None:
                records.append(_setRecord(key, *entry))
        _writeAll(self.fd, b"".join(records))
        if self.position < len(self.keys):
            self.schedule()
            return
        self.journal._compacted(self)
        self.done.callback(self.journal.size)

    def abandon(self):
        if self._call is not None:
            self._call.cancel()
        os.close(self.fd)
        os.unlink(self.path)


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
