"""
Transaction commands: MULTI, EXEC, DISCARD (the server queues the commands
in between; see L{services.sessionserver.commands.Server.execute}), and
WATCH and UNWATCH, which make the next EXEC answer nil (a null array, as
Redis answers) when a watched key
changed in between (by any client's write, an expiry, an eviction or a
flush).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.resp import OK, ReplyError
from services.resp.encoding import NIL_ARRAY

if TYPE_CHECKING:
    from services.sessionserver.commands import Client, Server

__all__ = ["multi", "exec_", "discard", "watch", "unwatch"]


def multi(server: Server, client: Client, args: list[bytes]) -> Any:
    """Start a transaction."""
    if client.transaction is not None:
        return ReplyError("ERR MULTI calls can not be nested")
    client.transaction = []
    client.transactionFailed = False
    return OK


def exec_(server: Server, client: Client, args: list[bytes]) -> Any:
    """Run the commands queued since MULTI."""
    if client.transaction is None:
        return ReplyError("ERR EXEC without MULTI")
    queued, failed = client.transaction, client.transactionFailed
    client.transaction, client.transactionFailed = None, False
    changed = server.watchedKeysChanged(client)
    server.unwatch(client)
    if failed:
        return ReplyError("EXECABORT Transaction discarded because of previous errors.")
    if changed:
        return NIL_ARRAY
    return [server.run(client, entry, queuedArgs) for entry, queuedArgs in queued]


def discard(server: Server, client: Client, args: list[bytes]) -> Any:
    """Forget the commands queued since MULTI."""
    if client.transaction is None:
        return ReplyError("ERR DISCARD without MULTI")
    client.transaction, client.transactionFailed = None, False
    server.unwatch(client)
    return OK


def watch(server: Server, client: Client, args: list[bytes]) -> Any:
    """Watch keys: the next EXEC fails if one of them changes first."""
    if client.transaction is not None:
        return ReplyError("ERR WATCH inside MULTI is not allowed")
    server.watch(client, args[1:])
    return OK


def unwatch(server: Server, client: Client, args: list[bytes]) -> Any:
    """Forget the keys watched."""
    server.unwatch(client)
    return OK
