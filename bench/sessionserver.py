"""
The session server benchmark: C{twistd session-server} side by side with
C{redis-server}.

    .venv/bin/python bench/sessionserver.py [--requests N] [--sessions N]
                                            [--quick] [--no-write]

Both servers are started here on free loopback ports (never 6379).
C{redis-benchmark -t ping,set,get,incr,mset -n REQUESTS -c 50 -q} runs
against each, unpipelined and with C{-P 16}; then both are restarted and
the growth of their resident memory is measured after writing SESSIONS
sessions of 200 bytes with redis-py. The "Session server" section of
docs/benchmarks.md gets requests/s with the ratio, the memory and the
targets.
"""

import os
import sys

# Run as a script, Python puts bench/ first on sys.path; these imports want
# the source tree there.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import contextlib  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

import redis  # noqa: E402

from bench.lib import (  # noqa: E402
    freePort, redisVersion, runBenchmark, section, servingTwistd, stopping, table, versions,
    waitForPort,
)

TESTS = "ping,set,get,incr,mset"
CLIENTS = 50
PIPELINE = 16
VALUE_BYTES = 200
UNPIPELINED_TARGET = 0.35
PIPELINED_TARGET = 0.1
MB_PER_100000_TARGET = 60
PARAMETERS = (
    ("requests", 100_000, int, 10_000, "requests per redis-benchmark test"),
    ("sessions", 100_000, int, 20_000, "sessions written for the memory figure"),
)


@contextlib.contextmanager
def redisServer(directory):
    """
    A C{redis-server} that saves nothing, on a free loopback port, for the
    block, as C{(process, port)}.
    """
    port = freePort()
    command = [shutil.which("redis-server") or "redis-server", "--port", str(port),
               "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    with stopping(process):
        waitForPort(port, process=process)
        yield process, port


@contextlib.contextmanager
def bothServers(directory):
    """
    A fresh session server and a fresh redis-server for the block, as
    C{((process, port), (process, port))}.
    """
    with servingTwistd(("session-server",), directory) as ours:
        with redisServer(directory) as theirs:
            yield ours, theirs


def benchmark(port, requests, pipeline):
    """
    Requests per second by test name, from redis-benchmark's CSV output.
    """
    result = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", TESTS, "-n", str(requests),
         "-c", str(CLIENTS), "-P", str(pipeline), "-q", "--csv"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=600, check=True)
    rows = csv.reader(io.StringIO(result.stdout.decode()))
    return {row[0]: float(row[1]) for row in rows if row and row[0] != "test"}


def residentKiB(pid):
    """
    The resident memory of process C{pid}, in KiB.
    """
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def sessionMemory(process, port, sessions):
    """
    Extra resident MB after writing C{sessions} sessions of 200 bytes.
    """
    client = redis.Redis(port=port)
    client.ping()
    before = residentKiB(process.pid)
    value = b"x" * VALUE_BYTES
    pipe = client.pipeline(transaction=False)
    for i in range(sessions):
        pipe.set(b"session:" + secrets.token_hex(16).encode(), value, ex=1800)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()
    stored = client.dbsize()
    client.close()
    if stored != sessions:
        raise RuntimeError(f"{stored} sessions stored of {sessions} written")
    return (residentKiB(process.pid) - before) / 1024


def run(options):
    """
    Measure both servers: C{(throughput, memory)}, where C{throughput} maps
    each pipeline depth to C{(ours, theirs)} requests/s by test and
    C{memory} is C{(ours, theirs)} in MB.
    """
    throughput = {}
    with tempfile.TemporaryDirectory(prefix="appserver-bench-sessionserver-") as directory:
        with bothServers(directory) as ((_, ourPort), (_, theirPort)):
            for pipeline in (1, PIPELINE):
                throughput[pipeline] = (benchmark(ourPort, options.requests, pipeline),
                                        benchmark(theirPort, options.requests, pipeline))
                print(f"\n-P {pipeline}:", *_table(*throughput[pipeline]), sep="\n", flush=True)
        with bothServers(directory) as (ours, theirs):
            memory = (sessionMemory(*ours, options.sessions),
                      sessionMemory(*theirs, options.sessions))
    return throughput, memory


