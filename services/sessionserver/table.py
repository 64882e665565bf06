"""
The command table: every command the session server knows, listed here by
group (strings, keys, connection, server, transactions) with its handler,
arity, flags, key positions and the version that introduced it, as Redis
declares them. C{COMMAND} and C{COMMAND DOCS} report these entries.

To add a command, write its handler in the module of its group (L{keyspace},
L{strings} and L{keyops} for strings and keys, L{connection}, L{admin} for
server commands, L{transactions}; see L{services.sessionserver.handling})
and add its row below.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.sessionserver import (
    admin, connection, hashes, keyops, keyspace, sets, strings, transactions)

__all__ = ["Command", "COMMANDS", "STRINGS", "KEYS", "CONNECTION", "SERVER", "TRANSACTIONS",
           "HASHES", "SETS"]


@dataclass(frozen=True)
class Command:
    """
    One entry of the command table.

    @ivar name: lower-case name.
    @ivar handler: C{handler(server, client, args)}, returning the reply.
    @ivar arity: the exact argument count including the name, or its
        negation for a minimum.
    @ivar flags: Redis's flags (C{write}, C{readonly}, C{denyoom}, C{fast},
        C{no-auth}, ...), as reported by C{COMMAND}.
    @ivar firstKey: the position of the first key argument (0: none).
    @ivar lastKey: the position of the last key argument, negative from
        the end.
    @ivar step: the distance between key arguments.
    @ivar group: Redis's command group, as reported by C{COMMAND DOCS}.
    @ivar summary: one line for C{COMMAND DOCS}.
    @ivar since: the Redis version that introduced the command.
    @ivar subcommands: for a container command (C{CLIENT}, C{CONFIG}, ...),
        its subcommands: lower-case name (C{bytes}) to C{(arity, handler)}.
    @ivar differs: for the command matrix, how it differs from Redis's
        (empty when it does not).
    """

    name: str
    handler: Callable[..., Any] = field(repr=False)
    arity: int
    flags: tuple[str, ...]
    firstKey: int = 0
    lastKey: int = 0
    step: int = 0
    group: str = "generic"
    summary: str = ""
    since: str = "1.0.0"
    subcommands: Mapping[bytes, tuple[int, Callable[..., Any]]] = field(
        default_factory=dict, repr=False)
    differs: str = ""

    def arityOK(self, count: int) -> bool:
        """
        Whether C{count} arguments (including the name) are acceptable.
        """
        return count == self.arity if self.arity > 0 else count >= -self.arity


def _group(group):
    """
    A function making the L{Command} rows of C{group}, each summarised by
    the first line of its handler's docstring.
    """
    def row(name, handler, arity, flags="", keys=(0, 0, 0), since="1.0.0",
            subcommands=None, differs=""):
        summary = (handler.__doc__ or "").strip().split("\n")[0]
        return Command(name, handler, arity, tuple(flags.split()), *keys, group=group,
                       summary=summary, since=since, subcommands=subcommands or {},
                       differs=differs)
    return row


_string, _key = _group("string"), _group("keyspace")
_hash, _set = _group("hash"), _group("set")
_connection, _server, _transaction = _group("connection"), _group("server"), \
    _group("transactions")
_WRITE = "write denyoom"
_ONE = (1, 1, 1)
_ALL = (1, -1, 1)

STRINGS = (
    _string("get", keyspace.get, 2, "readonly fast", _ONE),
    _string("set", keyspace.set_, -3, _WRITE, _ONE),
    _string("setnx", keyspace.setnx, 3, _WRITE + " fast", _ONE),
    _string("setex", keyspace.setex, 4, _WRITE, _ONE),
    _string("psetex", keyspace.psetex, 4, _WRITE, _ONE),
    _string("getex", keyspace.getex, -2, "write fast", _ONE, since="6.2.0"),
    _string("getdel", keyspace.getdel, 2, "write fast", _ONE, since="6.2.0"),
    _string("mget", keyspace.mget, -2, "readonly fast", _ALL),
    _string("mset", keyspace.mset, -3, _WRITE, (1, -1, 2)),
    _string("incr", keyspace.incr, 2, _WRITE + " fast", _ONE),
    _string("decr", keyspace.decr, 2, _WRITE + " fast", _ONE),
    _string("incrby", keyspace.incrby, 3, _WRITE + " fast", _ONE),
    _string("decrby", keyspace.decrby, 3, _WRITE + " fast", _ONE),
    _string("append", keyspace.append, 3, _WRITE, _ONE, since="2.0.0"),
    _string("strlen", keyspace.strlen, 2, "readonly fast", _ONE, since="2.2.0"),
    _string("getset", strings.getset, 3, _WRITE + " fast", _ONE),
    _string("incrbyfloat", strings.incrbyfloat, 3, _WRITE + " fast", _ONE, since="2.6.0",
            differs="computed in double precision (Redis: long double)"),
    _string("setrange", strings.setrange, 4, _WRITE, _ONE, since="2.2.0"),
    _string("getrange", strings.getrange, 4, "readonly", _ONE, since="2.4.0"),
    _string("msetnx", strings.msetnx, -3, _WRITE, (1, -1, 2), since="1.0.1"),
)
"""String commands."""

KEYS = (
    _key("del", keyspace.del_, -2, "write", _ALL),
    _key("unlink", keyspace.unlink, -2, "write fast", _ALL, since="4.0.0"),
    _key("exists", keyspace.exists, -2, "readonly fast", _ALL),
    _key("expire", keyspace.expire, -3, "write fast", _ONE),
    _key("pexpire", keyspace.pexpire, -3, "write fast", _ONE, since="2.6.0"),
    _key("expireat", keyspace.expireat, -3, "write fast", _ONE, since="1.2.0"),
    _key("pexpireat", keyspace.pexpireat, -3, "write fast", _ONE, since="2.6.0"),
    _key("ttl", keyspace.ttl, 2, "readonly fast", _ONE),
    _key("pttl", keyspace.pttl, 2, "readonly fast", _ONE, since="2.6.0"),
    _key("persist", keyspace.persist, 2, "write fast", _ONE, since="2.2.0"),
    _key("type", keyspace.type_, 2, "readonly fast", _ONE),
    _key("keys", keyspace.keys, 2, "readonly"),
    _key("scan", keyspace.scan, -2, "readonly", since="2.8.0"),
    _key("rename", keyops.rename, 3, "write", (1, 2, 1)),
    _key("renamenx", keyops.renamenx, 3, "write fast", (1, 2, 1)),
    _key("copy", keyops.copy, -3, _WRITE, (1, 2, 1), since="6.2.0",
         differs="only DB 0 exists"),
    _key("randomkey", keyops.randomkey, 1, "readonly"),
    _key("touch", keyops.touch, -2, "readonly fast", _ALL, since="3.2.1"),
    _key("expiretime", keyops.expiretime, 2, "readonly fast", _ONE, since="7.0.0"),
    _key("pexpiretime", keyops.pexpiretime, 2, "readonly fast", _ONE, since="7.0.0"),
    _key("object", keyops.object_, -2, "", since="2.2.3", subcommands=keyops.OBJECT_SUBCOMMANDS,
         differs="no IDLETIME; a string's encoding follows its value, not how it was "
                 "written"),
)
"""Key commands: deletion, existence, expiry, listing."""

HASHES = (
    _hash("hset", hashes.hset, -4, _WRITE + " fast", _ONE, since="2.0.0"),
    _hash("hmset", hashes.hmset, -4, _WRITE + " fast", _ONE, since="2.0.0"),
    _hash("hsetnx", hashes.hsetnx, 4, _WRITE + " fast", _ONE, since="2.0.0"),
    _hash("hget", hashes.hget, 3, "readonly fast", _ONE, since="2.0.0"),
    _hash("hmget", hashes.hmget, -3, "readonly fast", _ONE, since="2.0.0"),
    _hash("hgetall", hashes.hgetall, 2, "readonly", _ONE, since="2.0.0"),
    _hash("hdel", hashes.hdel, -3, "write fast", _ONE, since="2.0.0"),
    _hash("hexists", hashes.hexists, 3, "readonly fast", _ONE, since="2.0.0"),
    _hash("hlen", hashes.hlen, 2, "readonly fast", _ONE, since="2.0.0"),
    _hash("hkeys", hashes.hkeys, 2, "readonly", _ONE, since="2.0.0"),
    _hash("hvals", hashes.hvals, 2, "readonly", _ONE, since="2.0.0"),
    _hash("hincrby", hashes.hincrby, 4, _WRITE + " fast", _ONE, since="2.0.0"),
    _hash("hincrbyfloat", hashes.hincrbyfloat, 4, _WRITE + " fast", _ONE, since="2.6.0"),
    _hash("hstrlen", hashes.hstrlen, 3, "readonly fast", _ONE, since="3.2.0"),
    _hash("hrandfield", hashes.hrandfield, -2, "readonly", _ONE, since="6.2.0"),
    _hash("hscan", hashes.hscan, -3, "readonly", _ONE, since="2.8.0"),
)
"""Hash commands."""

SETS = (
    _set("sadd", sets.sadd, -3, _WRITE + " fast", _ONE),
    _set("srem", sets.srem, -3, "write fast", _ONE),
    _set("smembers", sets.smembers, 2, "readonly", _ONE),
    _set("sismember", sets.sismember, 3, "readonly fast", _ONE),
    _set("smismember", sets.smismember, -3, "readonly fast", _ONE, since="6.2.0"),
    _set("scard", sets.scard, 2, "readonly fast", _ONE),
    _set("spop", sets.spop, -2, "write fast", _ONE),
    _set("srandmember", sets.srandmember, -2, "readonly", _ONE),
    _set("sscan", sets.sscan, -3, "readonly", _ONE, since="2.8.0"),
)
"""Set commands."""

CONNECTION = (
    _connection("ping", connection.ping, -1, "fast"),
    _connection("echo", connection.echo, 2, "fast"),
    _connection("select", connection.select, 2, "loading stale fast"),
    _connection("client", connection.client_, -2,
                subcommands=connection.CLIENT_SUBCOMMANDS,
                differs="LIST, INFO, KILL, NO-EVICT, ID, SETNAME, GETNAME, SETINFO only; "
                        "buffer fields (qbuf, omem, ...) show 0"),
    _connection("auth", connection.auth, -2, "no-auth fast"),
    _connection("hello", connection.hello, -1, "no-auth fast", since="6.0.0"),
    _connection("quit", connection.quit_, -1, "no-auth fast"),
    _connection("reset", connection.reset, 1, "no-auth fast", since="6.2.0"),
)
"""Connection commands."""

SERVER = (
    _server("dbsize", admin.dbsize, 1, "readonly fast"),
    _server("flushdb", admin.flushdb, -1, "write"),
    _server("flushall", admin.flushall, -1, "write"),
    _server("command", admin.command_, -1, "loading stale", since="2.8.13",
            subcommands=admin.COMMAND_SUBCOMMANDS,
            differs="no GETKEYSANDFLAGS, key specs or tips"),
    _server("config", admin.config, -2, subcommands=admin.CONFIG_SUBCOMMANDS,
            differs="SET changes maxmemory, maxmemory-policy (noeviction, volatile-lru, "
                    "allkeys-lru, volatile-ttl), requirepass, appendfsync; no REWRITE"),
    _server("info", admin.info, -1, "loading stale",
            differs="no latencystats; buffer and fork fields absent"),
    _server("time", keyops.time, 1, "loading stale fast", since="2.6.0"),
    _server("swapdb", keyops.swapdb, 3, "fast", since="4.0.0",
            differs="refused: only DB 0 exists"),
)
"""Server commands."""

TRANSACTIONS = (
    _transaction("multi", transactions.multi, 1, "no-script fast", since="1.2.0"),
    _transaction("exec", transactions.exec_, 1, "no-script", since="1.2.0"),
    _transaction("discard", transactions.discard, 1, "no-script fast", since="2.0.0"),
    _transaction("watch", transactions.watch, -2, "no-script loading stale fast", _ALL,
                 since="2.2.0"),
    _transaction("unwatch", transactions.unwatch, 1, "no-script loading stale fast",
                 since="2.2.0"),
)
"""Transaction commands."""


def _index(*groups):
    """
    The commands of C{groups} by lower-case name (C{bytes}).

    @raise ValueError: if two rows share a name.
    """
    table = {}
    for entry in (entry for group in groups for entry in group):
        if entry.name.encode() in table:
            raise ValueError(f"the command {entry.name} is listed twice")
        table[entry.name.encode()] = entry
    return table


COMMANDS = _index(STRINGS, KEYS, CONNECTION, SERVER, TRANSACTIONS, HASHES, SETS)
"""Lower-case command name (C{bytes}) to L{Command}."""
