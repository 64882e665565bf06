"""
Connection commands: PING, ECHO, SELECT, CLIENT, AUTH, HELLO, QUIT, RESET.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.sessionserver.handling import (
    SERVER_VERSION, parseInteger, subcommand, subcommandHelp, syntaxError, wrongArity)
from services.sessionserver.resp import OK, ReplyError, Status

if TYPE_CHECKING:
    from services.sessionserver.commands import Client, Server

__all__ = ["checkClientName", "ping", "echo", "select", "client_", "auth", "hello",
           "quit_", "reset"]


def ping(server: Server, client: Client, args: list[bytes]) -> Any:
    """Ping the server."""
    if len(args) > 2:
        raise wrongArity("ping")
    return args[1] if len(args) == 2 else Status("PONG")


def echo(server: Server, client: Client, args: list[bytes]) -> Any:
    """Echo the argument."""
    return args[1]


def select(server: Server, client: Client, args: list[bytes]) -> Any:
    """Select the logical database (only 0 exists)."""
    if parseInteger(args[1]) != 0:
        raise ReplyError("ERR DB index is out of range")
    return OK


def checkClientName(name: bytes) -> None:
    """
    Refuse client names with spaces, newlines or special characters.
    """
    if any(c < 33 or c > 126 for c in name):
        raise ReplyError("ERR Client names cannot contain spaces, newlines or "
                         "special characters.")


def _clientSetName(server: Server, client: Client, args: list[bytes]) -> Any:
    checkClientName(args[2])
    client.name = args[2] or None
    return OK


def _clientSetInfo(server: Server, client: Client, args: list[bytes]) -> Any:
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


def _clientInfo(server: Server, client: Client, args: list[bytes]) -> Any:
    return _clientLine(client).encode() + b"\n"


def _clientList(server: Server, client: Client, args: list[bytes]) -> Any:
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
    b"help": subcommandHelp("CLIENT", [
        "GETNAME", "    Return the name of the current connection.",
        "ID", "    Return the ID of the current connection.",
        "INFO", "    Return information about the current client connection.",
        "LIST", "    Return information about client connections.",
        "SETNAME <name>", "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>", "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.", "    * LIB-VER: the client lib version."]),
}


def client_(server: Server, client: Client, args: list[bytes]) -> Any:
    """Connection state: ID, SETNAME, GETNAME, SETINFO, INFO, LIST, HELP."""
    return subcommand(args, _CLIENT, "client")(server, client, args)


def auth(server: Server, client: Client, args: list[bytes]) -> Any:
    """Authenticate the connection."""
    if len(args) > 3:
        return syntaxError()
    if server.password is None and len(args) == 2:
        return ReplyError(
            "ERR AUTH <password> called without any password configured for the "
            "default user. Are you sure your configuration is correct?")
    username = args[1] if len(args) == 3 else b"default"
    return server.authenticate(client, username, args[-1]) or OK


def _helloOptions(args):
    """
    HELLO's AUTH and SETNAME options as C{(credentials or None, name or None)}.
    """
    credentials = name = None
    j = 2
    while j < len(args):
        option = args[j].upper()
        if option == b"AUTH" and j + 2 < len(args):
            credentials = (args[j + 1], args[j + 2])
            j += 3
        elif option == b"SETNAME" and j + 1 < len(args):
            name = args[j + 1]
            j += 2
        else:
            text = args[j].decode("utf-8", "replace")
            raise ReplyError(f"ERR Syntax error in HELLO option '{text}'")
    return credentials, name


def hello(server: Server, client: Client, args: list[bytes]) -> Any:
    """Handshake: choose the protocol version, authenticate, name the client."""
    version = 3 if client.resp3 else 2
    if len(args) > 1:
        version = parseInteger(args[1], "ERR Protocol version is not an integer or out of range")
        if not 2 <= version <= 3:
            return ReplyError("NOPROTO unsupported protocol version")
    credentials, name = _helloOptions(args)
    if credentials is not None:
        error = server.authenticate(client, *credentials)
        if error is not None:
            return error
    if not client.authenticated:
        return ReplyError(
            "NOAUTH HELLO must be called with the client already authenticated, "
            "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
            "authenticate the client and select the RESP protocol version at the "
            "same time")
    if name is not None:
        checkClientName(name)
        client.name = name or None
    client.resp3 = version == 3
    return {b"server": b"redis", b"version": SERVER_VERSION.encode(), b"proto": version,
            b"id": client.id, b"mode": b"standalone", b"role": b"master",
            b"modules": []}


def quit_(server: Server, client: Client, args: list[bytes]) -> Any:
    """Close the connection."""
    client.closing = True
    return OK


def reset(server: Server, client: Client, args: list[bytes]) -> Any:
    """Reset the connection's state."""
    client.transaction, client.transactionFailed = None, False
    client.resp3 = False
    client.name = None
    client.authenticated = server.password is None
    return Status("RESET")

