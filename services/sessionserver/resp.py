"""
The Redis serialization protocol, without I/O.

L{Parser} is fed the bytes a client sends and hands back commands, each a
list of C{bytes} arguments, accepting both RESP multibulk requests and inline
commands (C{PING\\r\\n}, C{set a "b c"\\n}), with Redis's limits and its exact
protocol error texts. L{encode} turns a reply value into RESP2 or RESP3 bytes.
"""

from typing import Any

__all__ = [
    "ProtocolError", "Parser", "Status", "ReplyError", "encode", "splitArgs",
    "INLINE_MAX", "MULTIBULK_MAX", "BULK_MAX", "UNAUTHENTICATED_MULTIBULK_MAX",
    "UNAUTHENTICATED_BULK_MAX",
]

INLINE_MAX = 64 * 1024
MULTIBULK_MAX = 1024 * 1024
BULK_MAX = 512 * 1024 * 1024
UNAUTHENTICATED_MULTIBULK_MAX = 10
UNAUTHENTICATED_BULK_MAX = 16384

_STAR, _DOLLAR = 42, 36


class ProtocolError(Exception):
    """
    The client broke the protocol; the text (Redis's own, such as
    C{Protocol error: invalid bulk length}) goes back as an error reply and
    the connection is then closed.
    """


