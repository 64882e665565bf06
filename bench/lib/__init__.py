"""
What the benchmarks in bench/ share: servers on free loopback ports
(L{bench.lib.servers}), wrk and CPU figures (L{bench.lib.load}), cProfile
reading (L{bench.lib.profiling}) and the command line, machine and
docs/benchmarks.md sections (L{bench.lib.report}).

A benchmark script puts the source tree first on C{sys.path} (run as a
script, Python puts C{bench/} there) and imports from here.
"""

from bench.lib.load import (
    Result, cpuDuring, cpuPlan, ensureWrk, parseWrk, pinning, runWrk, takeTurns,
    waitForQuiet, withCpu, wrk,
)
from bench.lib.report import (
    TURNS, machine, parseOptions, publish, redisVersion, runBenchmark, runLines, section,
    table, turnsMethod, updateDocs, versions, wrkVersion,
)
from bench.lib.servers import (
    APPS, POSTGRES_URL, REDIS_URL, ROOT, Case, freePort, ifServing, postgresAvailable,
    redisAvailable, serving, servingTwistd, stopping, waitForPort,
)

__all__ = [
    "APPS", "Case", "POSTGRES_URL", "REDIS_URL", "Result", "ROOT", "TURNS", "cpuDuring",
    "cpuPlan", "ensureWrk", "freePort", "ifServing", "machine", "parseOptions", "parseWrk",
    "pinning", "postgresAvailable", "publish", "redisAvailable", "redisVersion",
    "runBenchmark", "runLines", "runWrk", "section", "serving", "servingTwistd", "stopping",
    "table", "takeTurns", "turnsMethod", "updateDocs", "versions", "waitForPort",
    "waitForQuiet", "withCpu", "wrk", "wrkVersion",
]
