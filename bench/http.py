"""
The HTTP benchmark: wrk against C{twistd web-app} and its peers.

    .venv/bin/python bench/http.py [--duration SECONDS] [--quick] [--repeat N]
                                   [--only NAME] [--profile] [--no-write]

Each server is a real C{twistd -n} process on a free loopback port, started
one at a time and pinned to one CPU while wrk runs on another (when the
machine has two), warmed up, then measured with C{wrk --latency}; its CPU
time per request is read from /proc. The table (requests/s, latency
p50/p99, ratio to bare twisted.web, CPU per request) is printed and its
Markdown goes into the "HTTP" section of docs/benchmarks.md, with the
machine, the versions and the issue's targets. When a target is missed,
web-app /hello is profiled with cProfile and the hot spots are added.

The peer apps live in bench/apps/ (see their docstrings).
"""

import os
import sys

# Run as a script, this file's folder comes first on sys.path, where this
# module would shadow the standard library's http package.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse
import dataclasses
import datetime
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APPS = os.path.join(ROOT, "bench", "apps")
DOCS = os.path.join(ROOT, "docs", "benchmarks.md")
START_SECONDS = 30
BASELINE = "bare twisted.web"


def _binDirectory():
    here = os.path.dirname(sys.executable)
    if os.path.exists(os.path.join(here, "twistd")):
        return here
    return os.path.join(ROOT, ".venv", "bin")


BIN = _binDirectory()


@dataclass(frozen=True)
class Case:
    """
    One server and the path wrk requests from it.

    @ivar name: the row's name in the table.
    @ivar command: the twistd arguments, without a port.
    @ivar portOption: the option that takes the endpoint description, or
        L{None} for a C{.tac} file that reads the port from C{BENCH_PORT}.
    @ivar path: the path requested.
    @ivar expect: bytes the response body must contain.
    """

    name: str
    command: tuple
    portOption: object
    path: str
    expect: bytes = b"Hello, world!"


def _webApp(*options):
    return ("web-app",) + options


def _tac(name):
    return ("-y", os.path.join(APPS, name))


CASES = (
    Case(BASELINE, _tac("bare.tac"), None, "/hello"),
    Case("Klein hello world", _tac("klein.tac"), None, "/hello"),
    Case("twistd web --wsgi", _tac("wsgi.tac"), None, "/hello"),
    Case("web-app /hello", _webApp("--app", os.path.join(APPS, "hello")), "--port", "/hello"),
    Case("web-app JSON", _webApp("--app", os.path.join(APPS, "hello")), "--port", "/json",
         b'"message"'),
    Case("web-app 10 routes", _webApp("--app", "manyroutes:routes10"), "--port",
         "/section4/items/42", b'"item"'),
    Case("web-app 1,000 routes", _webApp("--app", "manyroutes:routes1000"), "--port",
         "/section499/items/42", b'"item"'),
    Case("web-app --wsgi", _webApp("--wsgi", "wsgihello:application"), "--port", "/hello"),
)


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


