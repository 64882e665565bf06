"""
String and key commands (GET, SET and its family, expiry, counters, KEYS,
SCAN), with Redis 7's semantics and error texts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from services.sessionserver.glob import compileGlob
from services.sessionserver.handling import parseInteger, syntaxError, wrongArity
from services.sessionserver.members import parseScanOptions
from services.resp import OK, ReplyError, Status
from services.sessionserver.store import WrongType

if TYPE_CHECKING:
    from services.sessionserver.commands import Client, Server

__all__ = [
    "KEYS_LIMIT", "SCAN_COUNT_LIMIT", "globMatcher",
    # strings
    "get", "set_", "setnx", "setex", "psetex", "getex", "getdel", "mget", "mset",
    "incr", "decr", "incrby", "decrby", "append", "strlen",
    # keys
    "del_", "unlink", "exists", "expire", "pexpire", "expireat", "pexpireat", "ttl",
    "pttl", "persist", "type_", "keys", "scan",
]

INT64_MAX = 2**63 - 1
INT64_MIN = -2**63
MAX_STRING = 512 * 1024 * 1024

KEYS_LIMIT = 100_000
"""KEYS is refused over a keyspace larger than this (it would stall every
client while it runs); SCAN walks any keyspace a bounded step at a time."""

SCAN_COUNT_LIMIT = 1000
"""The most keys one SCAN call examines whatever its COUNT (Redis takes
COUNT as a hint too)."""


def _expireError(name):
    return ReplyError(f"ERR invalid expire time in '{name}' command")


def _absoluteMillis(store, name, unit, value):
    """
    Turn an EX/PX/EXAT/PXAT argument into absolute milliseconds, checking it
    as Redis does (positive, no overflow).
    """
    number = parseInteger(value)
    if number <= 0 or (unit in (b"EX", b"EXAT") and number > INT64_MAX // 1000):
        raise _expireError(name)
    if unit in (b"EX", b"EXAT"):
        number *= 1000
    if unit in (b"EX", b"PX"):
        number += store.now()
        if number > INT64_MAX:
            raise _expireError(name)
    return number


def _parseSetOptions(args, start, getex=False):
    """
    Parse SET's (or GETEX's) options into C{(flags, unit, value)}.
    """
    flags, unit, value = set(), None, None
    expiries = {b"EX", b"PX", b"EXAT", b"PXAT"}
    j = start
    while j < len(args):
        option = args[j].upper()
        if option == b"NX" and not getex and b"XX" not in flags:
            flags.add(option)
        elif option == b"XX" and not getex and b"NX" not in flags:
            flags.add(option)
        elif option == b"GET" and not getex:
            flags.add(option)
        elif option == b"KEEPTTL" and not getex and unit is None:
            flags.add(option)
        elif option == b"PERSIST" and getex and unit is None:
            flags.add(option)
        elif option in expiries and j + 1 < len(args) and unit in (None, option) \
                and not flags & {b"KEEPTTL", b"PERSIST"}:
            unit, value = option, args[j + 1]
            j += 1
        else:
            raise syntaxError()
        j += 1
    return flags, unit, value


def get(server: Server, client: Client, args: list[bytes]) -> Any:
    """Get the value of a key."""
    return server.store.get(args[1])


def set_(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set the string value of a key, with expiry and conditions."""
    store, key = server.store, args[1]
    flags, unit, value = _parseSetOptions(args, 3)
    expireAt = _absoluteMillis(store, "set", unit, value) if unit else None
    # Only GET reads the old value (a hash or set there is WRONGTYPE);
    # without it, SET replaces a value of any type.
    old = store.get(key) if b"GET" in flags else None
    if not _conditionMet(store, key, flags, old):
        return old if b"GET" in flags else None
    store.set(key, args[2], expireAt, keepTTL=b"KEEPTTL" in flags)
    return old if b"GET" in flags else OK


def _conditionMet(store, key, flags, old):
    """
    Whether SET's NX or XX (if given) allows the write, C{old} being the
    value read for GET.
    """
    if b"NX" not in flags and b"XX" not in flags:
        return True
    present = old is not None if b"GET" in flags else key in store
    return present == (b"XX" in flags)


