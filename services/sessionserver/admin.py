"""
Connection and server commands: PING, ECHO, SELECT, CLIENT, COMMAND, INFO,
CONFIG GET, DBSIZE, FLUSHDB, FLUSHALL.
"""

import os
import sys

from services.sessionserver.keyspace import globMatcher
from services.sessionserver.resp import OK, ReplyError, Status
from services.sessionserver.table import (
    COMMANDS, SERVER_VERSION, command, parseInteger, syntaxError, unknownSubcommand,
    wrongArity)

__all__ = ["checkClientName", "infoText"]


@command("ping", -1, "fast", group="connection")
def ping(server, client, args):
    """Ping the server."""
    if len(args) > 2:
        raise wrongArity("ping")
    return args[1] if len(args) == 2 else Status("PONG")


@command("echo", 2, "fast", group="connection")
def echo(server, client, args):
    """Echo the argument."""
    return args[1]


@command("select", 2, "loading stale fast", group="connection")
def select(server, client, args):
    """Select the logical database (only 0 exists)."""
    if parseInteger(args[1]) != 0:
        raise ReplyError("ERR DB index is out of range")
    return OK


@command("dbsize", 1, "readonly fast", group="server")
def dbsize(server, client, args):
    """The number of keys."""
    return len(server.store)


def _flush(server, args):
    if len(args) > 2 or (len(args) == 2 and args[1].upper() not in (b"ASYNC", b"SYNC")):
        raise syntaxError()
    server.store.flush()
    return OK


@command("flushdb", -1, "write", group="server")
def flushdb(server, client, args):
    """Remove every key."""
    return _flush(server, args)


@command("flushall", -1, "write", group="server")
def flushall(server, client, args):
    """Remove every key."""
    return _flush(server, args)


def checkClientName(name):
    """
    Refuse client names with spaces, newlines or special characters.
    """
    if any(c < 33 or c > 126 for c in name):
        raise ReplyError("ERR Client names cannot contain spaces, newlines or "
                         "special characters.")


def _subcommand(args, table, name):
    """
    Find and arity-check the subcommand C{args[1]} of C{name} in C{table}
    (subcommand to C{(arity, handler)}).
    """
    sub = args[1].lower()
    if sub not in table:
        raise unknownSubcommand(args)
    arity, handler = table[sub]
    if (arity > 0 and len(args) != arity) or (arity < 0 and len(args) < -arity):
        raise wrongArity(f"{name}|{sub.decode()}")
    return handler


def _help(name, lines):
    """
    The C{(arity, handler)} of C{name HELP}: Redis's help reply, one status
    line per row, for the subcommands described by C{lines}.
    """
    reply = [Status(line) for line in
             [f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
              *lines, "HELP", "    Prints this help."]]
    return 2, lambda server, client, args: reply


def _clientSetName(server, client, args):
    checkClientName(args[2])
    client.name = args[2] or None
    return OK


def _clientSetInfo(server, client, args):
    attribute = args[2].lower()
    if attribute not in (b"lib-name", b"lib-ver"):
        raise ReplyError(f"ERR Unrecognized option '{args[2].decode('utf-8', 'replace')}'")
    if any(c < 33 or c > 126 for c in args[3]):
        raise ReplyError(f"ERR {attribute.decode()} cannot contain spaces, newlines "
                         "or special characters.")
    if attribute == b"lib-name":
        client.libName = args[3]
    else:
        client.libVersion = args[3]
    return OK


def _clientInfo(server, client, args):
    return _clientLine(client).encode() + b"\n"


def _clientList(server, client, args):
    return "".join(_clientLine(c) + "\n" for c in server.clients.values()).encode()


def _clientLine(client):
    name = (client.name or b"").decode("utf-8", "replace")
    return (f"id={client.id} addr={client.address} name={name} db=0 "
            f"resp={3 if client.resp3 else 2} "
            f"lib-name={(client.libName or b'').decode('utf-8', 'replace')} "
            f"lib-ver={(client.libVersion or b'').decode('utf-8', 'replace')}")


_CLIENT = {
    b"id": (2, lambda server, client, args: client.id),
    b"getname": (2, lambda server, client, args: client.name),
    b"setname": (3, _clientSetName),
    b"setinfo": (4, _clientSetInfo),
    b"info": (2, _clientInfo),
    b"list": (-2, _clientList),
    b"help": _help("CLIENT", [
        "GETNAME", "    Return the name of the current connection.",
        "ID", "    Return the ID of the current connection.",
        "INFO", "    Return information about the current client connection.",
        "LIST", "    Return information about client connections.",
        "SETNAME <name>", "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>", "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.", "    * LIB-VER: the client lib version."]),
}


@command("client", -2, "", group="connection")
def client_(server, client, args):
    """Connection state: ID, SETNAME, GETNAME, SETINFO, INFO, LIST, HELP."""
    return _subcommand(args, _CLIENT, "client")(server, client, args)


def _commandInfo(entry):
    return [entry.name.encode(), entry.arity, [Status(f) for f in entry.flags],
            entry.firstKey, entry.lastKey, entry.step,
            [Status("@" + entry.group)], [], [], []]


def _commandDoc(entry):
    return {b"summary": entry.summary.encode(), b"since": entry.since.encode(),
            b"group": entry.group.encode()}


def _entries(args):
    if len(args) == 2:
        return sorted(COMMANDS.values(), key=lambda e: e.name)
    return [COMMANDS.get(name.lower()) for name in args[2:]]


def _commandDocs(server, client, args):
    return {e.name.encode(): _commandDoc(e) for e in _entries(args) if e is not None}


_COMMAND = {
    b"count": (2, lambda server, client, args: len(COMMANDS)),
    b"info": (-2, lambda server, client, args: [
        _commandInfo(e) if e is not None else None for e in _entries(args)]),
    b"docs": (-2, _commandDocs),
    b"list": (-2, lambda server, client, args: sorted(n for n in COMMANDS)),
    b"help": _help("COMMAND", [
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


@command("command", -1, "loading stale", group="server", since="2.8.13")
def command_(server, client, args):
    """Describe the commands: COUNT, INFO, DOCS, LIST, HELP."""
    if len(args) == 1:
        return [_commandInfo(e) for e in sorted(COMMANDS.values(), key=lambda e: e.name)]
    return _subcommand(args, _COMMAND, "command")(server, client, args)


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


def _configGet(server, client, args):
    matches = [globMatcher(pattern.lower()) for pattern in args[2:]]
    return {name.encode(): value.encode() for name, value in _config(server).items()
            if any(match(name.encode()) for match in matches)}


_CONFIG = {
    b"get": (-3, _configGet),
    b"help": _help("CONFIG", [
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values."]),
}


@command("config", -2, "", group="server")
def config(server, client, args):
    """Read the configuration (GET, HELP)."""
    return _subcommand(args, _CONFIG, "config")(server, client, args)


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


def infoText(server, wanted=()):
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


@command("info", -1, "loading stale", group="server")
def info(server, client, args):
    """Information and statistics about the server."""
    return infoText(server, [a.decode("utf-8", "replace") for a in args[1:]]).encode()
