"""
Set commands (SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP,
SRANDMEMBER, SSCAN), with Redis 7's semantics and error texts. A set is a
L{services.sessionserver.store.Set}; the store deletes it with its last
member.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.sessionserver.handling import syntaxError
from services.sessionserver.keyspace import globMatcher
from services.sessionserver.members import parseCount, parseScan, pick, scanStep
from services.resp import ReplyError, parseDecimal
from services.sessionserver.store import Set

if TYPE_CHECKING:
    from services.sessionserver.commands import Client, Server

__all__ = ["sadd", "srem", "smembers", "sismember", "smismember", "scard", "spop",
           "srandmember", "sscan"]


def _members(server, key):
    return server.store.collection(key, Set) or ()


def sadd(server: Server, client: Client, args: list[bytes]) -> Any:
    """Add members to a set."""
    return server.store.addItems(args[1], Set, [(member, None) for member in args[2:]])


def srem(server: Server, client: Client, args: list[bytes]) -> Any:
    """Remove members from a set."""
    return len(server.store.removeItems(args[1], Set, args[2:]))


def smembers(server: Server, client: Client, args: list[bytes]) -> Any:
    """All the members of a set."""
    return list(_members(server, args[1]))


def sismember(server: Server, client: Client, args: list[bytes]) -> Any:
    """Whether a value is a member of a set."""
    return int(args[2] in _members(server, args[1]))


def smismember(server: Server, client: Client, args: list[bytes]) -> Any:
    """Whether each of several values is a member of a set."""
    members = _members(server, args[1])
    return [int(member in members) for member in args[2:]]


def scard(server: Server, client: Client, args: list[bytes]) -> Any:
    """The number of members of a set."""
    return len(_members(server, args[1]))


def spop(server: Server, client: Client, args: list[bytes]) -> Any:
    """Remove and return random members of a set."""
    if len(args) > 3:
        raise syntaxError()
    count = parseDecimal(args[2]) if len(args) == 3 else 1
    if count is None or count < 0:
        raise ReplyError("ERR value is out of range, must be positive")
    chosen = pick(_members(server, args[1]), count)
    server.store.removeItems(args[1], Set, chosen)
    if len(args) == 3:
        return chosen
    return chosen[0] if chosen else None


def srandmember(server: Server, client: Client, args: list[bytes]) -> Any:
    """Random members of a set, left in it."""
    if len(args) > 3:
        raise syntaxError()
    if len(args) == 2:
        members = _members(server, args[1])
        return pick(members, 1)[0] if members else None
    count = parseCount(args[2])
    return pick(_members(server, args[1]), count)


def sscan(server: Server, client: Client, args: list[bytes]) -> Any:
    """Iterate over the members of a set with a cursor."""
    cursor, count, match = parseScan(args, globMatcher)
    nextCursor, found = scanStep(_members(server, args[1]), cursor, count)
    if match is not None:
        found = [member for member in found if match(member)]
    return [b"%d" % nextCursor, found]
