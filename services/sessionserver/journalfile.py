"""
The journal's file format, without the store: writing records and reading
them back strictly.

A journal file starts with the line L{HEADER}, then holds one record per
change: a RESP multibulk command (C{*3\\r\\n$3\\r\\nSET\\r\\n...}) followed by
its checksum line, C{#} and the record's CRC-32 in eight hexadecimal digits
(C{#1a2b3c4d\\r\\n}). Redis 7 skips lines starting with C{#} (its AOF
annotations), so it can still load the file. A file without the header was
written before checksums existed: its records are read without them.

L{JournalReader} reads a file the way the journal's load and the
C{appserver-check-journal} tool need: every good record with its end offset,
then either the end of the file, a torn tail (a record cut short by the end
of the file, which is what a crash mid-write leaves) or the offset of the
first bad byte and why it is bad.
"""

import re
import zlib
from collections.abc import Sequence
from typing import BinaryIO

from services import resp
from services.resp import parseDecimal

__all__ = ["HEADER", "encodeCommand", "encodeRecord", "JournalReader", "CorruptJournal",
           "badRecord", "MAX_ARGUMENTS"]

HEADER = b"#appserver-journal 2 crc32\r\n"
"""The first line of a journal whose records carry checksums."""

MAX_ARGUMENTS = 1024 * 1024
"""The most arguments a journal record has: a command's (an C{HSET} or
C{SADD} with many items), as the server's request parser bounds them."""

READ_CHUNK = 1024 * 1024
_LENGTH_LINE = 22
"""The longest C{*N} or C{$N} line that can be valid, CRLF included."""
_CHECKSUM_LINE = 11
_CHECKSUM_MATCH = re.compile(rb"#([0-9a-f]{8})\r\n").match
_CHECKSUM_PREFIX = re.compile(rb"(#[0-9a-f]{0,8}\r?)?\Z").match
_COUNT_MATCH = re.compile(rb"\*([1-9]\d{0,6})\r\n").match
_ARGUMENT_MATCH = re.compile(rb"\$(\d{1,18})\r\n").match
_LENGTH_MATCH = re.compile(rb"[*$](\d{1,18})\r\n").match
_LENGTH_PREFIX = re.compile(rb"[*$]\d{0,18}\r?\Z").match


class CorruptJournal(Exception):
    """
    A journal holds bytes that are not a record it writes, or a record
    whose checksum does not match.

    @ivar offset: where the bad record starts, in bytes from the start of
        the file; everything before it is good.
    @ivar reason: what is wrong, as a phrase.
    """

    def __init__(self, offset: int, reason: str) -> None:
        Exception.__init__(self, f"corrupt at byte {offset}: {reason}")
        self.offset = offset
        self.reason = reason


class _Bad(Exception):
    """
    The record being read is bad for the reason given.
    """


def encodeCommand(*args: bytes) -> bytes:
    """
    A command as a RESP multibulk request (the codec's, for the journal's
    records and their tests, which pass the arguments one by one).
    """
    return resp.encodeCommand(args)


def encodeRecord(*args: bytes) -> bytes:
    """
    A command as a journal record: its RESP form and its checksum line.
    """
    command = encodeCommand(*args)
    return b"%s#%08x\r\n" % (command, zlib.crc32(command))


_ARITY = {b"SET": (3, 5), b"DEL": (2,), b"PEXPIREAT": (3,), b"PERSIST": (2,),
          b"FLUSHALL": (1,)}
_VARIADIC = {b"HSET": 4, b"HDEL": 3, b"SADD": 3, b"SREM": 3}
"""Records of any length from this many arguments on."""


def badRecord(args: Sequence[bytes]) -> str | None:
    """
    Why C{args} is not a record the journal writes, or L{None} if it is.
    """
    verb = args[0].upper()
    if verb in _VARIADIC:
        return _badVariadic(verb, len(args))
    counts = _ARITY.get(verb)
    if counts is None:
        return f"unknown command {args[0][:32]!r}"
    if len(args) not in counts:
        return f"{verb.decode()} with {len(args) - 1} arguments"
    timed = verb == b"PEXPIREAT" or len(args) == 5
    if len(args) == 5 and args[3].upper() != b"PXAT":
        return "SET with an option other than PXAT"
    if timed and parseDecimal(args[-1]) is None:
        return f"{verb.decode()} with a time that is not a number"
    return None


def _badVariadic(verb, count):
    if count < _VARIADIC[verb] or (verb == b"HSET" and count % 2):
        return f"{verb.decode()} with {count - 1} arguments"
    return None


