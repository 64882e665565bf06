"""
Transaction commands: MULTI, EXEC, DISCARD (the server queues the commands
in between; see L{services.sessionserver.commands.Server.execute}).
"""

from services.sessionserver.resp import OK, ReplyError

__all__ = ["multi", "exec_", "discard"]


def multi(server, client, args):
    """Start a transaction."""
    if client.transaction is not None:
        return ReplyError("ERR MULTI calls can not be nested")
    client.transaction = []
    client.transactionFailed = False
    return OK


def exec_(server, client, args):
    """Run the commands queued since MULTI."""
    if client.transaction is None:
        return ReplyError("ERR EXEC without MULTI")
    queued, failed = client.transaction, client.transactionFailed
    client.transaction, client.transactionFailed = None, False
    if failed:
        return ReplyError("EXECABORT Transaction discarded because of previous errors.")
    return [server.run(client, entry, queuedArgs) for entry, queuedArgs in queued]


def discard(server, client, args):
    """Forget the commands queued since MULTI."""
    if client.transaction is None:
        return ReplyError("ERR DISCARD without MULTI")
    client.transaction, client.transactionFailed = None, False
    return OK
