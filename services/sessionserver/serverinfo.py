"""
The text of C{INFO}: Redis 7's sections, in Redis's order, with the fields
Redis clients and tools read, for a standalone master with one database.

C{INFO} with no argument (or C{default}) gives the default sections; C{all}
adds C{commandstats}; C{everything} is C{all} (no module adds sections);
other arguments name sections, case-insensitively, and combine.
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from services.sessionserver.handling import SERVER_VERSION

if TYPE_CHECKING:
    from services.sessionserver.commands import Server

__all__ = ["infoText", "DEFAULT_SECTIONS", "ALL_SECTIONS", "MEMORY_ALLOCATOR"]

MEMORY_ALLOCATOR = "pymalloc"
"""What C{mem_allocator} reports: Python's allocator holds the keyspace."""

_NO_REPLICATION_ID = "0" * 40


def _human(size):
    for unit in ("B", "K", "M", "G"):
        if size < 1024 or unit == "G":
            return f"{size:.2f}{unit}" if unit != "B" else f"{size}B"
        size /= 1024


def _server(server):
    store = server.store
    now = store.now()
    uptime = (now - (now if server.startedAt is None else server.startedAt)) // 1000
    return {"redis_version": SERVER_VERSION, "redis_mode": "standalone",
            "server_name": "appserver-session-server", "os": sys.platform,
            "arch_bits": 64, "multiplexing_api": "twisted", "process_id": os.getpid(),
            "run_id": server.runId, "tcp_port": server.ports[0] if server.ports else 0,
            "uptime_in_seconds": uptime, "uptime_in_days": uptime // 86400}


def _clients(server):
    return {"connected_clients": len(server.clients), "blocked_clients": 0,
            "tracking_clients": 0, "pubsub_clients": 0}


def _memory(server):
    store = server.store
    return {"used_memory": store.usedMemory, "used_memory_human": _human(store.usedMemory),
            "used_memory_rss": _residentBytes(),
            "maxmemory": store.maxmemory, "maxmemory_human": _human(store.maxmemory),
            "maxmemory_policy": store.policy, "mem_allocator": MEMORY_ALLOCATOR}


def _residentBytes():
    """
    The process's resident set size in bytes (its peak where the current
    size cannot be read).
    """
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _persistence(server):
    if server.journal is not None:
        return server.journal.info()
    return {"loading": 0, "aof_enabled": 0, "aof_rewrite_in_progress": 0,
            "rdb_changes_since_last_save": 0}


def _stats(server):
    store = server.store
    return {"total_connections_received": server.totalConnections,
            "total_commands_processed": server.totalCommands,
            "rejected_connections": 0, "expired_keys": store.expiredKeys,
            "evicted_keys": store.evictedKeys, "keyspace_hits": store.hits,
            "keyspace_misses": store.misses, "pubsub_channels": 0, "pubsub_patterns": 0,
            "total_error_replies": sum(server.errorStats.values())}


def _replication(server):
    return {"role": "master", "connected_slaves": 0,
            "master_failover_state": "no-failover", "master_replid": server.runId,
            "master_replid2": _NO_REPLICATION_ID, "master_repl_offset": 0,
            "second_repl_offset": -1, "repl_backlog_active": 0,
            "repl_backlog_size": 0, "repl_backlog_first_byte_offset": 0,
            "repl_backlog_histlen": 0}


def _cpu(server):
    times = os.times()
    return {"used_cpu_sys": f"{times.system:.6f}", "used_cpu_user": f"{times.user:.6f}",
            "used_cpu_sys_children": f"{times.children_system:.6f}",
            "used_cpu_user_children": f"{times.children_user:.6f}"}


def _commandStats(server):
    fields = {}
    for name, (calls, seconds, rejected, failed) in sorted(server.commandStats.items()):
        usec = int(seconds * 1_000_000)
        perCall = usec / calls if calls else 0
        fields[f"cmdstat_{name}"] = (f"calls={calls},usec={usec},usec_per_call={perCall:.2f},"
                                     f"rejected_calls={rejected},failed_calls={failed}")
    return fields


def _errorStats(server):
    return {f"errorstat_{code}": f"count={count}"
            for code, count in sorted(server.errorStats.items())}


def _keyspace(server):
    store = server.store
    if not len(store):
        return {}
    return {"db0": f"keys={len(store)},expires={store.volatileCount()},avg_ttl=0"}


_SECTIONS = {
    "server": ("Server", _server),
    "clients": ("Clients", _clients),
    "memory": ("Memory", _memory),
    "persistence": ("Persistence", _persistence),
    "stats": ("Stats", _stats),
    "replication": ("Replication", _replication),
    "cpu": ("CPU", _cpu),
    "modules": ("Modules", lambda server: {}),
    "commandstats": ("Commandstats", _commandStats),
    "errorstats": ("Errorstats", _errorStats),
    "cluster": ("Cluster", lambda server: {"cluster_enabled": 0}),
    "keyspace": ("Keyspace", _keyspace),
}

ALL_SECTIONS = tuple(_SECTIONS)
"""Every section, in Redis's order (what C{INFO all} and C{everything} give)."""

DEFAULT_SECTIONS = tuple(name for name in ALL_SECTIONS if name != "commandstats")
"""What C{INFO} and C{INFO default} give."""

_GROUPS = {"default": DEFAULT_SECTIONS, "all": ALL_SECTIONS, "everything": ALL_SECTIONS}


def _wanted(names):
    wanted = set()
    for name in (n.lower() for n in names):
        wanted.update(_GROUPS.get(name, (name,)))
    return wanted or set(DEFAULT_SECTIONS)


def infoText(server: Server, wanted: Iterable[str] = ()) -> str:
    """
    The INFO text for the sections (or C{default}, C{all}, C{everything})
    named in C{wanted}, the default ones when it is empty; unknown names
    add nothing.
    """
    sections = _wanted(wanted)
    parts = []
    for name, (title, fields) in _SECTIONS.items():
        if name in sections:
            lines = [f"# {title}"] + [f"{k}:{v}" for k, v in fields(server).items()]
            parts.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(parts)

