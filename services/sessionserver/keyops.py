"""
Key commands that move, copy, pick, touch and inspect keys (RENAME,
RENAMENX, COPY, RANDOMKEY, TOUCH, EXPIRETIME, PEXPIRETIME, OBJECT), TIME,
and SWAPDB (refused: there is one database), with Redis 7's semantics and
error texts. They work on values of every type, moving or copying the
stored value whole; the journal records a move or a copy as the deletion
and the value written (see L{Store.rename}).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from services.resp import OK, ReplyError, parseDecimal
from services.sessionserver.handling import (
    parseInteger, subcommand, subcommandHelp, syntaxError)
from services.sessionserver.store import copyValue, typeName

if TYPE_CHECKING:
    from services.sessionserver.commands import Client, Server

__all__ = ["rename", "renamenx", "copy", "randomkey", "touch", "expiretime", "pexpiretime",
           "object_", "time", "swapdb", "encoding", "refcount", "OBJECT_SUBCOMMANDS"]

_random = random.Random()

OUT_OF_RANGE = "ERR DB index is out of range"


def _rename(server, args, nx):
    store, source, destination = server.store, args[1], args[2]
    if source not in store:
        raise ReplyError("ERR no such key")
    if source == destination or (nx and destination in store):
        return 0 if nx else OK
    store.rename(source, destination)
    return 1 if nx else OK


def rename(server: Server, client: Client, args: list[bytes]) -> Any:
    """Rename a key, replacing the destination."""
    return _rename(server, args, False)


def renamenx(server: Server, client: Client, args: list[bytes]) -> Any:
    """Rename a key only if the new name does not exist."""
    return _rename(server, args, True)


def _copyOptions(args):
    """
    Whether COPY's options say REPLACE; a DB other than 0 is refused.
    """
    replace, j = False, 3
    while j < len(args):
        option = args[j].upper()
        if option == b"REPLACE":
            replace = True
        elif option == b"DB" and j + 1 < len(args):
            if parseInteger(args[j + 1]) != 0:
                raise ReplyError(OUT_OF_RANGE)
            j += 1
        else:
            raise syntaxError()
        j += 1
    return replace


def copy(server: Server, client: Client, args: list[bytes]) -> Any:
    """Copy a key's value and expiry to another key."""
    store, source, destination = server.store, args[1], args[2]
    replace = _copyOptions(args)
    if source == destination:
        raise ReplyError("ERR source and destination objects are the same")
    entry = store.peek(source)
    if entry is None or (not replace and destination in store):
        return 0
    value, expireAt = entry
    store.set(destination, copyValue(value), expireAt)
    return 1


def randomkey(server: Server, client: Client, args: list[bytes]) -> Any:
    """A random key, or nil when there is none."""
    return server.store.randomKey(_random.choice)


def touch(server: Server, client: Client, args: list[bytes]) -> Any:
    """Count the keys that exist, making them recently used."""
    touch = server.store.touch
    return sum(touch(key) for key in args[1:])


def _expireTime(server, key, divisor):
    store = server.store
    if key not in store:
        return -2
    expireAt = store.expireAt(key)
    return -1 if expireAt is None else expireAt // divisor


def expiretime(server: Server, client: Client, args: list[bytes]) -> Any:
    """When a key expires, as a UNIX time in seconds."""
    return _expireTime(server, args[1], 1000)


def pexpiretime(server: Server, client: Client, args: list[bytes]) -> Any:
    """When a key expires, as a UNIX time in milliseconds."""
    return _expireTime(server, args[1], 1)


LISTPACK_ENTRIES, LISTPACK_VALUE, INTSET_ENTRIES = 128, 64, 512
"""Redis's default C{hash-max-listpack-entries}, C{hash-max-listpack-value}
and C{set-max-intset-entries}: where OBJECT ENCODING's answer changes."""


def encoding(value: Any) -> bytes:
    """
    The encoding Redis 7.0 would report for C{value}: C{int}, C{embstr} or
    C{raw} for a string, C{listpack} or C{hashtable} for a hash, C{intset}
    or C{hashtable} for a set.
    """
    kind = typeName(value)
    if kind == b"string":
        if len(value) <= 20 and parseDecimal(value) is not None:
            return b"int"
        return b"embstr" if len(value) <= 44 else b"raw"
    if kind == b"hash":
        small = len(value) <= LISTPACK_ENTRIES and all(
            len(field) <= LISTPACK_VALUE and len(item) <= LISTPACK_VALUE
            for field, item in value.items())
        return b"listpack" if small else b"hashtable"
    integers = len(value) <= INTSET_ENTRIES and all(
        parseDecimal(member) is not None for member in value)
    return b"intset" if integers else b"hashtable"


def _objectEncoding(server, client, args):
    entry = server.store.peek(args[2])
    return None if entry is None else encoding(entry[0])


SHARED_INTEGERS = 10_000
"""Redis shares the integers below this between keys (C{OBJ_SHARED_INTEGERS})."""

SHARED_REFCOUNT = 2**31 - 1
"""What OBJECT REFCOUNT reports for a shared value (C{OBJ_SHARED_REFCOUNT})."""


def refcount(value: Any, maxmemory: int, policy: str) -> int:
    """
    The reference count Redis 7.0 would report for C{value}: shared for a
    small non-negative integer (unless an LRU policy bounds memory, when
    Redis stops sharing them), else 1.
    """
    if value.__class__ is not bytes or (maxmemory and policy.endswith("-lru")):
        return 1
    number = parseDecimal(value)
    return SHARED_REFCOUNT if number is not None and 0 <= number < SHARED_INTEGERS else 1


def _objectRefcount(server, client, args):
    store = server.store
    entry = store.peek(args[2])
    return None if entry is None else refcount(entry[0], store.maxmemory, store.policy)


def _objectFreq(server, client, args):
    if args[2] not in server.store:
        return None
    raise ReplyError("ERR An LFU maxmemory policy is not selected, access frequency not "
                     "tracked. Please note that when switching between policies at runtime "
                     "LRU and LFU data will take some time to adjust.")


OBJECT_SUBCOMMANDS = {
    b"encoding": (3, _objectEncoding),
    b"freq": (3, _objectFreq),
    b"refcount": (3, _objectRefcount),
    b"help": subcommandHelp("OBJECT", [
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>."]),
}
"""OBJECT's subcommands: name to C{(arity, handler)}."""


def object_(server: Server, client: Client, args: list[bytes]) -> Any:
    """Inspect the internals of a key's value."""
    return subcommand(args, OBJECT_SUBCOMMANDS, "object")(server, client, args)


def time(server: Server, client: Client, args: list[bytes]) -> Any:
    """The server's time: UNIX seconds and microseconds."""
    seconds, micros = divmod(int(server.store.seconds() * 1_000_000), 1_000_000)
    return [b"%d" % seconds, b"%d" % micros]


def swapdb(server: Server, client: Client, args: list[bytes]) -> Any:
    """Swap two databases (refused: only database 0 exists)."""
    first = parseInteger(args[1], "ERR invalid first DB index")
    second = parseInteger(args[2], "ERR invalid second DB index")
    if first != 0 or second != 0:
        raise ReplyError(OUT_OF_RANGE)
    return OK
