"""
RESP's vocabulary and writing values: the type markers, L{Status} and
L{OK}, L{encode} for replies (RESP2 or RESP3), L{encodeCommand} for
requests, and L{parseDecimal}, Redis's reading of a decimal.
"""

from collections.abc import Sequence
from typing import Any

from services.resp.errors import ReplyError

__all__ = [
    "CRLF", "SIMPLE_STRING", "ERROR", "INTEGER", "BULK_STRING", "ARRAY", "NULL", "DOUBLE",
    "BOOLEAN", "BIG_NUMBER", "VERBATIM_STRING", "MAP", "SET", "PUSH", "NULL_BULK_STRING",
    "NULL_ARRAY", "Status", "OK", "NIL_ARRAY", "encode", "encodeCommand", "parseDecimal",
]

CRLF = b"\r\n"
"""What ends every line of RESP."""

SIMPLE_STRING = b"+"
ERROR = b"-"
INTEGER = b":"
BULK_STRING = b"$"
ARRAY = b"*"
"""The RESP2 type markers: the first byte of a value."""

NULL = b"_"
DOUBLE = b","
BOOLEAN = b"#"
BIG_NUMBER = b"("
VERBATIM_STRING = b"="
MAP = b"%"
SET = b"~"
PUSH = b">"
"""The markers RESP3 adds (attributes and blob errors, which Redis 7 never
sends and the C{hiredis} reader does not read, are left out)."""

NULL_BULK_STRING = BULK_STRING + b"-1" + CRLF
"""RESP2's null (RESP3 has L{NULL})."""

NULL_ARRAY = ARRAY + b"-1" + CRLF
"""RESP2's null array, what Redis answers to an EXEC whose watched keys
changed (RESP3 has L{NULL})."""



def _format(marker, body):
    """
    A C{%}-format for a value of type C{marker} (itself escaped: the RESP3
    map's marker is C{%}).
    """
    return marker.replace(b"%", b"%%") + body


_BULK = _format(BULK_STRING, b"%d" + CRLF + b"%s" + CRLF)
_INTEGER = _format(INTEGER, b"%d" + CRLF)
_SIMPLE = _format(SIMPLE_STRING, b"%s" + CRLF)
_ERROR = _format(ERROR, b"%s" + CRLF)
_ARRAY = _format(ARRAY, b"%d" + CRLF)
_MAP = _format(MAP, b"%d" + CRLF)
_SET = _format(SET, b"%d" + CRLF)
_DOUBLE = _format(DOUBLE, b"%s" + CRLF)
_NULLS = {False: NULL_BULK_STRING, True: NULL + CRLF}


class Status(str):
    """
    A reply sent as a RESP simple string (C{+OK}), not a bulk string.
    """


OK = Status("OK")
"""The most common reply."""


class _NilArray:
    """
    The type of L{NIL_ARRAY}.
    """

    def __repr__(self) -> str:
        return "NIL_ARRAY"


NIL_ARRAY = _NilArray()
"""A reply sent as RESP2's null array (L{NULL_ARRAY}), or RESP3's null."""
_NULL_ARRAYS = {False: NULL_ARRAY, True: NULL + CRLF}


def encode(reply: Any, resp3: bool = False) -> bytes:
    """
    Serialize a reply: C{bytes} as a bulk string, C{int} as an integer,
    L{None} as null, L{Status} as a simple string, L{ReplyError} as an
    error, C{list}/C{tuple} as an array, C{dict} as a map (a flat array in
    RESP2), C{set}/C{frozenset} as a set (an array in RESP2), C{float} as a
    double (a bulk string in RESP2), C{str} as its UTF-8 bulk string,
    L{NIL_ARRAY} as RESP2's null array (RESP3's null).

    @raise TypeError: for anything else.
    """
    out: list[bytes] = []
    _encodeInto(out, reply, resp3)
    return b"".join(out)


def _encodeInto(out, reply, resp3):
    kind = type(reply)
    if kind is bytes:
        out.append(_BULK % (len(reply), reply))
    elif kind is int:
        out.append(_INTEGER % reply)
    elif reply is None:
        out.append(_NULLS[resp3])
    elif kind is Status:
        out.append(_SIMPLE % reply.encode())
    elif isinstance(reply, ReplyError):
        text = reply.args[0].replace("\r", " ").replace("\n", " ")
        out.append(_ERROR % text.encode("utf-8", "replace"))
    elif kind is list or kind is tuple:
        out.append(_ARRAY % len(reply))
        for item in reply:
            _encodeInto(out, item, resp3)
    elif kind is dict:
        out.append(_MAP % len(reply) if resp3 else _ARRAY % (2 * len(reply)))
        for key, value in reply.items():
            _encodeInto(out, key, resp3)
            _encodeInto(out, value, resp3)
    elif kind is set or kind is frozenset:
        out.append((_SET if resp3 else _ARRAY) % len(reply))
        for item in reply:
            _encodeInto(out, item, resp3)
    elif kind is float:
        text = repr(reply).encode()
        out.append(_DOUBLE % text if resp3 else _BULK % (len(text), text))
    elif kind is str:
        _encodeInto(out, reply.encode("utf-8"), resp3)
    elif reply is NIL_ARRAY:
        out.append(_NULL_ARRAYS[resp3])
    else:
        raise TypeError(f"cannot encode {reply!r} as a reply")


def _bytes(arg):
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode("utf-8")
    if isinstance(arg, int):
        return str(arg).encode("ascii")
    raise TypeError(f"cannot send {type(arg).__name__} to Redis")


def encodeCommand(args: Sequence[bytes | str | int]) -> bytes:
    """
    A command (a sequence of C{bytes}, C{str} or C{int} arguments) as a
    RESP request: an array of bulk strings.

    @raise TypeError: for an argument of another type.
    """
    parts = [_ARRAY % len(args)]
    for arg in args:
        data = arg if type(arg) is bytes else _bytes(arg)
        parts.append(_BULK % (len(data), data))
    return b"".join(parts)


_MAX_DIGITS = 20
"""The longest text a 64-bit signed decimal can be (C{-9223372036854775808})."""


def parseDecimal(text: bytes) -> int | None:
    """
    Parse a signed 64-bit decimal the way Redis's C{string2ll} does (no
    spaces, no plus sign, no leading zeros), or return L{None}.
    """
    if not text or len(text) > _MAX_DIGITS:
        return None
    digits = text[1:] if text[:1] == b"-" else text
    if not digits.isdigit() or (digits[:1] == b"0" and text != b"0"):
        return None
    value = int(text)
    if not -2**63 <= value < 2**63:
        return None
    return value
