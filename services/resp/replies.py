"""
Reading replies, without I/O: L{ReplyParser} turns the bytes a server sends
into values, RESP2 and RESP3 alike; L{makeReplyParser} gives the C{hiredis}
reader behind the same interface (L{HiredisReplyParser}) when that optional
package is installed: it parses about ten times faster.

What a reply becomes: C{bytes} for simple, bulk, verbatim strings (without
their format) and big numbers (their digits); C{int}; L{None} for RESP2's
null bulk string and array and RESP3's null; C{list} for arrays, sets and
pushes; C{dict} for maps; C{float} for doubles; C{bool} for booleans; an
instance of the parser's C{replyError} class (returned, not raised) for an
error reply. These are what C{hiredis} gives, so that both parsers agree.
"""

from collections.abc import Callable
from typing import Any

try:
    import hiredis
except ImportError:
    hiredis = None  # type: ignore[assignment]

from services.resp.encoding import (
    ARRAY, BIG_NUMBER, BOOLEAN, BULK_STRING, CRLF, DOUBLE, ERROR, INTEGER, MAP, NULL, PUSH,
    SET, SIMPLE_STRING, VERBATIM_STRING, parseDecimal,
)
from services.resp.errors import ProtocolError, ReplyError

__all__ = ["ReplyParser", "HiredisReplyParser", "makeReplyParser", "MAX_DEPTH", "hiredis"]

MAX_DEPTH = 64
"""How many aggregates (arrays, maps, sets) may nest in one reply; more is a
L{ProtocolError} rather than a Python recursion error."""

_VERBATIM_FORMAT = len(b"txt:")
"""A verbatim string starts with its three-letter format and a colon."""

_TRUE, _FALSE = b"t", b"f"


class _Incomplete(Exception):
    """
    The buffer ends before the reply being read does.
    """


