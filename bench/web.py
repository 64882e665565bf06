"""
The HTTP benchmark: wrk against C{twistd web-app} and its peers.

    .venv/bin/python bench/web.py [--duration SECONDS] [--quick] [--repeat N]
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

# Run as a script, Python puts bench/ first on sys.path; these imports want
# the source tree there.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import dataclasses  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402

from bench.lib import (  # noqa: E402
    APPS, Case, cpuDuring, cpuPlan, ensureWrk, parseOptions, pinning, publish, section, serving,
    table, versions, waitForQuiet, withCpu, wrk, wrkVersion,
)
from bench.lib.profiling import profileMarkdown  # noqa: E402

BASELINE = "bare twisted.web"
PROFILED = "web-app /hello"


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


def measure(case, options, workDir):
    """
    Start C{case}'s server, warm it up, run wrk once and return its
    L{Result} with the server's CPU time per request.
    """
    serverPin, wrkPin = cpuPlan()
    with serving(case, workDir, serverPin) as (process, port):
        wrk(port, case.path, options.warmup, options.connections, wrkPin)
        result, spent = cpuDuring(process, lambda: wrk(port, case.path, options.duration,
                                                       options.connections, wrkPin))
    return withCpu(result, spent)


def profileCase(case, options, workDir):
    """
    Run C{case}'s server under cProfile (C{twistd --profile --savestats})
    while wrk loads it for C{options.duration}, and return the loaded
    C{pstats.Stats}.
    """
    import pstats

    serverPin, wrkPin = cpuPlan()
    statsPath = os.path.join(workDir, "profile-" + re.sub(r"\W+", "-", case.name) + ".stats")
    profiled = dataclasses.replace(
        case, command=("--profile", statsPath, "--profiler", "cprofile", "--savestats")
        + case.command)
    with serving(profiled, workDir, serverPin, stopTimeout=60) as (process, port):
        wrk(port, case.path, options.warmup, options.connections, wrkPin)
        wrk(port, case.path, options.duration, options.connections, wrkPin)
    return pstats.Stats(statsPath)


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
    rows = [(name, f"`{path}`", *cells) for name, path, *cells in _rows(results)]
    return "\n".join(table(HEADER, rows, "ll" + "r" * (len(HEADER) - 2)))


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


def _method(options):
    rounds = (f", in {options.repeat} rounds over all servers, keeping each server's best"
              " requests/s and least CPU per request" if options.repeat > 1 else "")
    return (
        "`.venv/bin/python bench/web.py` starts each server as a real `twistd -n` process"
        f" on a loopback port, one at a time (after waiting up to {options.quiet_wait:g} s"
        f" for the machine to be idle), with {pinning()}, warms it up for {options.warmup} s"
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
    body = [markdownTable(results), "", _COLUMNS, "", "Targets:", "",
            *(targetLines(results) or ["- none measured"])]
    if profile:
        body += ["", profile]
    return section("HTTP", _method(options), options, body,
                   versions(("Klein",), (wrkVersion(),)))


PARAMETERS = (
    ("duration", 10, int, 2, "seconds per wrk run"),
    ("warmup", 3, int, 1, "seconds of warm-up"),
    ("connections", 50, int, None, "wrk's connections"),
    ("repeat", 1, int, 1, "rounds over all servers; each server's best run is kept"),
    ("quiet-wait", 30, float, 0, "seconds to wait for an idle machine before each server"),
)
FLAGS = (
    ("--only", {"action": "append", "default": [],
                "help": "measure only servers whose name contains this (repeatable);"
                " leaves docs/benchmarks.md alone"}),
    ("--profile", {"action": "store_true",
                   "help": f"profile {PROFILED} even when every target is met"}),
)


def parseArguments(argv):
    """
    The command line options.
    """
    options = parseOptions(__doc__, argv, PARAMETERS, FLAGS)
    options.no_write = options.no_write or bool(options.only)
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
    return profileMarkdown(stats, PROFILED, baseline, BASELINE)


def main(argv=None):
    """
    Run the benchmark, print the table and the section, write the "HTTP"
    section of docs/benchmarks.md (unless C{--no-write}) and return it.
    """
    options = parseArguments(argv)
    results = run(options)
    print()
    print(textTable(results))
    profile = _profile(options) if options.profile or _missed(results) else None
    return publish(markdown(results, options, profile), options)


if __name__ == "__main__":
    main()
