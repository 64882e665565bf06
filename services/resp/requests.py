"""
Reading requests, without I/O: L{RequestParser} is fed the bytes a client
sends and hands back commands, each a list of C{bytes} arguments. It takes
both RESP multibulk requests (arrays of bulk strings) and inline commands
(C{PING\\r\\n}, C{set a "b c"\\n}), with Redis's limits and its exact
protocol error texts.

Two readers share the receive buffer: L{_PipelinedReader}, the fast path
for a read holding whole multibulk requests with short arguments (what a
pipelining client sends), and the general readers of L{RequestParser},
which take everything else and decide every error.
"""

from services.resp.encoding import ARRAY, BULK_STRING, CRLF, parseDecimal
from services.resp.errors import SHOWN_BYTES, ProtocolError

__all__ = [
    "RequestParser", "splitArgs", "INLINE_MAX", "MULTIBULK_MAX", "BULK_MAX",
    "UNAUTHENTICATED_MULTIBULK_MAX", "UNAUTHENTICATED_BULK_MAX",
]

INLINE_MAX = 64 * 1024
"""The longest inline request, or count line, before its end arrives."""

MULTIBULK_MAX = 1024 * 1024
"""The most arguments a request may have."""

BULK_MAX = 512 * 1024 * 1024
"""The longest argument (C{proto-max-bulk-len}'s default)."""

UNAUTHENTICATED_MULTIBULK_MAX = 10
UNAUTHENTICATED_BULK_MAX = 16384
"""Redis's tighter limits for a client that has not authenticated yet."""

_ARRAY, _BULK = ARRAY[0], BULK_STRING[0]
_CR, _LF = b"\r", b"\n"
_CRLF_SIZE = len(CRLF)

_SMALL_LENGTHS = {b"%d" % n: n for n in range(1024)}
"""Bulk lengths that need no checking (below every limit), by their text."""

_SMALL_BULKS = {BULK_STRING + text: n for text, n in _SMALL_LENGTHS.items()}
"""The same, by their whole line (C{$3})."""

_SMALL_COUNTS = {ARRAY + b"%d" % n: n for n in range(1, 1024)}
"""Argument counts that need no checking but the unauthenticated limit."""


class _PipelinedReader:
    """
    The fast path: multibulk requests read from one CRLF split of the
    receive buffer.

    Splitting a read into tokens once (in C) and checking each bulk's
    length against its token with C{map} costs far less per argument than
    reading the length lines one by one, and yields exactly what the
    general readers would: a token matching its length is followed by the
    CRLF that they skip. A request it cannot vouch for (a count or length
    that is not a small valid number, a bulk holding a CRLF, so that its
    token is shorter than its length, or an incomplete one) is left to the
    general readers, and the reader then stays off until the next read.

    @ivar position: after L{read} returned a command, where it ends.
    """

    _tokens: list[bytes] | None

    def __init__(self, maxBulk: int) -> None:
        # Its lengths are checked against the small ones only.
        self._usable = maxBulk >= len(_SMALL_BULKS)
        self.reset(retry=True)

    def reset(self, retry: bool) -> None:
        """
        Forget the tokens; with C{retry} false, do not split again before
        more bytes arrive (the last split did not fit).
        """
        self._tokens = None
        self._index = 0
        self.position = -1
        self._retry = retry and self._usable

    def read(self, buffer: bytes | bytearray, position: int,
             authenticated: bool) -> list[bytes] | None:
        """
        The multibulk request at C{position} of C{buffer}, or L{None} when
        the general readers must read it.
        """
        tokens = self._tokens
        if tokens is None:
            if not self._retry or type(buffer) is not bytes:
                return None
            tokens = self._tokens = buffer[position:].split(CRLF)
            self._index, self.position = 0, position
        elif self.position != position:
            self.reset(retry=False)
            return None
        i = self._index
        count = _SMALL_COUNTS.get(tokens[i])
        end = i + 1 + 2 * (count or 0)
        if count is None or end >= len(tokens) or (
                count > UNAUTHENTICATED_MULTIBULK_MAX and not authenticated):
            self.reset(retry=False)
            return None
        values = tokens[i + 2:end:2]
        if list(map(_SMALL_BULKS.get, tokens[i + 1:end:2])) != list(map(len, values)):
            self.reset(retry=False)
            return None
        self.position += sum(map(len, tokens[i:end])) + _CRLF_SIZE * (end - i)
        self._index = end
        return values