def _table(ours, theirs):
    return table(("Test", "session-server req/s", "redis-server req/s", "Ratio"),
                 [(name, f"{ours.get(name, 0.0):,.0f}", f"{rate:,.0f}",
                   f"{ours.get(name, 0.0) / rate:.2f}") for name, rate in theirs.items()])


def _ratios(ours, theirs, names=None):
    return {name: ours.get(name, 0.0) / rate for name, rate in theirs.items()
            if names is None or name in names}


def _verdict(ratios, goal):
    low = [f"{name} {ratio:.2f}" for name, ratio in ratios.items() if ratio < goal]
    if low:
        return "**missed**: " + ", ".join(low)
    lowest = min(ratios, key=ratios.get, default=None)
    return f"met; lowest {lowest} {ratios[lowest]:.2f}" if lowest else "n/a"


def targetLine(throughput, memory, options):
    """
    The targets, each with its verdict.
    """
    unpipelined = _ratios(*throughput[1], names=("SET", "GET"))
    pipelined = _ratios(*throughput[PIPELINE])
    memoryGoal = MB_PER_100000_TARGET * options.sessions / 100_000
    memoryVerdict = "met" if memory[0] <= memoryGoal else "**missed**"
    return (
        f"Targets: unpipelined SET/GET ≥ {UNPIPELINED_TARGET}× redis-server"
        f" ({_verdict(unpipelined, UNPIPELINED_TARGET)}), pipelined ≥ {PIPELINED_TARGET}×"
        f" for every test ({_verdict(pipelined, PIPELINED_TARGET)}), {options.sessions:,}"
        f" sessions ≤ {memoryGoal:g} MB ({memoryVerdict}: {memory[0]:.1f} MB). Figures"
        " from a single run move by about ±15 % between runs on a shared machine."
    )


def markdown(results, options):
    """
    The "Session server" section of docs/benchmarks.md, from the
    C{(throughput, memory)} that L{run} measured.
    """
    throughput, memory = results
    method = (
        "`.venv/bin/python bench/sessionserver.py` starts `twistd -n session-server`"
        " (memory only, no journal) and a `redis-server` (`--save '' --appendonly no`)"
        f" on free loopback ports, and runs `redis-benchmark -t {TESTS}"
        f" -n {options.requests} -c {CLIENTS} -q` against each, unpipelined and with"
        f" `-P {PIPELINE}` (redis-benchmark shares the {os.cpu_count()} CPUs with the"
        " server). It then restarts both and measures the growth of resident memory"
        f" (VmRSS) after writing {options.sessions:,} sessions (`SET session:<32 hex>"
        f" <{VALUE_BYTES} bytes> EX 1800`) with redis-py. The parser is pure Python"
        " (hiredis is not used); pipelined multibulk requests are read from one CRLF"
        " split of each read, falling back to the general parser for anything else"
        " (inline commands, large or CRLF-holding values, requests split across reads)."
    )
    return section("Session server", method, options, [
        f"Unpipelined (`-c {CLIENTS}`):",
        "",
        *_table(*throughput[1]),
        "",
        f"Pipelined (`-c {CLIENTS} -P {PIPELINE}`):",
        "",
        *_table(*throughput[PIPELINE]),
        "",
        f"Extra resident memory for {options.sessions:,} sessions of {VALUE_BYTES} bytes:"
        f" session-server {memory[0]:.1f} MB, redis-server {memory[1]:.1f} MB.",
        "",
        targetLine(throughput, memory, options),
    ], versions(tools=(redisVersion(),)))


def main(argv=None):
    """
    Measure, then print and write the section; return it.
    """
    return runBenchmark(__doc__, argv, PARAMETERS, run, markdown)


if __name__ == "__main__":
    main()
