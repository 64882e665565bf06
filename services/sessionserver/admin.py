"""
Server commands: DBSIZE, FLUSHDB, FLUSHALL, COMMAND (describing the
server's command table, C{server.commands}), CONFIG (GET, SET, RESETSTAT),
INFO (see L{services.sessionserver.serverinfo}).

C{CONFIG SET} changes at run time C{maxmemory} (a size with Redis's units:
C{b}, C{k}, C{kb}, C{m}, C{mb}, C{g}, C{gb}), C{maxmemory-policy},
C{requirepass} (new connections must then authenticate; an empty value
removes the password) and C{appendfsync} (kept and reported without a
journal, as Redis does with C{appendonly no}). The other parameters
C{CONFIG GET} reports are fixed: setting one to its current value is
accepted, any other value refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.sessionserver.handling import subcommand, subcommandHelp, syntaxError
from services.sessionserver.keyspace import globMatcher
from services.resp import OK, ReplyError, Status
from services.sessionserver.serverinfo import infoText
from services.sessionserver.store import POLICIES

if TYPE_CHECKING:
    from services.sessionserver.commands import Client, Server

__all__ = ["dbsize", "flushdb", "flushall", "command_", "config", "info", "infoText",
           "COMMAND_SUBCOMMANDS", "CONFIG_SUBCOMMANDS", "FSYNC_POLICIES", "parseMemory"]


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


def _categories(entry):
    """
    The command's ACL categories, as Redis lists them: read or write, its
    group, fast or slow.
    """
    access = ["@write"] if "write" in entry.flags else \
        ["@read"] if "readonly" in entry.flags else []
    speed = "@fast" if "fast" in entry.flags else "@slow"
    return [Status(c) for c in access + ["@" + entry.group, speed]]


def _subcommandInfo(entry, name, arity):
    return [f"{entry.name}|{name.decode()}".encode(), arity,
            [Status(f) for f in entry.flags], 0, 0, 0, _categories(entry), [], [], []]


def _commandInfo(entry):
    return [entry.name.encode(), entry.arity, [Status(f) for f in entry.flags],
            entry.firstKey, entry.lastKey, entry.step, _categories(entry), [], [],
            [_subcommandInfo(entry, name, arity)
             for name, (arity, handler) in sorted(entry.subcommands.items())]]


def _commandDoc(entry):
    doc: dict[bytes, Any] = {b"summary": entry.summary.encode(),
                             b"since": entry.since.encode(), b"group": entry.group.encode()}
    if entry.subcommands:
        doc[b"subcommands"] = {
            f"{entry.name}|{name.decode()}".encode(): {
                b"summary": (handler.__doc__ or "").strip().split("\n")[0].encode(),
                b"since": entry.since.encode(), b"group": entry.group.encode()}
            for name, (arity, handler) in sorted(entry.subcommands.items())}
    return doc


def _sortedEntries(server):
    return sorted(server.commands.values(), key=lambda e: e.name)


def _entries(server, args):
    if len(args) == 2:
        return _sortedEntries(server)
    return [server.commands.get(name.lower()) for name in args[2:]]


def _commandDocs(server: Server, client: Client, args: list[bytes]) -> Any:
    return {e.name.encode(): _commandDoc(e) for e in _entries(server, args) if e is not None}


def _commandGetKeys(server: Server, client: Client, args: list[bytes]) -> Any:
    """Extract keys given a full Redis command."""
    command = args[2:]
    entry = server.commands.get(command[0].lower())
    if entry is None:
        raise ReplyError("ERR Invalid command specified")
    if not entry.firstKey:
        raise ReplyError("ERR The command has no key arguments")
    if not entry.arityOK(len(command)):
        raise ReplyError("ERR Invalid number of arguments specified for command")
    last = entry.lastKey if entry.lastKey > 0 else len(command) + entry.lastKey
    return command[entry.firstKey:last + 1:entry.step]


COMMAND_SUBCOMMANDS = {
    b"count": (2, lambda server, client, args: len(server.commands)),
    b"getkeys": (-4, _commandGetKeys),
    b"info": (-2, lambda server, client, args: [
        _commandInfo(e) if e is not None else None for e in _entries(server, args)]),
    b"docs": (-2, _commandDocs),
    b"list": (-2, lambda server, client, args: sorted(server.commands)),
    b"help": subcommandHelp("COMMAND", [
        "(no subcommand)", "    Return details about all Redis commands.",
        "COUNT", "    Return the total number of commands in this Redis server.",
        "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
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
"""COMMAND's subcommands: name to C{(arity, handler)}."""


def command_(server: Server, client: Client, args: list[bytes]) -> Any:
    """Describe the commands: COUNT, INFO, DOCS, LIST, HELP."""
    if len(args) == 1:
        return [_commandInfo(e) for e in _sortedEntries(server)]
    return subcommand(args, COMMAND_SUBCOMMANDS, "command")(server, client, args)


FSYNC_POLICIES = ("always", "everysec", "no")
"""C{appendfsync}'s values."""

