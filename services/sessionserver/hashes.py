"""
Hash commands (HSET, HSETNX, HGET, HMGET, HGETALL, HDEL, HEXISTS, HLEN,
HKEYS, HVALS, HINCRBY, HINCRBYFLOAT, HSTRLEN, HRANDFIELD, HSCAN), with
Redis 7's semantics and error texts. A hash is a
L{services.sessionserver.store.Hash}; the store deletes it with its last
field.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from services.sessionserver.handling import parseInteger, syntaxError, wrongArity
from services.sessionserver.keyspace import globMatcher
from services.sessionserver.members import parseCount, parseScan, pick, scanStep
from services.resp import OK, ReplyError
from services.sessionserver.store import Hash

if TYPE_CHECKING:
    from services.sessionserver.commands import Client, Server

__all__ = ["hset", "hmset", "hsetnx", "hget", "hmget", "hgetall", "hdel", "hexists", "hlen",
           "hkeys", "hvals", "hincrby", "hincrbyfloat", "hstrlen", "hrandfield", "hscan"]

INT64_MAX = 2**63 - 1
INT64_MIN = -2**63
_FLOAT = re.compile(rb"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?inf(inity)?",
                    re.IGNORECASE).fullmatch


def _fields(server, key):
    return server.store.collection(key, Hash) or {}


def _setFields(server, args, name):
    if len(args) % 2:
        raise wrongArity(name)
    # One field is the common case: skip building slices for it.
    pairs = [(args[2], args[3])] if len(args) == 4 else \
        list(zip(args[2::2], args[3::2], strict=True))
    return server.store.addItems(args[1], Hash, pairs)


def hset(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set fields of a hash."""
    return _setFields(server, args, "hset")


def hmset(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set fields of a hash (the older form of HSET, answering OK)."""
    _setFields(server, args, "hmset")
    return OK


def hsetnx(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set a field of a hash only if it does not exist."""
    if args[2] in _fields(server, args[1]):
        return 0
    server.store.addItems(args[1], Hash, [(args[2], args[3])])
    return 1


def hget(server: Server, client: Client, args: list[bytes]) -> Any:
    """The value of a field of a hash."""
    return _fields(server, args[1]).get(args[2])


def hmget(server: Server, client: Client, args: list[bytes]) -> Any:
    """The values of several fields of a hash."""
    fields = _fields(server, args[1])
    return [fields.get(field) for field in args[2:]]


def hgetall(server: Server, client: Client, args: list[bytes]) -> Any:
    """Every field and value of a hash."""
    return dict(_fields(server, args[1]))


def hdel(server: Server, client: Client, args: list[bytes]) -> Any:
    """Delete fields of a hash."""
    return len(server.store.removeItems(args[1], Hash, args[2:]))


def hexists(server: Server, client: Client, args: list[bytes]) -> Any:
    """Whether a field of a hash exists."""
    return int(args[2] in _fields(server, args[1]))


def hlen(server: Server, client: Client, args: list[bytes]) -> Any:
    """The number of fields of a hash."""
    return len(_fields(server, args[1]))


def hkeys(server: Server, client: Client, args: list[bytes]) -> Any:
    """The fields of a hash."""
    return list(_fields(server, args[1]))


def hvals(server: Server, client: Client, args: list[bytes]) -> Any:
    """The values of a hash."""
    return list(_fields(server, args[1]).values())


def hstrlen(server: Server, client: Client, args: list[bytes]) -> Any:
    """The length of the value of a field of a hash."""
    return len(_fields(server, args[1]).get(args[2], b""))


def hincrby(server: Server, client: Client, args: list[bytes]) -> Any:
    """Increment the integer value of a field of a hash."""
    delta = parseInteger(args[3])
    current = _fields(server, args[1]).get(args[2], b"0")
    result = parseInteger(current, "ERR hash value is not an integer") + delta
    if not INT64_MIN <= result <= INT64_MAX:
        raise ReplyError("ERR increment or decrement would overflow")
    server.store.addItems(args[1], Hash, [(args[2], b"%d" % result)])
    return result


def _parseFloat(value, error):
    """
    A float argument or field value written the way Redis reads one
    (infinity, but not NaN), as a L{Decimal}, so that 0.1 + 0.2 is 0.3 as
    with Redis's long doubles.
    """
    if _FLOAT(value) is None:
        raise ReplyError(error)
    return Decimal(value.decode())


def _formatFloat(number):
    """
    C{number} as Redis writes a float result: 17 decimal places, less the
    trailing zeros.
    """
    return format(number, ".17f").rstrip("0").rstrip(".").encode()


def hincrbyfloat(server: Server, client: Client, args: list[bytes]) -> Any:
    """Increment the floating-point value of a field of a hash."""
    delta = _parseFloat(args[3], "ERR value is not a valid float")
    if not delta.is_finite():
        raise ReplyError("ERR value is NaN or Infinity")
    current = _fields(server, args[1]).get(args[2], b"0")
    result = _parseFloat(current, "ERR hash value is not a float") + delta
    if not math.isfinite(float(result)):
        raise ReplyError("ERR increment would produce NaN or Infinity")
    text = _formatFloat(result)
    server.store.addItems(args[1], Hash, [(args[2], text)])
    return text


def hrandfield(server: Server, client: Client, args: list[bytes]) -> Any:
    """Random fields of a hash, with their values if asked."""
    fields = _fields(server, args[1])
    if len(args) == 2:
        return pick(fields, 1)[0] if fields else None
    withValues = len(args) == 4
    if len(args) > 4 or (withValues and args[3].upper() != b"WITHVALUES"):
        raise syntaxError()
    chosen = pick(fields, parseCount(args[2]))
    if not withValues:
        return chosen
    if client.resp3:
        return [[field, fields[field]] for field in chosen]
    return [part for field in chosen for part in (field, fields[field])]


def hscan(server: Server, client: Client, args: list[bytes]) -> Any:
    """Iterate over the fields and values of a hash with a cursor."""
    cursor, count, match = parseScan(args, globMatcher)
    fields = _fields(server, args[1])
    nextCursor, found = scanStep(fields, cursor, count)
    if match is not None:
        found = [field for field in found if match(field)]
    return [b"%d" % nextCursor, [part for field in found for part in (field, fields[field])]]
