"""
What every command handler shares: the Redis version reported, argument
parsing, Redis's common error replies and subcommand dispatch.

A handler is C{handler(server, client, args)} where C{args[0]} is the command
name as sent; it returns a reply value (see L{resp.encode}) or raises
L{ReplyError}. The handlers live in L{keyspace} (strings and keys),
L{connection}, L{admin} (server) and L{transactions};
L{services.sessionserver.table} lists them.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from services.resp import ReplyError, Status, parseDecimal

__all__ = ["parseInteger", "wrongArity", "syntaxError", "unknownSubcommand",
           "subcommand", "subcommandHelp", "INTEGER_ERROR", "SERVER_VERSION"]

SERVER_VERSION = "7.0.0"
"""The Redis version whose behaviour we follow, as reported to clients."""

INTEGER_ERROR = "ERR value is not an integer or out of range"


def parseInteger(value: bytes, error: str = INTEGER_ERROR) -> int:
    """
    A signed 64-bit integer argument, or a L{ReplyError} with C{error}.
    """
    number = parseDecimal(value)
    if number is None:
        raise ReplyError(error)
    return number


def wrongArity(name: str) -> ReplyError:
    """
    The error for a wrong number of arguments to C{name} (like C{get} or
    C{client|setname}).
    """
    return ReplyError(f"ERR wrong number of arguments for '{name}' command")


def syntaxError() -> ReplyError:
    """
    Redis's generic syntax error.
    """
    return ReplyError("ERR syntax error")


def unknownSubcommand(args: Sequence[bytes]) -> ReplyError:
    """
    The error for an unknown subcommand of C{args[0]}.
    """
    sub = args[1].decode("utf-8", "replace")[:128]
    return ReplyError(f"ERR unknown subcommand '{sub}'. Try "
                      f"{args[0].decode('utf-8', 'replace').upper()} HELP.")


def subcommand(args: Sequence[bytes], table: Mapping[bytes, tuple[int, Callable[..., Any]]],
               name: str) -> Callable[..., Any]:
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


def subcommandHelp(name: str, lines: Sequence[str]) -> tuple[int, Callable[..., Any]]:
    """
    The C{(arity, handler)} of C{name HELP}: Redis's help reply, one status
    line per row, for the subcommands described by C{lines}.
    """
    reply = [Status(line) for line in
             [f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
              *lines, "HELP", "    Prints this help."]]
    return 2, lambda server, client, args: reply