_MEMORY = re.compile(rb"(\d+)(b|k|kb|m|mb|g|gb)?")
_UNITS = {None: 1, b"b": 1, b"k": 1000, b"kb": 1024, b"m": 1000 ** 2, b"mb": 1024 ** 2,
          b"g": 1000 ** 3, b"gb": 1024 ** 3}


def parseMemory(value: bytes) -> int:
    """
    A size as Redis's configuration takes it: digits, then optionally a
    unit (C{b}, C{k}=1000, C{kb}=1024, C{m}, C{mb}, C{g}, C{gb}, in any case).

    @raise ValueError: with Redis's reason if it is not one.
    """
    match = _MEMORY.fullmatch(value.lower())
    if match is None:
        raise ValueError("argument must be a memory value")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _choice(values):
    """
    A parser accepting one of C{values} (any case), refusing others with
    Redis's reason.
    """
    def parse(value):
        text = value.decode("utf-8", "replace").lower()
        if text not in values:
            raise ValueError("argument(s) must be one of the following: " + ", ".join(values))
        return text
    return parse


@dataclass(frozen=True)
class _Parameter:
    """
    One parameter of CONFIG: how to read it, and for one that can change at
    run time, how to parse and apply a new value.
    """

    get: Callable[[Any], str]
    parse: Callable[[bytes], Any] | None = None
    apply: Callable[[Any, Any], None] | None = None


def _setPassword(server, password):
    server.password = password or None


_PARAMETERS = {
    "save": _Parameter(lambda server: ""),
    "appendonly": _Parameter(lambda server: "yes" if server.journal is not None else "no"),
    "appendfsync": _Parameter(lambda server: server.fsync, _choice(FSYNC_POLICIES),
                              lambda server, policy: server.setFsync(policy)),
    "maxmemory": _Parameter(
        lambda server: str(server.store.maxmemory), parseMemory,
        lambda server, size: server.store.configure(size, server.store.policy)),
    "maxmemory-policy": _Parameter(
        lambda server: server.store.policy, _choice(POLICIES),
        lambda server, policy: server.store.configure(server.store.maxmemory, policy)),
    "requirepass": _Parameter(
        lambda server: (server.password or b"").decode("utf-8", "replace"), bytes,
        _setPassword),
    "databases": _Parameter(lambda server: "1"),
    "timeout": _Parameter(lambda server: "0"),
    "port": _Parameter(lambda server: str(server.ports[0] if server.ports else 0)),
    "proto-max-bulk-len": _Parameter(lambda server: str(512 * 1024 * 1024)),
}


def _configGet(server: Server, client: Client, args: list[bytes]) -> Any:
    """Return parameters matching the glob-like patterns and their values."""
    matches = [globMatcher(pattern.lower()) for pattern in args[2:]]
    return {name.encode(): parameter.get(server).encode()
            for name, parameter in _PARAMETERS.items()
            if any(match(name.encode()) for match in matches)}


def _setFailed(name, reason):
    return ReplyError(f"ERR CONFIG SET failed (possibly related to argument '{name}') - "
                      f"{reason}")


def _parsed(server, name, value):
    """
    C{(parameter, parsed value)} for C{CONFIG SET name value}, or a
    L{ReplyError} refusing it.
    """
    parameter = _PARAMETERS.get(name)
    if parameter is None:
        raise ReplyError(f"ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
    if parameter.parse is None:
        if value.decode("utf-8", "replace").lower() == parameter.get(server):
            return parameter, None
        raise _setFailed(name, "can't set immutable config")
    try:
        return parameter, parameter.parse(value)
    except ValueError as e:
        raise _setFailed(name, e) from None


def _configSet(server: Server, client: Client, args: list[bytes]) -> Any:
    """Set parameters to values, all or none of them."""
    if len(args) % 2:
        raise syntaxError()
    changes = {}
    for raw, value in zip(args[2::2], args[3::2], strict=True):
        name = raw.decode("utf-8", "replace").lower()
        if name in changes:
            raise _setFailed(name, "duplicate parameter")
        changes[name] = _parsed(server, name, value)
    for parameter, value in changes.values():
        if parameter.apply is not None:
            parameter.apply(server, value)
    return OK


def _configResetStat(server: Server, client: Client, args: list[bytes]) -> Any:
    """Reset the statistics INFO reports."""
    server.resetStats()
    return OK


CONFIG_SUBCOMMANDS = {
    b"get": (-3, _configGet),
    b"set": (-4, _configSet),
    b"resetstat": (2, _configResetStat),
    b"help": subcommandHelp("CONFIG", [
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command."]),
}
"""CONFIG's subcommands: name to C{(arity, handler)}."""


def config(server: Server, client: Client, args: list[bytes]) -> Any:
    """Read and change the configuration (GET, SET, RESETSTAT, HELP)."""
    return subcommand(args, CONFIG_SUBCOMMANDS, "config")(server, client, args)


def info(server: Server, client: Client, args: list[bytes]) -> Any:
    """Information and statistics about the server."""
    return infoText(server, [a.decode("utf-8", "replace") for a in args[1:]]).encode()
