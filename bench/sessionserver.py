"""
Benchmark C{twistd session-server} side by side with C{redis-server}.

Runs C{redis-benchmark -t ping,set,get,incr,mset -n 100000 -c 50 -q} against
both (unpipelined and with C{-P 16}) and prints requests per second with the
ratio, then measures the extra resident memory of 100,000 sessions of 200
bytes in each. Both servers are started here on free loopback ports (never
6379) and stopped at the end.

Usage: .venv/bin/python bench/sessionserver.py [--requests N] [--sessions N]
"""

import os
import sys

# Run as a script, this file's folder comes first on sys.path, where
# bench/http.py would shadow the standard library; the source tree goes there.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path[0] = os.path.dirname(sys.path[0])

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

import redis  # noqa: E402

from tests.support import TWISTD, environment, freePort, stopProcess, waitForPort  # noqa: E402

TESTS = "ping,set,get,incr,mset"


def startSessionServer(directory):
    port = freePort()
    process = subprocess.Popen(
        [TWISTD, "-n", "--pidfile=", "-l", os.path.join(directory, "twistd.log"),
         "session-server", "--port", f"tcp:{port}:interface=127.0.0.1"],
        cwd=directory, env=environment(), stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT)
    waitForPort(port, process=process)
    return process, port


def startRedis(directory):
    port = freePort()
    process = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", directory],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    waitForPort(port, process=process)
    return process, port


def benchmark(port, requests, pipeline):
    """
    Requests per second by test name, from redis-benchmark's CSV output.
    """
    result = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", TESTS, "-n", str(requests), "-c", "50",
         "-P", str(pipeline), "-q", "--csv"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=600, check=True)
    rows = csv.reader(io.StringIO(result.stdout.decode()))
    return {row[0]: float(row[1]) for row in rows if row and row[0] != "test"}


def residentKiB(pid):
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
    value = b"x" * 200
    pipe = client.pipeline(transaction=False)
    for i in range(sessions):
        pipe.set(b"session:" + secrets.token_hex(16).encode(), value, ex=1800)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()
    assert client.dbsize() == sessions
    after = residentKiB(process.pid)
    client.close()
    return (after - before) / 1024


def printTable(title, ours, theirs):
    print(f"\n{title}")
    print(f"| test | session-server req/s | redis-server req/s | ratio |")
    print(f"|---|---:|---:|---:|")
    for name in theirs:
        mine = ours.get(name, 0.0)
        print(f"| {name} | {mine:,.0f} | {theirs[name]:,.0f} | {mine / theirs[name]:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--sessions", type=int, default=100000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sessionserver-") as directory:
        processes = []
        try:
            ours, ourPort = startSessionServer(directory)
            processes.append(ours)
            theirs, theirPort = startRedis(directory)
            processes.append(theirs)
            for pipeline in (1, 16):
                title = "unpipelined" if pipeline == 1 else f"pipelined (-P {pipeline})"
                printTable(f"redis-benchmark -n {args.requests} -c 50, {title}",
                           benchmark(ourPort, args.requests, pipeline),
                           benchmark(theirPort, args.requests, pipeline))
            for process in processes:
                stopProcess(process)
            processes = []
            ours, ourPort = startSessionServer(directory)
            processes.append(ours)
            theirs, theirPort = startRedis(directory)
            processes.append(theirs)
            print(f"\nExtra resident memory for {args.sessions:,} sessions of 200 bytes:")
            print(f"  session-server: {sessionMemory(ours, ourPort, args.sessions):.1f} MB")
            print(f"  redis-server:   {sessionMemory(theirs, theirPort, args.sessions):.1f} MB")
        finally:
            for process in processes:
                stopProcess(process)


if __name__ == "__main__":
    main()
