"""
What the benchmarks in bench/ share: servers on free loopback ports
(L{bench.lib.servers}), wrk and CPU figures (L{bench.lib.load}), cProfile
reading (L{bench.lib.profiling}) and the command line, machine and
docs/benchmarks.md sections (L{bench.lib.report}).

A benchmark script puts the source tree first on C{sys.path} (run as a
script, Python puts C{bench/} there) and imports from here.
"""

from bench.lib.load import (
    Result, cpuDuring, cpuPlan, ensureWrk, parseWrk, runWrk, takeTurns, waitForQuiet, withCpu, wrk,
)
from bench.lib.report import (
    argumentParser, machine, parseOptions, publish, redisVersion, runLines, updateDocs,
    versions, wrkVersion,
)
from bench.lib.servers import (
    APPS, POSTGRES_URL, REDIS_URL, ROOT, Case, freePort, postgresAvailable, redisAvailable,
    serving, servingTwistd, stopping, waitForPort,
)

__all__ = [
    "APPS", "Case", "POSTGRES_URL", "REDIS_URL", "ROOT", "Result", "argumentParser",
    "cpuDuring", "cpuPlan", "ensureWrk", "freePort", "machine", "parseOptions", "parseWrk", "postgresAvailable",
    "publish", "redisAvailable", "redisVersion", "runLines", "runWrk", "serving",
    "servingTwistd", "stopping", "takeTurns", "updateDocs", "versions", "waitForPort",
    "waitForQuiet",
    "withCpu", "wrk", "wrkVersion",
]
