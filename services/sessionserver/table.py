"""
The command table: every command the session server knows, with its arity
and flags as Redis declares them, and helpers shared by command handlers.

A handler is C{handler(server, client, args)} where C{args[0]} is the command
name as sent; it returns a reply value (see L{resp.encode}) or raises
L{ReplyError}.
"""

from dataclasses import dataclass, field

from services.sessionserver.resp import ReplyError, _integer

__all__ = ["Command", "COMMANDS", "command", "parseInteger", "wrongArity",
           "syntaxError", "unknownSubcommand", "INTEGER_ERROR", "SERVER_VERSION"]

SERVER_VERSION = "7.0.0"
"""The Redis version whose behaviour we follow, as reported to clients."""

INTEGER_ERROR = "ERR value is not an integer or out of range"


@dataclass(frozen=True)
class Command:
    """
    One entry of the command table.

    @ivar name: lower-case name.
    @ivar arity: the exact argument count including the name, or its
        negation for a minimum.
    @ivar flags: Redis's flags (C{write}, C{readonly}, C{denyoom}, C{fast},
        C{no-auth}, ...), as reported by C{COMMAND}.
    @ivar summary: one line for C{COMMAND DOCS}.
    """

    name: str
    handler: object = field(repr=False)
    arity: int
    flags: tuple
    firstKey: int = 0
    lastKey: int = 0
    step: int = 0
    group: str = "generic"
    summary: str = ""
    since: str = "1.0.0"

    def arityOK(self, count):
        """
        Whether C{count} arguments (including the name) are acceptable.
        """
        return count == self.arity if self.arity > 0 else count >= -self.arity


COMMANDS = {}
"""Lower-case command name (C{bytes}) to L{Command}."""


def command(name, arity, flags="", keys=(0, 0, 0), group="generic", summary="",
            since="1.0.0"):
    """
    Register the decorated function as the handler of command C{name}.
    """
    def register(handler):
        COMMANDS[name.encode()] = Command(
            name, handler, arity, tuple(flags.split()), *keys, group=group,
            summary=summary or (handler.__doc__ or "").strip().split("\n")[0],
            since=since)
        return handler
    return register


def parseInteger(value, error=INTEGER_ERROR):
    """
    A signed 64-bit integer argument, or a L{ReplyError} with C{error}.
    """
    number = _integer(value)
    if number is None:
        raise ReplyError(error)
    return number


def wrongArity(name):
    """
    The error for a wrong number of arguments to C{name} (like C{get} or
    C{client|setname}).
    """
    return ReplyError(f"ERR wrong number of arguments for '{name}' command")


def syntaxError():
    """
    Redis's generic syntax error.
    """
    return ReplyError("ERR syntax error")


def unknownSubcommand(args):
    """
    The error for an unknown subcommand of C{args[0]}.
    """
    sub = args[1].decode("utf-8", "replace")[:128]
    return ReplyError(f"ERR unknown subcommand '{sub}'. Try "
                      f"{args[0].decode('utf-8', 'replace').upper()} HELP.")