class RequestParser:
    """
    An incremental request parser: L{feed} it bytes, then call L{next} until
    it returns L{None}.

    @ivar authenticated: when false, requests are held to Redis's tight
        limits for clients that have not authenticated yet (at most
        L{UNAUTHENTICATED_MULTIBULK_MAX} arguments of at most
        L{UNAUTHENTICATED_BULK_MAX} bytes each).
    @ivar consumed: how many bytes, in total, complete commands took; a
        journal uses it to find the end of its last good record.
    """

    def __init__(self, authenticated: bool = True, maxBulk: int = BULK_MAX) -> None:
        self.authenticated = authenticated
        self.consumed = 0
        self._maxBulk = maxBulk
        self._buffer: bytes | bytearray = bytearray()
        self._pos = 0
        self._args: list[bytes] | None = None
        self._remaining = 0
        self._start = 0
        self._pipelined = _PipelinedReader(maxBulk)

    def feed(self, data: bytes) -> None:
        """
        Add bytes received from the client.
        """
        # Parsing a bytes object slices arguments out without copying them
        # twice; a bytearray takes over only while a command spans reads,
        # so that a large value arriving in many chunks is not copied each
        # time one is added.
        if not self._buffer:
            self._buffer = bytes(data)
        elif type(self._buffer) is bytes:
            self._buffer = bytearray(self._buffer)
            self._buffer += data
        else:
            self._buffer += data
        self._pipelined.reset(retry=True)

    def pending(self) -> int:
        """
        How many received bytes are not yet part of a returned command.
        """
        return len(self._buffer) - self._start

    def next(self) -> list[bytes] | None:
        """
        The next complete command as a list of C{bytes}, or L{None} if more
        bytes are needed.

        @raise ProtocolError: if the bytes cannot be a valid request.
        """
        while True:
            if self._args is None:
                buffer, pos = self._buffer, self._pos
                if pos >= len(buffer):
                    return self._compact()
                if buffer[pos] == _ARRAY:
                    reader = self._pipelined
                    command = reader.read(buffer, pos, self.authenticated)
                    if command is not None:
                        # _complete, inlined: this is the way of most requests.
                        self._pos = end = reader.position
                        self.consumed += end - self._start
                        self._start = end
                        return command
                    if not self._multibulkHeader():
                        return self._compact()
                    if self._args is None:
                        continue
                else:
                    command = self._inline()
                    if command is None:
                        return self._compact()
                    if command:
                        return self._complete(command)
                    continue
            if not self._bulks():
                return self._compact()
            command, self._args = self._args, None
            return self._complete(command)

    def _complete(self, command):
        self.consumed += self._pos - self._start
        self._start = self._pos
        return command

    def _compact(self):
        """
        Drop the bytes of returned commands; return L{None} (no command yet).
        """
        if self._start:
            self._pipelined.reset(retry=False)
            if isinstance(self._buffer, bytearray):
                del self._buffer[:self._start]
            else:
                self._buffer = self._buffer[self._start:]
            self._pos -= self._start
            self._start = 0

    def _error(self, message, start, end):
        """
        A L{ProtocolError} with Redis's C{message}, for the buffer's bytes
        from C{start} to C{end}.
        """
        offset = self.consumed + start - self._start
        data = self._buffer[start:min(end, start + SHOWN_BYTES)]
        return ProtocolError(f"Protocol error: {message}", data, offset)

    def _line(self, tooBig):
        """
        The text between C{self._pos + 1} (after the type marker) and the
        next CR, advancing past the CRLF; L{None} when the line is
        incomplete.
        """
        buffer, start = self._buffer, self._pos
        end = buffer.find(_CR, start)
        if end < 0 or end + 1 >= len(buffer):
            if len(buffer) - start > INLINE_MAX:
                raise self._error(f"too big {tooBig} count string", start, len(buffer))
            return None
        self._pos = end + _CRLF_SIZE
        return bytes(buffer[start + 1:end])

    def _multibulkHeader(self):
        start = self._pos
        text = self._line("mbulk")
        if text is None:
            return False
        count = parseDecimal(text)
        if count is None or count > MULTIBULK_MAX:
            raise self._error("invalid multibulk length", start, self._pos)
        if count > UNAUTHENTICATED_MULTIBULK_MAX and not self.authenticated:
            raise self._error("unauthenticated multibulk length", start, self._pos)
        if count <= 0:
            self._complete(None)
            return True
        self._args = []
        self._remaining = count
        return True

    def _bulks(self):
        """
        Read the bulk strings of the current multibulk request; return
        whether all have arrived. This is the hot loop of every request
        L{_PipelinedReader} does not take, so the length line is read here
        rather than through L{_line}, and lengths that are certainly valid
        come from L{_SMALL_LENGTHS}. Like Redis, the two bytes after a bulk
        are skipped unchecked.
        """
        buffer, args, pos, remaining = self._buffer, self._args, self._pos, self._remaining
        assert args is not None, "called with a multibulk request under way"
        size, maxBulk, find, append = len(buffer), self._maxBulk, buffer.find, args.append
        crlf = _CRLF_SIZE
        while remaining:
            if pos >= size:
                break
            if buffer[pos] != _BULK:
                got = chr(buffer[pos])
                raise self._error(f"expected '$', got '{got}'", pos, pos + 1)
            lineEnd = find(_CR, pos)
            if lineEnd < 0 or lineEnd + 1 >= size:
                if size - pos > INLINE_MAX:
                    raise self._error("too big bulk count string", pos, size)
                break
            text = bytes(buffer[pos + 1:lineEnd])
            length = _SMALL_LENGTHS.get(text)
            if length is None or length > maxBulk:
                length = self._bulkLength(text, pos, lineEnd)
            end = lineEnd + crlf + length
            if end + crlf > size:
                break
            append(bytes(buffer[lineEnd + crlf:end]))
            pos = end + crlf
            remaining -= 1
        self._pos, self._remaining = pos, remaining
        return not remaining

    def _bulkLength(self, text, start, end):
        length = parseDecimal(text)
        if length is None or length < 0 or length > self._maxBulk:
            raise self._error("invalid bulk length", start, end)
        if length > UNAUTHENTICATED_BULK_MAX and not self.authenticated:
            raise self._error("unauthenticated bulk length", start, end)
        return length

    def _inline(self):
        buffer, start = self._buffer, self._pos
        end = buffer.find(_LF, start)
        if end < 0:
            if len(buffer) - start > INLINE_MAX:
                raise self._error("too big inline request", start, len(buffer))
            return None
        line = bytes(buffer[start:end])
        self._pos = end + len(_LF)
        if line.endswith(_CR):
            line = line[:-len(_CR)]
        args = splitArgs(line)
        if args is None:
            raise self._error("unbalanced quotes in request", start, end)
        if not args:
            self._complete(None)
        return args


