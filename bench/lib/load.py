"""
Loading a server with wrk and reading what it measured: requests per
second, latency percentiles from C{wrk --latency}, and the server's CPU
time per request; CPU pinning and waiting for an idle machine.
"""

import dataclasses
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

QUIET_SECONDS = 10


@dataclass(frozen=True)
class Result:
    """
    What one wrk run measured.

    @ivar requests: requests per second.
    @ivar p50: median latency in milliseconds.
    @ivar p99: 99th percentile latency in milliseconds.
    @ivar errors: non-2xx/3xx responses plus socket errors.
    @ivar count: how many requests completed.
    @ivar cpu: microseconds of server CPU time per request (user and
        system), which other work on the machine disturbs much less than
        requests/s; L{None} until measured.
    """

    requests: float
    p50: float
    p99: float
    errors: int
    count: int = 0
    cpu: float = None


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _latency(output, percentile):
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    if match is None:
        raise ValueError(f"wrk output has no {percentile}% latency line:\n{output}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parseWrk(output):
    """
    The L{Result} in the text that C{wrk --latency} printed.

    @raise ValueError: if the text lacks the requests/s or latency lines.
    """
    match = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if match is None:
        raise ValueError(f"wrk output has no Requests/sec line:\n{output}")
    errors = sum(int(n) for n in re.findall(
        r"(?:Non-2xx or 3xx responses:|connect|read|write|timeout)\s+(\d+)", output))
    count = re.search(r"^\s*(\d+) requests in", output, re.M)
    return Result(float(match.group(1)), _latency(output, 50), _latency(output, 99), errors,
                  int(count.group(1)) if count else 0)


def ensureWrk():
    """
    Install wrk from Debian's packages when it is missing.
    """
    if shutil.which("wrk"):
        return
    print("wrk is missing: installing it with apt-get", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(prefix + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(prefix + ["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)


def runWrk(port, path, seconds, connections, pin=(), threads=1, script=None):
    """
    Run C{wrk --latency} against C{path} on 127.0.0.1:C{port} for
    C{seconds}, with C{threads} threads and the Lua C{script} if given,
    and return what it printed.

    @raise RuntimeError: if wrk fails.
    """
    command = [*pin, "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", script]
    command.append(f"http://127.0.0.1:{port}{path}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def wrk(port, path, seconds, connections, pin=()):
    """
    Run wrk with one thread against C{path} for C{seconds} and return its
    L{Result}.
    """
    return parseWrk(runWrk(port, path, seconds, connections, pin))


def cpuPlan():
    """
    The C{taskset} prefixes for the server and for wrk: CPU 0 and CPU 1 when
    there are at least two, nothing otherwise.
    """
    if (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        return [], []
    return ["taskset", "-c", "0"], ["taskset", "-c", "1"]


def pinning():
    """
    How L{cpuPlan} places the server and wrk, in words.
    """
    if cpuPlan()[0]:
        return "the server pinned to CPU 0 and wrk to CPU 1 with `taskset`"
    return "no CPU pinning"


def cpuSeconds(pid):
    """
    The CPU time (user and system, all threads) process C{pid} has used.
    """
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpuDuring(process, call):
    """
    Call C{call} and return what it returned with the CPU seconds
    C{process} spent meanwhile.
    """
    before = cpuSeconds(process.pid)
    found = call()
    return found, cpuSeconds(process.pid) - before


def withCpu(result, seconds):
    """
    C{result} with C{seconds} of server CPU time spread over its requests.
    """
    return dataclasses.replace(result, cpu=seconds * 1e6 / max(result.count, 1))


def takeTurns(repeat, paths, measure, requests=lambda found: found.requests):
    """
    Measure each of C{paths} in turn, C{repeat} rounds, each after waiting
    for an idle machine, and return the best of each path's measurements
    by C{requests} (other work on the machine only ever lowers a run).

    @param measure: a callable taking a path, returning its measurement.
    @param requests: the requests/s of a measurement.
    """
    best = {}
    for _ in range(repeat):
        for path in paths:
            waitForQuiet(QUIET_SECONDS)
            found = measure(path)
            if path not in best or requests(found) > requests(best[path]):
                best[path] = found
    return best


def _cpuTimes():
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(n) for n in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields), idle


def busyFraction(seconds=1.0):
    """
    The fraction of all CPUs' time spent busy over the next C{seconds}.
    """
    total, idle = _cpuTimes()
    time.sleep(seconds)
    total2, idle2 = _cpuTimes()
    spent = total2 - total
    return 1 - (idle2 - idle) / spent if spent else 0.0


def waitForQuiet(limit, threshold=0.15):
    """
    Wait up to C{limit} seconds for the machine to be idle (other work
    skews the figures); return whether it became idle.
    """
    deadline = time.monotonic() + limit
    while True:
        busy = busyFraction()
        if busy < threshold:
            return True
        if time.monotonic() >= deadline:
            print(f"(machine {busy:.0%} busy, measuring anyway)", end=" ", flush=True)
            return False