class JournalReader:
    """
    Reads the records of one open journal file, in order.

    Iterating yields C{(args, end)} for every good record, C{end} being the
    offset just after it (and its checksum); then L{end} is the offset after
    the last good record and L{torn} is whether bytes after it are a record
    cut short by the end of the file.

    @ivar checksums: whether the file has the L{HEADER}, so that every record
        must be followed by a matching checksum.
    @raise CorruptJournal: while iterating, at the first bad record.
    """

    def __init__(self, file: BinaryIO, chunkSize: int = READ_CHUNK) -> None:
        self._file = file
        self._chunkSize = chunkSize
        self._buffer = b""
        self._base = 0
        self.end = 0
        self.torn = False
        self.checksums = False

    def __iter__(self):
        if not self._readHeader():
            return
        pos = self.end
        while True:
            try:
                record = self._record(pos - self._base)
            except _Bad as e:
                raise CorruptJournal(pos, str(e)) from None
            if record is None:
                if not self._more():
                    self.torn = pos < self._base + len(self._buffer)
                    return
                continue
            args, length = record
            pos += length
            self.end = pos
            yield args, pos

    def _more(self):
        """
        Drop what is read, add the next chunk (at least as much again as an
        unfinished record holds, so a large record is read in few steps);
        return whether there was more to read.
        """
        keep = self._buffer[self.end - self._base:]
        chunk = self._file.read(max(self._chunkSize, len(keep)))
        self._base = self.end
        self._buffer = keep + chunk
        return bool(chunk)

    def _readHeader(self):
        """
        Read the header if there is one; return whether records may follow.
        """
        while len(self._buffer) < len(HEADER) and self._more():
            pass
        if not self._buffer.startswith(b"#"):
            return True
        if self._buffer.startswith(HEADER):
            self.checksums = True
            self.end = len(HEADER)
            return True
        if HEADER.startswith(self._buffer):
            self.torn = True
            return False
        raise CorruptJournal(0, "the first line is not a journal header")

    def _record(self, pos):
        """
        The record at C{pos} in the buffer as C{(args, length)}, or L{None}
        if the buffer ends before it does.

        @raise _Bad: if it is not a good record.
        """
        buffer = self._buffer
        match = _COUNT_MATCH(buffer, pos)
        if match is None:
            line = _lengthLine(buffer, pos, b"*", "a record")
            if line is None:
                return None
            raise _Bad(f"a record's argument count is not 1 to {MAX_ARGUMENTS}")
        count, p = int(match.group(1)), match.end()
        if count > MAX_ARGUMENTS:
            raise _Bad(f"a record's argument count is not 1 to {MAX_ARGUMENTS}")
        args = []
        for _ in range(count):
            match = _ARGUMENT_MATCH(buffer, p)
            if match is None:
                # Not a good "$N" line: _lengthLine raises why, unless the
                # buffer ends before the line does.
                _lengthLine(buffer, p, b"$", "an argument")
                return None
            length, p = int(match.group(1)), match.end()
            if buffer[p + length:p + length + 2] != b"\r\n":
                if p + length + 2 > len(buffer):
                    return None
                raise _Bad("an argument is longer than its length says")
            args.append(buffer[p:p + length])
            p += length + 2
        reason = badRecord(args)
        if reason is not None:
            raise _Bad(reason)
        end = self._checksum(buffer, pos, p)
        return None if end is None else (args, end - pos)

    def _checksum(self, buffer, start, end):
        """
        The end of the checksum line after the command at C{start:end}, or
        L{None} if it is cut short.
        """
        if not self.checksums:
            return end
        match = _CHECKSUM_MATCH(buffer, end)
        if match is None:
            line = buffer[end:end + _CHECKSUM_LINE]
            if len(line) < _CHECKSUM_LINE and _CHECKSUM_PREFIX(line):
                return None
            raise _Bad("a record has no checksum")
        if int(match.group(1), 16) != zlib.crc32(memoryview(buffer)[start:end]):
            raise _Bad("a record's checksum does not match")
        return match.end()


def _lengthLine(buffer, pos, marker, what):
    """
    The number on the line at C{pos} that starts with C{marker} (C{*N} for
    C{what}, a record, or C{$N} for an argument) and the offset after it,
    or L{None} if the buffer ends first.

    @raise _Bad: if the line does not start with C{marker} or is not a
        number.
    """
    match = _LENGTH_MATCH(buffer, pos)
    if match is not None and buffer[pos:pos + 1] == marker:
        return int(match.group(1)), match.end()
    if pos >= len(buffer):
        return None
    if buffer[pos:pos + 1] != marker:
        raise _Bad(f"{what} does not start with '{marker.decode()}'")
    if len(buffer) - pos < _LENGTH_LINE and _LENGTH_PREFIX(buffer, pos):
        return None
    raise _Bad("a length line is not a number")