class Parser:
    """
    An incremental request parser: L{feed} it bytes, then call L{next} until
    it returns L{None}.

    @ivar authenticated: when false, requests are held to Redis's tight
        limits for clients that have not authenticated yet (at most 10
        arguments of at most 16384 bytes each).
    @ivar consumed: how many bytes, in total, complete commands took; a
        journal uses it to find the end of its last good record.
    """

    def __init__(self, authenticated: bool = True, maxBulk: int = BULK_MAX) -> None:
        self.authenticated = authenticated
        self.consumed = 0
        self._maxBulk = maxBulk
        self._buffer: bytes | bytearray = bytearray()
        self._pos = 0
        self._args = None
        self._remaining = 0
        self._start = 0
        self._dropTokens()

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
        self._dropTokens()

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
                if self._pos >= len(self._buffer):
                    return self._compact()
                if self._buffer[self._pos] == _STAR:
                    command = self._tokenizedCommand()
                    if command is not None:
                        return self._complete(command)
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

    def _dropTokens(self, retry=True):
        """
        Forget the tokens of the buffer; with C{retry} false, do not make
        them again before more bytes arrive (they did not fit).
        """
        self._tokens = None
        self._tokenIndex = 0
        self._tokenPos = -1
        self._tokenize = retry

    def _tokenizedCommand(self):
        """
        The multibulk request at C{self._pos}, read from the CRLF-separated
        tokens of the buffer, or L{None} when the general parser must read
        it: its header or a bulk length is not a small valid number, a bulk
        holds a CRLF (its token is then shorter than its length), or it is
        incomplete.

        Splitting a read into tokens once (in C) and checking each bulk's
        length against its token with C{map} costs far less per argument
        than reading the length lines one by one, and yields exactly what
        the general parser would: a token matching its length is followed
        by the CRLF that the general parser skips.
        """
        tokens = self._tokens
        if tokens is None:
            if not self._tokenize or type(self._buffer) is not bytes \
                    or self._maxBulk < len(_SMALL_BULKS):
                return None
            tokens = self._tokens = self._buffer[self._pos:].split(b"\r\n")
            self._tokenIndex, self._tokenPos = 0, self._pos
        elif self._tokenPos != self._pos:
            self._dropTokens(retry=False)
            return None
        i = self._tokenIndex
        count = _SMALL_COUNTS.get(tokens[i])
        end = i + 1 + 2 * (count or 0)
        if count is None or end >= len(tokens) or (
                count > UNAUTHENTICATED_MULTIBULK_MAX and not self.authenticated):
            self._dropTokens(retry=False)
            return None
        values = tokens[i + 2:end:2]
        if list(map(_SMALL_BULKS.get, tokens[i + 1:end:2])) != list(map(len, values)):
            self._dropTokens(retry=False)
            return None
        self._pos += sum(map(len, tokens[i:end])) + 2 * (end - i)
        self._tokenIndex, self._tokenPos = end, self._pos
        return values

    def _complete(self, command):
        self.consumed += self._pos - self._start
        self._start = self._pos
        return command

    def _compact(self):
        """
        Drop the bytes of returned commands; return L{None} (no command yet).
        """
        if self._start:
            self._dropTokens(retry=False)
            if type(self._buffer) is bytes:
                self._buffer = self._buffer[self._start:]
            else:
                del self._buffer[:self._start]
            self._pos -= self._start
            self._start = 0

    def _line(self, tooBig):
        """
        The text between C{self._pos + 1} and the next CR, advancing past the
        CRLF; L{None} when the line is incomplete.
        """
        buffer = self._buffer
        end = buffer.find(b"\r", self._pos)
        if end < 0 or end + 1 >= len(buffer):
            if len(buffer) - self._pos > INLINE_MAX:
                raise ProtocolError(f"Protocol error: too big {tooBig} count string")
            return None
        text = bytes(buffer[self._pos + 1:end])
        self._pos = end + 2
        return text

    def _multibulkHeader(self):
        text = self._line("mbulk")
        if text is None:
            return False
        count = _integer(text)
        if count is None or count > MULTIBULK_MAX:
            raise ProtocolError("Protocol error: invalid multibulk length")
        if count > UNAUTHENTICATED_MULTIBULK_MAX and not self.authenticated:
            raise ProtocolError("Protocol error: unauthenticated multibulk length")
        if count <= 0:
            self._complete(None)
            return True
        self._args = []
        self._remaining = count
        return True

    def _bulks(self):
        """
        Read the bulk strings of the current multibulk request; return
        whether all have arrived. This is the hot loop of every request, so
        the length line is read here rather than through L{_line}, and
        lengths that are certainly valid come from L{_SMALL_LENGTHS}.
        """
        buffer, args, pos, remaining = self._buffer, self._args, self._pos, self._remaining
        size, maxBulk, find, append = len(buffer), self._maxBulk, buffer.find, args.append
        while remaining:
            if pos >= size:
                break
            if buffer[pos] != _DOLLAR:
                got = chr(buffer[pos])
                raise ProtocolError(f"Protocol error: expected '$', got '{got}'")
            lineEnd = find(b"\r", pos)
            if lineEnd < 0 or lineEnd + 1 >= size:
                if size - pos > INLINE_MAX:
                    raise ProtocolError("Protocol error: too big bulk count string")
                break
            text = bytes(buffer[pos + 1:lineEnd])
            length = _SMALL_LENGTHS.get(text)
            if length is None or length > maxBulk:
                length = self._bulkLength(text)
            end = lineEnd + 2 + length
            if end + 2 > size:
                break
            append(bytes(buffer[lineEnd + 2:end]))
            pos = end + 2
            remaining -= 1
        self._pos, self._remaining = pos, remaining
        return not remaining

    def _bulkLength(self, text):
        length = _integer(text)
        if length is None or length < 0 or length > self._maxBulk:
            raise ProtocolError("Protocol error: invalid bulk length")
        if length > UNAUTHENTICATED_BULK_MAX and not self.authenticated:
            raise ProtocolError("Protocol error: unauthenticated bulk length")
        return length

    def _inline(self):
        buffer = self._buffer
        end = buffer.find(b"\n", self._pos)
        if end < 0:
            if len(buffer) - self._pos > INLINE_MAX:
                raise ProtocolError("Protocol error: too big inline request")
            return None
        line = bytes(buffer[self._pos:end])
        self._pos = end + 1
        if line.endswith(b"\r"):
            line = line[:-1]
        args = splitArgs(line)
        if args is None:
            raise ProtocolError("Protocol error: unbalanced quotes in request")
        if not args:
            self._complete(None)
        return args


_SMALL_LENGTHS = {b"%d" % n: n for n in range(1024)}
"""Bulk lengths that need no checking (below every limit), by their text."""