def freePort():
    """
    A TCP port on 127.0.0.1 that nothing listens on right now.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpuPlan():
    """
    The C{taskset} prefixes for the server and for wrk: CPU 0 and CPU 1 when
    there are at least two, nothing otherwise.
    """
    if (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        return [], []
    return ["taskset", "-c", "0"], ["taskset", "-c", "1"]


def _environment(port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPSERVER_")}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, os.path.join(ROOT, "examples"), APPS])
    env["BENCH_PORT"] = str(port)
    return env


def startServer(case, port, workDir, pin):
    """
    Start C{case}'s server as C{twistd -n} on 127.0.0.1:C{port} and return
    the process once it answers C{case.path} with a 200 containing
    C{case.expect}.

    @raise RuntimeError: naming the server and its log, if it exits or does
        not answer in time.
    """
    log = os.path.join(workDir, f"twistd-{port}.log")
    command = pin + [os.path.join(BIN, "twistd"), "-n", "-o", "--pidfile=", "--logfile", log,
                     *case.command]
    if case.portOption is not None:
        command += [case.portOption, f"tcp:{port}:interface=127.0.0.1"]
    console = os.path.join(workDir, f"console-{port}.txt")
    with open(console, "wb") as output:
        process = subprocess.Popen(command, cwd=workDir, env=_environment(port),
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        _waitForAnswer(case, port, process)
    except Exception as e:
        stopServer(process)
        raise RuntimeError(f"{case.name} did not start ({e}); command: {' '.join(command)}\n"
                           f"{_tail(console)}{_tail(log)}") from None
    return process


def _tail(path, lines=15):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def _waitForAnswer(case, port, process):
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}")
        try:
            response = get(port, case.path)
        except OSError:
            time.sleep(0.1)
            continue
        if response.startswith(b"HTTP/1.1 200") and case.expect in response:
            return
        raise RuntimeError(f"unexpected answer to {case.path}: {response[:300]!r}")
    raise RuntimeError(f"no answer within {START_SECONDS}s")


def get(port, path, timeout=5):
    """
    The raw response to C{GET path} on 127.0.0.1:C{port}.
    """
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request.encode("ascii"))
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def stopServer(process, timeout=15):
    """
    Stop C{process} with SIGTERM, then SIGKILL if it lingers.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def wrk(port, path, seconds, connections, pin):
    """
    Run wrk against C{path} for C{seconds} and return its L{Result}.
    """
    command = pin + ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                     f"http://127.0.0.1:{port}{path}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    return parseWrk(done.stdout)


def measure(case, options, workDir):
    """
    Start C{case}'s server, warm it up, run wrk once and return its
    L{Result}.
    """
    serverPin, wrkPin = cpuPlan()
    port = freePort()
    process = startServer(case, port, workDir, serverPin)
    try:
        wrk(port, case.path, options.warmup, options.connections, wrkPin)
        before = cpuSeconds(process.pid)
        result = wrk(port, case.path, options.duration, options.connections, wrkPin)
        spent = cpuSeconds(process.pid) - before
    finally:
        stopServer(process)
    return dataclasses.replace(result, cpu=spent * 1e6 / max(result.count, 1))


def cpuSeconds(pid):
    """
    The CPU time (user and system, all threads) process C{pid} has used.
    """
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PROFILED = "web-app /hello"


def profileCase(case, options, workDir):
    """
    Run C{case}'s server under cProfile (C{twistd --profile --savestats})
    while wrk loads it for C{options.duration}, and return the loaded
    C{pstats.Stats}.
    """
    import pstats

    serverPin, wrkPin = cpuPlan()
    port = freePort()
    statsPath = os.path.join(workDir, f"profile-{port}.stats")
    profiled = dataclasses.replace(
        case, command=("--profile", statsPath, "--profiler", "cprofile", "--savestats")
        + case.command)
    process = startServer(profiled, port, workDir, serverPin)
    try:
        wrk(port, case.path, options.warmup, options.connections, wrkPin)
        wrk(port, case.path, options.duration, options.connections, wrkPin)
    finally:
        stopServer(process, timeout=60)
    return pstats.Stats(statsPath)


_OURS = tuple(os.path.join(ROOT, folder, "") for folder in ("appserver", "services"))


def _shortName(key):
    filename, line, function = key
    for prefix in (ROOT + os.sep, "site-packages" + os.sep):
        if prefix in filename:
            filename = filename.split(prefix, 1)[1]
    return f"{function} ({filename}:{line})" if line else function


def profileRows(stats, top=15, ours=False):
    """
    The C{top} functions of C{stats} by own time (or, if C{ours}, appserver's
    own functions by cumulative time), as C{(own share, cumulative share,
    calls, name)}.
    """
    total = stats.total_tt or 1.0
    entries = [(key, value) for key, value in stats.stats.items()
               if not ours or key[0].startswith(_OURS)]
    index = 3 if ours else 2
    entries.sort(key=lambda item: item[1][index], reverse=True)
    return [(value[2] / total, value[3] / total, value[1], _shortName(key))
            for key, value in entries[:top]]


_PROCESS = os.path.join("twisted", "web", "server.py")


def requestCount(stats):
    """
    How many requests a profile covers: the calls of twisted.web's
    C{Request.process}.
    """
    for (filename, line, function), value in stats.stats.items():
        if function == "process" and filename.endswith(_PROCESS):
            return value[1]
    return 1