class ReplyParser:
    """
    Turns received bytes into replies (see the module's docstring).

    @param replyError: the L{ReplyError} class to make error replies of.
    """

    def __init__(self, replyError: type[ReplyError] = ReplyError) -> None:
        self._buffer = b""
        self._consumed = 0
        self._replyError = replyError

    def feed(self, data: bytes) -> list[Any]:
        """
        Add C{data} and return the replies now complete, in order.

        @raise ProtocolError: if the bytes are not RESP.
        """
        self._buffer += data
        replies = []
        position = 0
        while position < len(self._buffer):
            try:
                reply, position = self._read(position, 0)
            except _Incomplete:
                break
            replies.append(reply)
        self._consumed += position
        self._buffer = self._buffer[position:]
        return replies

    def _error(self, message, start, end):
        offset = self._consumed + start
        return ProtocolError(message, self._buffer[start:end], offset)

    def _read(self, position, depth):
        """
        The reply at C{position} and the position after it.
        """
        if position >= len(self._buffer):
            raise _Incomplete()
        marker = self._buffer[position:position + 1]
        read = self._READERS.get(marker)
        if read is None:
            raise self._error(f"unexpected reply type {marker!r}", position, position + 1)
        end = self._buffer.find(CRLF, position)
        if end < 0:
            raise _Incomplete()
        return read(self, self._buffer[position + 1:end], position, end + len(CRLF), depth)

    def _integer(self, line, start):
        value = parseDecimal(line)
        if value is None:
            end = start + len(line) + 1
            raise self._error(f"expected an integer, got {line[:40]!r}", start, end)
        return value

    def _simple(self, line, start, position, depth):
        return line, position

    def _errorReply(self, line, start, position, depth):
        return self._replyError(line.decode("utf-8", "replace")), position

    def _int(self, line, start, position, depth):
        return self._integer(line, start), position

    def _null(self, line, start, position, depth):
        if line:
            raise self._error("a null with a value", start, position)
        return None, position

    def _double(self, line, start, position, depth):
        try:
            return float(line), position
        except ValueError:
            raise self._error(f"expected a double, got {line[:40]!r}", start, position) from None

    def _boolean(self, line, start, position, depth):
        if line not in (_TRUE, _FALSE):
            raise self._error(f"expected t or f, got {line[:40]!r}", start, position)
        return line == _TRUE, position

    def _bigNumber(self, line, start, position, depth):
        if not line.removeprefix(b"-").isdigit():
            raise self._error(f"expected a big number, got {line[:40]!r}", start, position)
        return line, position

    def _bulk(self, line, start, position, depth):
        length = self._integer(line, start)
        if length == -1:
            return None, position
        if length < 0:
            raise self._error(f"invalid bulk length {length}", start, position)
        end = position + length
        if len(self._buffer) < end + len(CRLF):
            raise _Incomplete()
        if self._buffer[end:end + len(CRLF)] != CRLF:
            raise self._error("a bulk string is not followed by CRLF", end, end + len(CRLF))
        return self._buffer[position:end], end + len(CRLF)

    def _verbatim(self, line, start, position, depth):
        text, after = self._bulk(line, start, position, depth)
        if text is None or text[_VERBATIM_FORMAT - 1:_VERBATIM_FORMAT] != b":":
            raise self._error("a verbatim string without its format", start, after)
        return text[_VERBATIM_FORMAT:], after

    def _items(self, line, start, position, depth, perItem=1):
        """
        The C{count * perItem} values of an aggregate whose count is
        C{line}, as a list, or L{None} for RESP2's null array.
        """
        count = self._integer(line, start)
        if count == -1:
            return None, position
        if count < 0:
            raise self._error(f"invalid aggregate length {count}", start, position)
        if depth >= MAX_DEPTH:
            raise self._error(f"replies nested more than {MAX_DEPTH} deep", start, position)
        items = []
        for _ in range(count * perItem):
            item, position = self._read(position, depth + 1)
            items.append(item)
        return items, position

    def _map(self, line, start, position, depth):
        items, after = self._items(line, start, position, depth, perItem=2)
        if items is None:
            return None, after
        try:
            return dict(zip(items[::2], items[1::2], strict=True)), after
        except TypeError:
            raise self._error("a map key that is an aggregate", start, after) from None

    _READERS: dict[bytes, Callable[..., tuple[Any, int]]] = {
        SIMPLE_STRING: _simple, ERROR: _errorReply, INTEGER: _int, BULK_STRING: _bulk,
        ARRAY: _items, NULL: _null, DOUBLE: _double, BOOLEAN: _boolean,
        BIG_NUMBER: _bigNumber, VERBATIM_STRING: _verbatim, MAP: _map, SET: _items,
        PUSH: _items,
    }


_NOT_ENOUGH_DATA = object()
"""What the C{hiredis} reader gives while a reply is incomplete (its default,
C{False}, is also RESP3's boolean false)."""


class HiredisReplyParser:
    """
    A L{ReplyParser} made of the C{hiredis} package's reader: the same
    replies, errors and L{ProtocolError} (without its offending bytes and
    offset, which C{hiredis} does not tell), parsed in C.
    """

    def __init__(self, replyError: type[ReplyError] = ReplyError) -> None:
        self._reader = hiredis.Reader(protocolError=ProtocolError, replyError=replyError,
                                      notEnoughData=_NOT_ENOUGH_DATA)

    def feed(self, data: bytes) -> list[Any]:
        """
        See L{ReplyParser.feed}.
        """
        reader = self._reader
        reader.feed(data)
        replies = []
        try:
            reply = reader.gets()
            while reply is not _NOT_ENOUGH_DATA:
                replies.append(reply)
                reply = reader.gets()
        except TypeError:
            # hiredis builds a map with dict(); a key that is itself an
            # aggregate cannot be one.
            raise ProtocolError("a map key that is an aggregate") from None
        return replies


def makeReplyParser(replyError: type[ReplyError] = ReplyError
                    ) -> ReplyParser | HiredisReplyParser:
    """
    A new L{HiredisReplyParser} if C{hiredis} is installed, else a new
    L{ReplyParser}, making error replies of C{replyError}.
    """
    if hiredis is None:
        return ReplyParser(replyError)
    return HiredisReplyParser(replyError)
