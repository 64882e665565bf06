"""
The session server's command matrix: every Redis 7.0 command, by Redis's
group, as supported, partly supported (saying what differs) or not
supported, made from the command table (L{services.sessionserver.table}),
so that a command added there appears here.

C{python -m services.sessionserver.matrix docs/sessions.md} rewrites the
matrix between its markers in that file (the test suite fails while it is
out of date); without an argument it prints the matrix.
"""

import sys
from collections.abc import Mapping

from services.sessionserver.table import COMMANDS, Command

__all__ = ["REDIS_COMMANDS", "BEGIN", "END", "commandMatrix", "replaceMatrix", "main"]

REDIS_COMMANDS = {
    "bitmap": "bitcount bitfield bitfield_ro bitop bitpos getbit setbit",
    "cluster": "asking cluster readonly readwrite",
    "connection": "auth client echo hello ping quit reset select",
    "generic": (
        "copy del dump exists expire expireat expiretime keys migrate move object persist "
        "pexpire pexpireat pexpiretime pttl randomkey rename renamenx restore scan sort "
        "sort_ro touch ttl type unlink wait"
    ),
    "geo": (
        "geoadd geodist geohash geopos georadius georadius_ro georadiusbymember "
        "georadiusbymember_ro geosearch geosearchstore"
    ),
    "hash": (
        "hdel hexists hget hgetall hincrby hincrbyfloat hkeys hlen hmget hmset hrandfield "
        "hscan hset hsetnx hstrlen hvals"
    ),
    "hyperloglog": "pfadd pfcount pfdebug pfmerge pfselftest",
    "list": (
        "blmove blmpop blpop brpop brpoplpush lindex linsert llen lmove lmpop lpop lpos lpush "
        "lpushx lrange lrem lset ltrim rpop rpoplpush rpush rpushx"
    ),
    "pubsub": (
        "psubscribe publish pubsub punsubscribe spublish ssubscribe subscribe sunsubscribe "
        "unsubscribe"
    ),
    "scripting": "eval eval_ro evalsha evalsha_ro fcall fcall_ro function script",
    "server": (
        "acl bgrewriteaof bgsave command config dbsize debug failover flushall flushdb info "
        "lastsave latency lolwut memory module monitor psync replconf replicaof "
        "restore-asking role save shutdown slaveof slowlog swapdb sync time"
    ),
    "set": (
        "sadd scard sdiff sdiffstore sinter sintercard sinterstore sismember smembers "
        "smismember smove spop srandmember srem sscan sunion sunionstore"
    ),
    "sorted-set": (
        "bzmpop bzpopmax bzpopmin zadd zcard zcount zdiff zdiffstore zincrby zinter "
        "zintercard zinterstore zlexcount zmpop zmscore zpopmax zpopmin zrandmember zrange "
        "zrangebylex zrangebyscore zrangestore zrank zrem zremrangebylex zremrangebyrank "
        "zremrangebyscore zrevrange zrevrangebylex zrevrangebyscore zrevrank zscan zscore "
        "zunion zunionstore"
    ),
    "stream": (
        "xack xadd xautoclaim xclaim xdel xgroup xinfo xlen xpending xrange xread xreadgroup "
        "xrevrange xsetid xtrim"
    ),
    "string": (
        "append decr decrby get getdel getex getrange getset incr incrby incrbyfloat lcs mget "
        "mset msetnx psetex set setex setnx setrange strlen substr"
    ),
    "transactions": "discard exec multi unwatch watch",
}
"""Redis 7.0's commands (C{COMMAND DOCS} of redis-server 7.0) by group."""

BEGIN = "<!-- command matrix: made by python -m services.sessionserver.matrix -->"
END = "<!-- end of the command matrix -->"

_HEADER = """\
| Group | Supported | Partly supported (what differs) | Not supported |
|---|---|---|---|
"""


def _redisGroups():
    """
    Command name to Redis's group.
    """
    return {name: group for group, names in REDIS_COMMANDS.items()
            for name in names.split()}


def _row(group, ours, theirs):
    """
    The matrix row of C{group}: our commands in it (C{ours}, name to
    L{Command}) and Redis's (C{theirs}).
    """
    supported = [f"`{n}`" for n, entry in sorted(ours.items()) if not entry.differs]
    partly = [f"`{n}` ({entry.differs})" for n, entry in sorted(ours.items()) if entry.differs]
    missing = [f"`{n}`" for n in sorted(theirs) if n not in ours]
    cells = [", ".join(items) or "—" for items in (supported, partly, missing)]
    return f"| {group} | " + " | ".join(cells) + " |\n"


def commandMatrix(commands: Mapping[bytes, Command] = COMMANDS) -> str:
    """
    The Markdown table of C{commands} against Redis 7.0's, one row per
    Redis group (ours outside Redis's list keep their own group).
    """
    redisGroups = _redisGroups()
    ours: dict[str, dict[str, Command]] = {}
    for entry in commands.values():
        group = redisGroups.get(entry.name, entry.group)
        ours.setdefault(group, {})[entry.name] = entry
    groups = sorted(set(REDIS_COMMANDS) | set(ours))
    return _HEADER + "".join(
        _row(group, ours.get(group, {}), REDIS_COMMANDS.get(group, "").split())
        for group in groups)


def replaceMatrix(text: str, matrix: str) -> str:
    """
    C{text} with what lies between L{BEGIN} and L{END} replaced by
    C{matrix}.

    @raise ValueError: if the markers are missing.
    """
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN!r} and {END!r} are missing")
    return text[:start + len(BEGIN)] + "\n" + matrix + text[end:]


def main(argv: list[str] | None = None) -> None:
    """
    Print the matrix, or rewrite it in the files named in C{argv}.
    """
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        sys.stdout.write(commandMatrix())
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(replaceMatrix(text, commandMatrix()))


if __name__ == "__main__":
    main()
