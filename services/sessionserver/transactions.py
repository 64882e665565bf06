"""
Transaction commands: MULTI, EXEC, DISCARD (the server queues the commands
in between; see L{services.sessionserver.commands.Server.execute}).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.resp import OK, ReplyError

if TYPE_CHECKING:
    from services.sessionserver.commands import Client, Server

__all__ = ["multi", "exec_", "discard"]


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
    if failed:
        return ReplyError("EXECABORT Transaction discarded because of previous errors.")
    return [server.run(client, entry, queuedArgs) for entry, queuedArgs in queued]


def discard(server: Server, client: Client, args: list[bytes]) -> Any:
    """Forget the commands queued since MULTI."""
    if client.transaction is None:
        return ReplyError("ERR DISCARD without MULTI")
    client.transaction, client.transactionFailed = None, False
    return OK
