"""
Connection commands: PING, ECHO, SELECT, CLIENT, AUTH, HELLO, QUIT, RESET.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.sessionserver.handling import (
    SERVER_VERSION, parseInteger, subcommand, subcommandHelp, syntaxError, wrongArity)
from services.resp import OK, ReplyError, Status

if TYPE_CHECKING:
    from services.sessionserver.commands import Client, Server

__all__ = ["checkClientName", "ping", "echo", "select", "client_", "auth", "hello",
           "quit_", "reset", "CLIENT_SUBCOMMANDS"]


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
    """Return information about the current client connection."""
    return _clientLine(server, client).encode() + b"\n"


_CLIENT_TYPES = (b"normal", b"master", b"replica", b"slave", b"pubsub")


def _clientType(value):
    """
    Whether clients of the type named C{value} are ours (all are
    C{normal}), refusing unknown types with Redis's error.
    """
    if value.lower() not in _CLIENT_TYPES:
        raise ReplyError(f"ERR Unknown client type '{value.decode('utf-8', 'replace')}'")
    return value.lower() == b"normal"


def _listed(server, args):
    """
    The clients C{CLIENT LIST [TYPE type | ID id ...]} shows.
    """
    if len(args) == 4 and args[2].lower() == b"type":
        return list(server.clients.values()) if _clientType(args[3]) else []
    if len(args) > 3 and args[2].lower() == b"id":
        ids = [parseInteger(arg, "ERR Invalid client ID") for arg in args[3:]]
        return [server.clients[i] for i in ids if i in server.clients]
    if len(args) != 2:
        raise syntaxError()
    return list(server.clients.values())


def _clientList(server: Server, client: Client, args: list[bytes]) -> Any:
    """Return information about client connections."""
    return "".join(_clientLine(server, c) + "\n" for c in _listed(server, args)).encode()


def _text(value):
    return (value or b"").decode("utf-8", "replace")


def _flags(client):
    """
    Redis's flag letters for C{client}: C{x} in MULTI, C{c} closing after
    the reply, C{e} no-evict; C{N} for none.
    """
    return "".join(letter for letter, on in (
        ("x", client.transaction is not None), ("c", client.closing),
        ("e", client.noEvict)) if on) or "N"


def _clientLine(server, client):
    """
    One line of C{CLIENT LIST}: Redis 7's fields, in its order; buffers
    this server does not account per client show 0.
    """
    now = server.store.now()
    multi = len(client.transaction) if client.transaction is not None else -1
    return (f"id={client.id} addr={client.address} laddr={client.localAddress} "
            f"fd={client.fd} name={_text(client.name)} "
            f"age={(now - client.created) // 1000} "
            f"idle={(now - client.lastInteraction) // 1000} flags={_flags(client)} db=0 "
            f"sub=0 psub=0 ssub=0 multi={multi} qbuf=0 qbuf-free=0 argv-mem=0 "
            f"multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r "
            f"cmd={client.lastCommand or 'NULL'} user=default redir=-1 "
            f"resp={3 if client.resp3 else 2} lib-name={_text(client.libName)} "
            f"lib-ver={_text(client.libVersion)}")


def _killFilter(server, option, value):
    """
    The test C{CLIENT KILL}'s filter C{option value} puts to a client.
    """
    if option == b"id":
        wanted = parseInteger(value, "ERR client-id should be greater than 0")
        if wanted < 1:
            raise ReplyError("ERR client-id should be greater than 0")
        return lambda c: c.id == wanted
    if option in (b"addr", b"laddr"):
        text = value.decode("utf-8", "replace")
        if option == b"addr":
            return lambda c: c.address == text
        return lambda c: c.localAddress == text
    if option == b"type":
        normal = _clientType(value)
        return lambda c: normal
    if option == b"user":
        if value != b"default":
            raise ReplyError(f"ERR No such user '{value.decode('utf-8', 'replace')}'")
        return lambda c: True
    if option == b"maxage":
        age = parseInteger(value, "ERR maxage is not an integer or out of range") * 1000
        now = server.store.now()
        return lambda c: age <= 0 or now - c.created > age
    raise syntaxError()


def _killFilters(server, client, args):
    """
    The tests of C{CLIENT KILL}'s filters, and whether it may kill
    C{client} itself (C{SKIPME no}).
    """
    if len(args) == 3:
        return [lambda c: c.address == args[2].decode("utf-8", "replace")], True
    tests, killSelf = [], False
    for i in range(2, len(args), 2):
        option = args[i].lower()
        if i + 1 >= len(args):
            raise syntaxError()
        if option == b"skipme":
            if args[i + 1].lower() not in (b"yes", b"no"):
                raise syntaxError()
            killSelf = args[i + 1].lower() == b"no"
        else:
            tests.append(_killFilter(server, option, args[i + 1]))
    return tests, killSelf


def _kill(server, client, target):
    """
    Close C{target}'s connection: now, or for C{client} itself, once the
    reply is written.
    """
    if target is client:
        client.closing = True
        return
    server.disconnect(target)
    if target.kill is not None:
        target.kill()


def _clientKill(server: Server, client: Client, args: list[bytes]) -> Any:
    """Kill connections by address (old form) or by filters."""
    tests, killSelf = _killFilters(server, client, args)
    killed = [c for c in list(server.clients.values())
              if all(test(c) for test in tests) and (killSelf or c is not client)]
    for target in killed:
        _kill(server, client, target)
    if len(args) == 3:
        return OK if killed else ReplyError("ERR No such client")
    return len(killed)


def _clientNoEvict(server: Server, client: Client, args: list[bytes]) -> Any:
    """Keep this connection out of client eviction (ON or OFF)."""
    switch = args[2].lower()
    if switch not in (b"on", b"off"):
        raise syntaxError()
    client.noEvict = switch == b"on"
    return OK


CLIENT_SUBCOMMANDS = {
    b"id": (2, lambda server, client, args: client.id),
    b"getname": (2, lambda server, client, args: client.name),
    b"setname": (3, _clientSetName),
    b"setinfo": (4, _clientSetInfo),
    b"info": (2, _clientInfo),
    b"list": (-2, _clientList),
    b"kill": (-3, _clientKill),
    b"no-evict": (3, _clientNoEvict),
    b"help": subcommandHelp("CLIENT", [
        "GETNAME", "    Return the name of the current connection.",
        "ID", "    Return the ID of the current connection.",
        "INFO", "    Return information about the current client connection.",
        "KILL <ip:port>", "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * ID <client-id>", "      Kill connections by client id.",
        "    * MAXAGE <maxage>",
        "      Kill connections older than the specified age.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "    * ID <client-id> [<client-id> ...]",
        "      Return clients of specified IDs only.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "SETNAME <name>", "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>", "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.", "    * LIB-VER: the client lib version."]),
}
"""CLIENT's subcommands: name to C{(arity, handler)}."""


def client_(server: Server, client: Client, args: list[bytes]) -> Any:
    """Connection state: ID, SETNAME, GETNAME, SETINFO, INFO, LIST, KILL, NO-EVICT, HELP."""
    return subcommand(args, CLIENT_SUBCOMMANDS, "client")(server, client, args)


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
    server.unwatch(client)
    client.resp3 = False
    client.name = None
    client.authenticated = server.password is None
    return Status("RESET")