def extraCost(stats, baseline, top=12):
    """
    The functions on which C{stats} spends the most more own time per
    request than C{baseline} does, as C{(extra microseconds per request,
    calls per request, name)}; waiting in epoll is left out.
    """
    n, m = requestCount(stats), requestCount(baseline)
    base = {key: value[2] / m for key, value in baseline.stats.items()}
    rows = [((value[2] / n - base.get(key, 0.0)) * 1e6, value[1] / n, _shortName(key))
            for key, value in stats.stats.items() if "epoll" not in key[2]]
    rows.sort(reverse=True)
    return rows[:top]


def _shareTable(rows):
    lines = ["| own % | cumulative % | calls | function |", "|---:|---:|---:|---|"]
    return lines + [f"| {own:.1%} | {cumulative:.1%} | {calls:,} | `{function}` |"
                    for own, cumulative, calls, function in rows]


def _extraTable(rows):
    lines = ["| extra us/req | calls/req | function |", "|---:|---:|---|"]
    return lines + [f"| {extra:.2f} | {calls:.1f} | `{function}` |"
                    for extra, calls, function in rows]


def profileMarkdown(stats, name, baseline=None):
    """
    The profile of C{name} as Markdown: the hottest functions by own time,
    appserver's functions by cumulative time and, given the C{baseline}
    profile of bare twisted.web, where C{name} spends more per request.
    """
    lines = [
        f"### Profile of {name}", "",
        "cProfile in the twistd process (`twistd --profile --profiler cprofile"
        " --savestats`) under the same wrk load, warm-up included, so times are"
        " inflated by the profiler. The hottest functions by own time:", "",
        *_shareTable(profileRows(stats, 10)), "",
        "appserver's own functions by cumulative time:", "",
        *_shareTable(profileRows(stats, 10, ours=True)),
    ]
    if baseline is not None:
        lines += ["", f"Where {name} spends more own time per request than {BASELINE}"
                  " (both profiled the same way):", "", *_extraTable(extraCost(stats, baseline))]
    return "\n".join(lines)


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


def speedRatio(results, name, other):
    """
    How fast C{name} ran against C{other}: the ratio of their requests/s
    and the inverse ratio of their CPU time per request, each L{None} when
    one of them was not measured.
    """
    a, b = results.get(name), results.get(other)
    if a is None or b is None:
        return None, None
    byCpu = b.cpu / a.cpu if a.cpu and b.cpu else None
    return a.requests / b.requests, byCpu


def _cell(value, digits):
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _rows(results):
    for case in CASES:
        if case.name in results:
            r = results[case.name]
            byRequests, byCpu = speedRatio(results, case.name, BASELINE)
            yield (case.name, case.path, f"{r.requests:,.0f}", f"{r.p50:.2f}",
                   f"{r.p99:.2f}", _cell(byRequests, 2), _cell(r.cpu, 0),
                   _cell(byCpu, 2), str(r.errors))


HEADER = ("Server", "Path", "Requests/s", "p50 ms", "p99 ms", "x bare",
          "CPU us/req", "x bare by CPU", "Errors")


def textTable(results):
    """
    The results as a plain text table for the terminal.
    """
    rows = [HEADER] + list(_rows(results))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return "\n".join("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths)))
                     for row in rows)


def markdownTable(results):
    """
    The results as a Markdown table.
    """
    lines = ["| " + " | ".join(HEADER) + " |",
             "|" + "|".join(["---", "---"] + ["---:"] * (len(HEADER) - 2)) + "|"]
    for row in _rows(results):
        lines.append(f"| {row[0]} | `{row[1]}` | " + " | ".join(row[2:]) + " |")
    return "\n".join(lines)


TARGETS = (
    ("web-app /hello", BASELINE, 0.9),
    ("web-app /hello", "Klein hello world", 1.8),
    ("web-app 1,000 routes", "web-app 10 routes", 0.9),
    ("web-app --wsgi", "twistd web --wsgi", 1.0),
)


def targets(results):
    """
    The issue's targets as C{(name, other, goal, ratio by requests/s, ratio
    by CPU per request)} rows; a target whose servers were not measured is
    left out.
    """
    rows = []
    for name, other, goal in TARGETS:
        byRequests, byCpu = speedRatio(results, name, other)
        if byRequests is not None:
            rows.append((name, other, goal, byRequests, byCpu))
    return rows