_SPACES = b" \n\r\t\v\f\x00"
_DOUBLE_QUOTE, _SINGLE_QUOTE, _BACKSLASH, _HEX_ESCAPE = b'"'[0], b"'"[0], b"\\"[0], b"x"[0]
_QUOTES = b"\"'"
_ESCAPES = {b"n"[0]: b"\n", b"r"[0]: b"\r", b"t"[0]: b"\t", b"b"[0]: b"\b", b"a"[0]: b"\a"}
_HEX = b"0123456789abcdefABCDEF"


def splitArgs(line: bytes) -> list[bytes] | None:
    """
    Split an inline command like Redis's C{sdssplitargs}: arguments are
    separated by spaces, may be double-quoted (with C{\\n}, C{\\xHH} escapes)
    or single-quoted (with C{\\'}); a closing quote must be followed by a space
    or the end of the line.

    @return: the list of arguments, or L{None} for unbalanced quotes.
    """
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACES:
            i += 1
        if i >= n:
            return args
        if line[i] not in _QUOTES:
            end = i
            while end < n and line[end] not in _SPACES:
                end += 1
            args.append(line[i:end])
            i = end
            continue
        word, i = _quoted(line, i + 1, line[i])
        if word is None:
            return None
        args.append(word)


def _quoted(line, i, quote):
    """
    Read a quoted word starting after its opening quote; return C{(word,
    position after the word)} or C{(None, i)} if it is not closed properly.
    """
    out = bytearray()
    n = len(line)
    while i < n:
        c = line[i]
        if c == quote:
            if i + 1 < n and line[i + 1] not in _SPACES:
                return None, i
            return bytes(out), i + 1
        if c == _BACKSLASH and i + 1 < n:
            escaped = line[i + 1]
            if quote == _DOUBLE_QUOTE and escaped == _HEX_ESCAPE and i + 3 < n and \
                    line[i + 2] in _HEX and line[i + 3] in _HEX:
                out.append(int(line[i + 2:i + 4], 16))
                i += 4
                continue
            if quote == _DOUBLE_QUOTE:
                out += _ESCAPES.get(escaped, bytes([escaped]))
                i += 2
                continue
            if escaped == _SINGLE_QUOTE:
                out.append(_SINGLE_QUOTE)
                i += 2
                continue
        out.append(c)
        i += 1
    return None, i
