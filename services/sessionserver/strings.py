"""
String commands beyond GET and SET's family (see L{keyspace}): GETSET,
INCRBYFLOAT, SETRANGE, GETRANGE and MSETNX, with Redis 7's semantics and
error texts. Each writes through L{Store.set}, so the journal records the
resulting value (INCRBYFLOAT's as Redis propagates it, a plain SET keeping
the expiry) and memory accounting counts it.

INCRBYFLOAT computes in double precision where Redis uses C's long double:
results agree to about 15 significant digits, and beyond 1.8e308 an
argument is not a valid float and a sum is refused as infinite, where Redis
could still hold them.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from services.resp import ReplyError
from services.sessionserver.handling import parseInteger, wrongArity
from services.sessionserver.keyspace import MAX_STRING

if TYPE_CHECKING:
    from services.sessionserver.commands import Client, Server

__all__ = ["getset", "incrbyfloat", "setrange", "getrange", "msetnx", "parseFloat",
           "formatFloat"]

MAX_FLOAT_TEXT = 5 * 1024
"""The longest text read as a float (Redis's C{MAX_LONG_DOUBLE_CHARS})."""

_FLOAT = re.compile(
    rb"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|inf(?:inity)?"
    rb"|0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[+-]?\d+)?)", re.IGNORECASE).fullmatch
"""What C's C{strtold} reads whole, less NaN (which Redis refuses)."""

NOT_A_FLOAT = "ERR value is not a valid float"


def parseFloat(text: bytes) -> float:
    """
    A float argument or stored value read as Redis's C{string2ld} does (no
    spaces around it, hexadecimal and C{inf} allowed, no NaN, nothing that
    overflows), or a L{ReplyError}.
    """
    if not text or len(text) >= MAX_FLOAT_TEXT or _FLOAT(text) is None:
        raise ReplyError(NOT_A_FLOAT)
    try:
        value = float.fromhex(text.decode()) if b"x" in text or b"X" in text else float(text)
    except OverflowError:
        value = math.inf
    if math.isinf(value) and not text.lstrip(b"+-").lower().startswith(b"inf"):
        # A finite number too large to hold, as strtold's ERANGE.
        raise ReplyError(NOT_A_FLOAT)
    return value


def formatFloat(value: float) -> bytes:
    """
    C{value} as Redis writes INCRBYFLOAT's result: no exponent, at most 17
    decimals, no trailing zeros, no negative zero.
    """
    text = format(Decimal(repr(value)), ".17f").rstrip("0").rstrip(".")
    return b"0" if text == "-0" else text.encode()


def getset(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set the string value of a key and return its old value."""
    old = server.store.get(args[1])
    server.store.set(args[1], args[2])
    return old


def incrbyfloat(server: Server, client: Client, args: list[bytes]) -> Any:
    """Increment the float value of a key by the given amount."""
    store, key = server.store, args[1]
    increment = parseFloat(args[2])
    current = store.get(key)
    result = (0.0 if current is None else parseFloat(current)) + increment
    if math.isnan(result) or math.isinf(result):
        raise ReplyError("ERR increment would produce NaN or Infinity")
    text = formatFloat(result)
    store.set(key, text, keepTTL=True)
    return text


def _checkLength(length):
    if length > MAX_STRING:
        raise ReplyError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")


def setrange(server: Server, client: Client, args: list[bytes]) -> Any:
    """Overwrite part of a string at an offset, padding with zero bytes."""
    store, key, value = server.store, args[1], args[3]
    offset = parseInteger(args[2])
    if offset < 0:
        raise ReplyError("ERR offset is out of range")
    current = store.get(key)
    if not value:
        return 0 if current is None else len(current)
    _checkLength(offset + len(value))
    old = current or b""
    new = old[:offset].ljust(offset, b"\0") + value + old[offset + len(value):]
    store.set(key, new, keepTTL=True)
    return len(new)


def getrange(server: Server, client: Client, args: list[bytes]) -> Any:
    """Get a substring of a string, by inclusive offsets (negative: from the end)."""
    start, end = parseInteger(args[2]), parseInteger(args[3])
    value = server.store.get(args[1]) or b""
    length = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    start = max(start + length if start < 0 else start, 0)
    end = min(max(end + length if end < 0 else end, 0), length - 1)
    if start > end:
        return b""
    return value[start:end + 1]


def msetnx(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set several keys, only if none of them exists."""
    if len(args) % 2 == 0:
        raise wrongArity("msetnx")
    store = server.store
    if any(key in store for key in args[1::2]):
        return 0
    for i in range(1, len(args), 2):
        store.set(args[i], args[i + 1])
    return 1