def _verdict(ratio, goal):
    if ratio is None:
        return "n/a"
    return "met" if ratio >= goal else f"**missed** by {(goal - ratio) / goal:.1%}"


def targetLines(results):
    """
    One Markdown list item per target: both ratios against the goal, each
    met or missed and by how much.
    """
    return [
        f"- {name} vs {other} (target >= {goal}x): {byRequests:.2f}x by requests/s,"
        f" {_verdict(byRequests, goal)}; {_cell(byCpu, 2)}x by CPU per request,"
        f" {_verdict(byCpu, goal)}"
        for name, other, goal, byRequests, byCpu in targets(results)
    ]


def _output(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


def machine():
    """
    A one-line description of this machine: CPU count and model, kernel.
    """
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Linux {os.uname().release}"


_VERSIONS = (
    "import sys, twisted, klein; "
    "print(f'Python {sys.version.split()[0]}, Twisted {twisted.__version__}, "
    "Klein {klein.__version__}')"
)


def versions():
    """
    The versions the servers run: Python, Twisted, Klein, wrk and the
    appserver commit (marked C{+changes} when the tree has uncommitted
    changes to its code).
    """
    commit = _output(["git", "rev-parse", "--short", "HEAD"])
    status = ["git", "status", "--porcelain", "--", "appserver", "services"]
    if commit != "unknown" and _output(status) != "unknown":
        commit += " with uncommitted changes"
    wrkVersion = _output(["sh", "-c", "wrk --version 2>&1 | head -1"]).split(" [")[0]
    return (f"{_output([os.path.join(BIN, 'python'), '-c', _VERSIONS])}, "
            f"appserver {commit}, {wrkVersion}")


def _method(options):
    serverPin, _ = cpuPlan()
    pinning = ("the server pinned to CPU 0 and wrk to CPU 1 with `taskset`"
               if serverPin else "no CPU pinning")
    rounds = (f", in {options.repeat} rounds over all servers, keeping each server's best"
              " requests/s and least CPU per request" if options.repeat > 1 else "")
    return (
        "`.venv/bin/python bench/http.py` starts each server as a real `twistd -n` process"
        f" on a loopback port, one at a time (after waiting up to {options.quiet_wait:g} s"
        f" for the machine to be idle), with {pinning}, warms it up for {options.warmup} s"
        f" and runs `wrk -t1 -c{options.connections} -d{options.duration}s --latency`"
        f" against it{rounds}. The peers are in `bench/apps/`: the same root resources"
        " `twistd web --class`/`--wsgi` would serve, through `.tac` files that leave"
        " out the access log `twistd web` writes to twistd's log (web-app writes none"
        " by default; that log line costs about as much CPU as the bare request itself)."
    )


_COLUMNS = (
    "*CPU us/req* is the server's CPU time (user and system, all threads) per"
    " request during the measured run; *x bare by CPU* is bare twisted.web's CPU per"
    " request divided by the server's. Other work on the machine lowers requests/s"
    " much more than it changes CPU per request, so on a shared machine the CPU ratio"
    " is the steadier figure."
)


def markdown(results, options, profile=None):
    """
    The "HTTP" section of docs/benchmarks.md, with C{profile} (Markdown)
    at its end when given.
    """
    lines = [
        "## HTTP", "", _method(options), "",
        f"- Date: {datetime.date.today().isoformat()}",
        f"- Machine: {machine()}",
        f"- Versions: {versions()}",
        "", markdownTable(results), "", _COLUMNS, "", "Targets:", "",
        *(targetLines(results) or ["- none measured"]),
    ]
    if profile:
        lines += ["", profile]
    return "\n".join(lines) + "\n"


def updateDocs(section, path=DOCS):
    """
    Put C{section} (Markdown starting with its C{## } heading) into the
    benchmarks document at C{path}, replacing the section of the same heading
    or appending it; create the document with a short introduction if absent.
    """
    heading = section.splitlines()[0].strip()
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines(keepends=True)
    except FileNotFoundError:
        lines = [INTRO]
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    if start is None:
        if lines and not lines[-1].endswith("\n\n") and lines[-1].strip():
            lines.append("\n")
        lines.append(section)
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        lines[start:end] = [section + ("\n" if end < len(lines) else "")]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(lines))


