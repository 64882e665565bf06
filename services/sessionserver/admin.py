"""
Server commands: DBSIZE, FLUSHDB, FLUSHALL, COMMAND (describing the
server's command table, C{server.commands}), CONFIG GET, INFO.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from services.sessionserver.handling import (
    SERVER_VERSION, subcommand, subcommandHelp, syntaxError)
from services.sessionserver.keyspace import globMatcher
from services.sessionserver.resp import OK, Status

if TYPE_CHECKING:
    from services.sessionserver.commands import Client, Server

__all__ = ["dbsize", "flushdb", "flushall", "command_", "config", "info", "infoText"]


def dbsize(server: Server, client: Client, args: list[bytes]) -> Any:
    """The number of keys."""
    return len(server.store)


def _flush(server, args):
    if len(args) > 2 or (len(args) == 2 and args[1].upper() not in (b"ASYNC", b"SYNC")):
        raise syntaxError()
    server.store.flush()
    return OK


def flushdb(server: Server, client: Client, args: list[bytes]) -> Any:
    """Remove every key."""
    return _flush(server, args)


def flushall(server: Server, client: Client, args: list[bytes]) -> Any:
    """Remove every key."""
    return _flush(server, args)


def _commandInfo(entry):
    return [entry.name.encode(), entry.arity, [Status(f) for f in entry.flags],
            entry.firstKey, entry.lastKey, entry.step,
            [Status("@" + entry.group)], [], [], []]


def _commandDoc(entry):
    return {b"summary": entry.summary.encode(), b"since": entry.since.encode(),
            b"group": entry.group.encode()}


def _sortedEntries(server):
    return sorted(server.commands.values(), key=lambda e: e.name)


def _entries(server, args):
    if len(args) == 2:
        return _sortedEntries(server)
    return [server.commands.get(name.lower()) for name in args[2:]]


def _commandDocs(server: Server, client: Client, args: list[bytes]) -> Any:
    return {e.name.encode(): _commandDoc(e) for e in _entries(server, args) if e is not None}


_COMMAND = {
    b"count": (2, lambda server, client, args: len(server.commands)),
    b"info": (-2, lambda server, client, args: [
        _commandInfo(e) if e is not None else None for e in _entries(server, args)]),
    b"docs": (-2, _commandDocs),
    b"list": (-2, lambda server, client, args: sorted(server.commands)),
    b"help": subcommandHelp("COMMAND", [
        "(no subcommand)", "    Return details about all Redis commands.",
        "COUNT", "    Return the total number of commands in this Redis server.",
        "LIST", "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned."]),
}


def command_(server: Server, client: Client, args: list[bytes]) -> Any:
    """Describe the commands: COUNT, INFO, DOCS, LIST, HELP."""
    if len(args) == 1:
        return [_commandInfo(e) for e in _sortedEntries(server)]
    return subcommand(args, _COMMAND, "command")(server, client, args)


def _config(server):
    store = server.store
    journal = server.journal
    return {
        "save": "",
        "appendonly": "yes" if journal is not None else "no",
        "appendfsync": journal.fsync if journal is not None else "everysec",
        "maxmemory": str(store.maxmemory),
        "maxmemory-policy": store.policy,
        "databases": "1",
        "timeout": "0",
        "port": str(server.ports[0] if server.ports else 0),
        "proto-max-bulk-len": str(512 * 1024 * 1024),
    }


def _configGet(server: Server, client: Client, args: list[bytes]) -> Any:
    matches = [globMatcher(pattern.lower()) for pattern in args[2:]]
    return {name.encode(): value.encode() for name, value in _config(server).items()
            if any(match(name.encode()) for match in matches)}


_CONFIG = {
    b"get": (-3, _configGet),
    b"help": subcommandHelp("CONFIG", [
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values."]),
}


def config(server: Server, client: Client, args: list[bytes]) -> Any:
    """Read the configuration (GET, HELP)."""
    return subcommand(args, _CONFIG, "config")(server, client, args)


def _human(size):
    for unit in ("B", "K", "M", "G"):
        if size < 1024 or unit == "G":
            return f"{size:.2f}{unit}" if unit != "B" else f"{size}B"
        size /= 1024


def _sections(server):
    store = server.store
    uptime = (store.now() - (server.startedAt or store.now())) // 1000
    persistence = server.journal.info() if server.journal is not None else {
        "loading": 0, "aof_enabled": 0, "aof_rewrite_in_progress": 0,
        "rdb_changes_since_last_save": 0}
    keyspace = {}
    if len(store):
        keyspace["db0"] = f"keys={len(store)},expires={store.volatileCount()},avg_ttl=0"
    return {
        "server": {"redis_version": SERVER_VERSION, "redis_mode": "standalone",
                   "server_name": "appserver-session-server", "os": sys.platform,
                   "arch_bits": 64, "process_id": os.getpid(),
                   "tcp_port": server.ports[0] if server.ports else 0,
                   "uptime_in_seconds": uptime, "uptime_in_days": uptime // 86400},
        "clients": {"connected_clients": len(server.clients), "blocked_clients": 0},
        "memory": {"used_memory": store.usedMemory,
                   "used_memory_human": _human(store.usedMemory),
                   "maxmemory": store.maxmemory, "maxmemory_human": _human(store.maxmemory),
                   "maxmemory_policy": store.policy},
        "persistence": persistence,
        "stats": {"total_connections_received": server.totalConnections,
                  "total_commands_processed": server.totalCommands,
                  "expired_keys": store.expiredKeys, "evicted_keys": store.evictedKeys,
                  "keyspace_hits": store.hits, "keyspace_misses": store.misses},
        "keyspace": keyspace,
    }


def infoText(server: Server, wanted: Iterable[str] = ()) -> str:
    """
    The INFO text for the sections named in C{wanted} (all when empty).
    """
    wanted = {w.lower() for w in wanted} - {"all", "default", "everything"}
    parts = []
    for name, fields in _sections(server).items():
        if wanted and name not in wanted:
            continue
        lines = [f"# {name.capitalize()}"] + [f"{k}:{v}" for k, v in fields.items()]
        parts.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(parts)


def info(server: Server, client: Client, args: list[bytes]) -> Any:
    """Information and statistics about the server."""
    return infoText(server, [a.decode("utf-8", "replace") for a in args[1:]]).encode()