_SMALL_BULKS = {b"$%d" % n: n for n in _SMALL_LENGTHS.values()}
"""The same, by their whole line (C{$3})."""

_SMALL_COUNTS = {b"*%d" % n: n for n in range(1, 1024)}
"""Argument counts that need no checking but the unauthenticated limit."""


def _integer(text):
    """
    Parse a signed decimal the way Redis's C{string2ll} does (no spaces, no
    plus sign, no leading zeros), or return L{None}.
    """
    if not text or len(text) > 20:
        return None
    digits = text[1:] if text[:1] == b"-" else text
    if not digits.isdigit() or (digits[:1] == b"0" and text != b"0"):
        return None
    value = int(text)
    if not -2**63 <= value < 2**63:
        return None
    return value


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b",
            ord("a"): b"\a"}
_HEX = b"0123456789abcdefABCDEF"
_SPACES = b" \n\r\t\v\f\x00"


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
        quote = line[i] if line[i] in b"\"'" else None
        if quote is None:
            end = i
            while end < n and line[end] not in _SPACES:
                end += 1
            args.append(line[i:end])
            i = end
            continue
        word, i = _quoted(line, i + 1, quote)
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
        if c == 92 and i + 1 < n:
            nextChar = line[i + 1]
            if quote == 34 and nextChar == 120 and i + 3 < n and \
                    line[i + 2] in _HEX and line[i + 3] in _HEX:
                out.append(int(line[i + 2:i + 4], 16))
                i += 4
                continue
            if quote == 34:
                out += _ESCAPES.get(nextChar, bytes([nextChar]))
                i += 2
                continue
            if nextChar == 39:
                out.append(39)
                i += 2
                continue
        out.append(c)
        i += 1
    return None, i


class Status(str):
    """
    A reply sent as a RESP simple string (C{+OK}), not a bulk string.
    """


class ReplyError(Exception):
    """
    A command failed; C{args[0]} is the full error text with its code, such
    as C{ERR syntax error} or C{WRONGPASS ...}.
    """


OK = Status("OK")
_NULL = {False: b"$-1\r\n", True: b"_\r\n"}


def encode(reply: Any, resp3: bool = False) -> bytes:
    """
    Serialize a reply: C{bytes} as a bulk string, C{int} as an integer,
    L{None} as null, L{Status} as a simple string, L{ReplyError} as an
    error, C{list}/C{tuple} as an array, C{dict} as a map (a flat array in
    RESP2), C{float} as a double (a bulk string in RESP2).
    """
    out: list[bytes] = []
    _encodeInto(out, reply, resp3)
    return b"".join(out)


def _encodeInto(out, reply, resp3):
    kind = type(reply)
    if kind is bytes:
        out.append(b"$%d\r\n%s\r\n" % (len(reply), reply))
    elif kind is int:
        out.append(b":%d\r\n" % reply)
    elif reply is None:
        out.append(_NULL[resp3])
    elif kind is Status:
        out.append(b"+%s\r\n" % reply.encode())
    elif isinstance(reply, ReplyError):
        text = reply.args[0].replace("\r", " ").replace("\n", " ")
        out.append(b"-%s\r\n" % text.encode("utf-8", "replace"))
    elif kind is list or kind is tuple:
        out.append(b"*%d\r\n" % len(reply))
        for item in reply:
            _encodeInto(out, item, resp3)
    elif kind is dict:
        out.append((b"%%%d\r\n" if resp3 else b"*%d\r\n") % (len(reply) * (1 if resp3 else 2)))
        for key, value in reply.items():
            _encodeInto(out, key, resp3)
            _encodeInto(out, value, resp3)
    elif kind is float:
        text = repr(reply).encode()
        out.append(b",%s\r\n" % text if resp3 else b"$%d\r\n%s\r\n" % (len(text), text))
    elif kind is str:
        _encodeInto(out, reply.encode("utf-8"), resp3)
    else:
        raise TypeError(f"cannot encode {reply!r} as a reply")