def setnx(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set a key only if it does not exist."""
    if args[1] in server.store:
        return 0
    server.store.set(args[1], args[2])
    return 1


def _setWithExpiry(server, args, unit, name):
    expireAt = _absoluteMillis(server.store, name, unit, args[2])
    server.store.set(args[1], args[3], expireAt)
    return OK


def setex(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set a key with an expiry in seconds."""
    return _setWithExpiry(server, args, b"EX", "setex")


def psetex(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set a key with an expiry in milliseconds."""
    return _setWithExpiry(server, args, b"PX", "psetex")


def getex(server: Server, client: Client, args: list[bytes]) -> Any:
    """Get the value of a key and optionally set or remove its expiry."""
    store, key = server.store, args[1]
    flags, unit, value = _parseSetOptions(args, 2, getex=True)
    expireAt = _absoluteMillis(store, "getex", unit, value) if unit else None
    current = store.get(key)
    if current is None:
        return None
    if expireAt is not None:
        store.pexpireAt(key, expireAt)
    elif b"PERSIST" in flags:
        store.persist(key)
    return current


def getdel(server: Server, client: Client, args: list[bytes]) -> Any:
    """Get the value of a key and delete it."""
    value = server.store.get(args[1])
    if value is not None:
        server.store.delete(args[1])
    return value


def mget(server: Server, client: Client, args: list[bytes]) -> Any:
    """Get the values of several keys."""
    store = server.store
    return [_stringOrNil(store, key) for key in args[1:]]


def _stringOrNil(store, key):
    """
    The string at C{key}, or L{None} if it is absent or of another type
    (MGET answers nil for a hash or a set, where GET is WRONGTYPE).
    """
    try:
        return store.get(key)
    except WrongType:
        return None


def mset(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set several keys."""
    if len(args) % 2 == 0:
        raise wrongArity("mset")
    set_ = server.store.set
    for i in range(1, len(args), 2):
        set_(args[i], args[i + 1])
    return OK


def del_(server: Server, client: Client, args: list[bytes]) -> Any:
    """Delete keys."""
    delete = server.store.delete
    return sum(delete(key) for key in args[1:])


def unlink(server: Server, client: Client, args: list[bytes]) -> Any:
    """Delete keys."""
    return del_(server, client, args)


def exists(server: Server, client: Client, args: list[bytes]) -> Any:
    """Count how many of the keys exist."""
    store = server.store
    return sum(key in store for key in args[1:])


def _expireOptions(args):
    options = {arg.upper() for arg in args[3:]}
    for option in options:
        if option not in (b"NX", b"XX", b"GT", b"LT"):
            raise ReplyError(f"ERR Unsupported option {option.decode('utf-8', 'replace')}")
    if b"NX" in options and options & {b"XX", b"GT", b"LT"}:
        raise ReplyError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if options >= {b"GT", b"LT"}:
        raise ReplyError("ERR GT and LT options at the same time are not compatible")
    return options


def _expireAllowed(options, current, when):
    if b"NX" in options and current is not None:
        return False
    if b"XX" in options and current is None:
        return False
    if b"GT" in options and (current is None or when <= current):
        return False
    if b"LT" in options and current is not None and when >= current:
        return False
    return True


def _expire(server, args, seconds, relative, name):
    store = server.store
    options = _expireOptions(args)
    when = parseInteger(args[2])
    # Redis's bound is C's LLONG_MIN / 1000, which rounds toward zero.
    if seconds and abs(when) > INT64_MAX // 1000:
        raise _expireError(name)
    when *= 1000 if seconds else 1
    if relative:
        when += store.now()
        if when > INT64_MAX:
            raise _expireError(name)
    if args[1] not in store:
        return 0
    if not _expireAllowed(options, store.expireAt(args[1]), when):
        return 0
    store.pexpireAt(args[1], when)
    return 1


def expire(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set a key's time to live in seconds."""
    return _expire(server, args, True, True, "expire")


def pexpire(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set a key's time to live in milliseconds."""
    return _expire(server, args, False, True, "pexpire")


def expireat(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set a key's expiry as a UNIX time in seconds."""
    return _expire(server, args, True, False, "expireat")


def pexpireat(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set a key's expiry as a UNIX time in milliseconds."""
    return _expire(server, args, False, False, "pexpireat")


def _ttlMillis(store, key):
    if key not in store:
        return -2
    expireAt = store.expireAt(key)
    return -1 if expireAt is None else max(expireAt - store.now(), 0)


def ttl(server: Server, client: Client, args: list[bytes]) -> Any:
    """The time to live of a key in seconds."""
    millis = _ttlMillis(server.store, args[1])
    return millis if millis < 0 else (millis + 500) // 1000


def pttl(server: Server, client: Client, args: list[bytes]) -> Any:
    """The time to live of a key in milliseconds."""
    return _ttlMillis(server.store, args[1])


def persist(server: Server, client: Client, args: list[bytes]) -> Any:
    """Remove the expiry of a key."""
    return int(server.store.persist(args[1]))


def type_(server: Server, client: Client, args: list[bytes]) -> Any:
    """The type of the value at a key."""
    return Status(server.store.typeOf(args[1]).decode())


def _incrBy(server, key, delta):
    store = server.store
    current = store.get(key)
    number = 0 if current is None else parseInteger(current)
    result = number + delta
    if not INT64_MIN <= result <= INT64_MAX:
        raise ReplyError("ERR increment or decrement would overflow")
    store.set(key, b"%d" % result, keepTTL=True)
    return result


def incr(server: Server, client: Client, args: list[bytes]) -> Any:
    """Increment the integer value of a key by one."""
    return _incrBy(server, args[1], 1)


def decr(server: Server, client: Client, args: list[bytes]) -> Any:
    """Decrement the integer value of a key by one."""
    return _incrBy(server, args[1], -1)


def incrby(server: Server, client: Client, args: list[bytes]) -> Any:
    """Increment the integer value of a key by an amount."""
    return _incrBy(server, args[1], parseInteger(args[2]))


def decrby(server: Server, client: Client, args: list[bytes]) -> Any:
    """Decrement the integer value of a key by an amount."""
    delta = parseInteger(args[2])
    if delta == INT64_MIN:
        raise ReplyError("ERR decrement would overflow")
    return _incrBy(server, args[1], -delta)


def append(server: Server, client: Client, args: list[bytes]) -> Any:
    """Append a value to a key."""
    current = server.store.get(args[1]) or b""
    if len(current) + len(args[2]) > MAX_STRING:
        raise ReplyError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    value = current + args[2]
    server.store.set(args[1], value, keepTTL=True)
    return len(value)


def strlen(server: Server, client: Client, args: list[bytes]) -> Any:
    """The length of a key's value."""
    return len(server.store.get(args[1]) or b"")


def globMatcher(pattern: bytes) -> Callable[[bytes], bool]:
    """
    L{compileGlob}C{(pattern)}, or an error reply for a pattern too long.
    """
    try:
        return compileGlob(pattern)
    except ValueError as e:
        raise ReplyError(f"ERR {e}") from None


def keys(server: Server, client: Client, args: list[bytes]) -> Any:
    """All keys matching a pattern."""
    store = server.store
    if len(store) > KEYS_LIMIT:
        raise ReplyError(f"ERR KEYS is refused over more than {KEYS_LIMIT} keys "
                         f"(there are {len(store)}); use SCAN")
    if args[1] == b"*":
        return store.keys()
    match = globMatcher(args[1])
    return [key for key in store.keys() if match(key)]


def scan(server: Server, client: Client, args: list[bytes]) -> Any:
    """Iterate over the keys with a cursor."""
    cursor = parseInteger(args[1], "ERR invalid cursor")
    count, match, kind = parseScanOptions(args[2:], globMatcher, types=True)
    nextCursor, found = server.store.scan(max(cursor, 0), min(count, SCAN_COUNT_LIMIT))
    if match is not None:
        found = [key for key in found if match(key)]
    if kind is not None:
        typeOf = server.store.typeOf
        found = [key for key in found if typeOf(key) == kind]
    return [b"%d" % nextCursor, found]