INTRO = """# Benchmarks

Measured by the scripts in `bench/`, side by side with the peers, on the
machine named in each section; `.venv/bin/python bench/run.py` runs them
all one after another and regenerates this file. Figures are from one run
on that machine: compare ratios, not absolute numbers, across machines.

"""


def parseArguments(argv):
    """
    The command line options.
    """
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds over all servers; each server's best run is kept")
    parser.add_argument("--quiet-wait", type=float, default=30,
                        help="seconds to wait for an idle machine before each server")
    parser.add_argument("--quick", action="store_true",
                        help="2 s runs with 1 s warm-up, to try the benchmark out")
    parser.add_argument("--only", action="append", default=[],
                        help="measure only servers whose name contains this (repeatable)")
    parser.add_argument("--profile", action="store_true",
                        help=f"profile {PROFILED} even when every target is met")
    parser.add_argument("--no-write", action="store_true",
                        help="print only; leave docs/benchmarks.md alone")
    options = parser.parse_args(argv)
    if options.quick:
        options.duration, options.warmup, options.repeat, options.quiet_wait = 2, 1, 1, 0
    return options


def _selected(options):
    if not options.only:
        return CASES
    return [c for c in CASES if any(o.lower() in c.name.lower() for o in options.only)]


def run(options):
    """
    Measure every selected case C{options.repeat} times, in rounds, printing
    progress, and return the best run of each case by name (the best run is
    the one least disturbed by other work on the machine). A server that
    fails to start is reported and left out.
    """
    ensureWrk()
    runs = {}
    with tempfile.TemporaryDirectory(prefix="appserver-bench-") as workDir:
        for round_ in range(options.repeat):
            for case in _selected(options):
                r = _measureOne(case, options, workDir, round_)
                if r is not None:
                    runs.setdefault(case.name, []).append(r)
    return {name: best(found) for name, found in runs.items()}


def best(runs):
    """
    The run with the most requests/s, with the least CPU time per request
    of all C{runs}.
    """
    fastest = max(runs, key=lambda r: r.requests)
    return dataclasses.replace(fastest, cpu=min(r.cpu for r in runs))


def _measureOne(case, options, workDir, round_):
    print(f"[{round_ + 1}/{options.repeat}] {case.name}: {case.path} ...", end=" ", flush=True)
    waitForQuiet(options.quiet_wait)
    try:
        r = measure(case, options, workDir)
    except RuntimeError as e:
        print(f"FAILED\n{e}", flush=True)
        return None
    print(f"{r.requests:,.0f} req/s, p50 {r.p50:.2f} ms, p99 {r.p99:.2f} ms, "
          f"{r.cpu:.0f} us CPU/req", flush=True)
    return r


def _missed(results):
    return any(ratio is not None and ratio < goal
               for _, _, goal, byRequests, byCpu in targets(results)
               for ratio in (byRequests, byCpu))


def _profile(options):
    cases = {c.name: c for c in CASES}
    print(f"\nProfiling {PROFILED} and {BASELINE} ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="appserver-bench-") as workDir:
        try:
            stats = profileCase(cases[PROFILED], options, workDir)
            baseline = profileCase(cases[BASELINE], options, workDir)
        except (RuntimeError, OSError) as e:
            print(f"profiling failed: {e}", flush=True)
            return None
    return profileMarkdown(stats, PROFILED, baseline)


def main(argv=None):
    """
    Run the benchmark, print the table and the targets, write the "HTTP"
    section of docs/benchmarks.md (unless C{--no-write}) and return it.
    """
    options = parseArguments(sys.argv[1:] if argv is None else argv)
    results = run(options)
    print()
    print(textTable(results))
    print()
    print("\n".join(targetLines(results)))
    profile = None
    if options.profile or _missed(results):
        profile = _profile(options)
        print(profile or "")
    section = markdown(results, options, profile)
    if not options.no_write and not options.only:
        updateDocs(section)
    return section


if __name__ == "__main__":
    main()
