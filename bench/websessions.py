"""
The web sessions benchmark: a route that reads and writes the session
against the same route without sessions.

    .venv/bin/python bench/websessions.py [--duration SECONDS] [--repeat N]
                                          [--quick] [--no-write]

One C{twistd -n web-app} serves an app directory made for the run, with a
fixed C{--secret} and an SQLite C{--db}: C{/plain} returns a constant dict;
C{/async} is the same as a coroutine (the shape of the session route, whose
C{await} makes it one); C{/session} loads the request's session, increments a counter in it (so
every request saves it again) and returns the counter. wrk runs one thread
per connection with a Lua script (L{WRK_SCRIPT}) that keeps the cookie of
its connection's first response and sends it on every later request, so the
figures are of loading and saving existing sessions, not of creating one
per request; the script also reports how many requests found their session.
Each route is warmed up and measured as in bench/web.py (server on CPU 0,
wrk on CPU 1), the three taking turns C{--repeat} times and keeping their best
run, with the embedded memory store and, when Redis answers on
127.0.0.1:6379, with C{--sessions redis://127.0.0.1:6379/0}. The "Web
sessions" section of docs/benchmarks.md gets requests/s and the ratio
session/plain (the target) and session/async.
"""

import dataclasses
import os
import re
import sys
import tempfile

# Run as a script, Python puts bench/ first on sys.path; these imports want
# the source tree there.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from bench.lib import (  # noqa: E402
    REDIS_URL, TURNS, Case, cpuDuring, cpuPlan, ensureWrk, ifServing, parseWrk,
    redisAvailable, runBenchmark, runWrk, section, serving, table, takeTurns, versions,
    turnsMethod, withCpu, wrkVersion,
)

CONNECTIONS = 50
TARGET = 0.75
SECRET = "bench-websessions-secret-0123456"
PATHS = ("/plain", "/async", "/session")

CONTROLLER = """\
from appserver.sessions import getSession
from appserver.web import Controller, route


class Counter(Controller):
    @route("/plain")
    def plain(self, request):
        return {"n": 1}

    @route("/async")
    async def asyncPlain(self, request):
        return {"n": 1}

    @route("/session")
    async def session(self, request):
        session = await getSession(request)
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}
"""

# One Lua state per wrk thread, and one connection per thread: the cookie
# of the connection's first response is sent on all its later requests.
# done() adds up the last counter each connection saw (a global, which is
# what thread:get reads), which is how many of its requests carried its
# session (the first one made it).
WRK_SCRIPT = """\
local cookie = nil
local threads = {}
last = 0

function setup(thread)
  table.insert(threads, thread)
end

function request()
  if cookie then
    return wrk.format(nil, nil, {["Cookie"] = cookie})
  end
  return wrk.format()
end

function response(status, headers, body)
  if cookie == nil then
    local set = headers["Set-Cookie"] or headers["set-cookie"]
    if set then
      cookie = set:match("^[^;]+")
    end
  end
  local n = body:match('"n": *(%d+)')
  if n then
    last = tonumber(n)
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("last") or 0)
  end
  io.write(string.format("Session counters: %d\\n", total))
end
"""


@dataclasses.dataclass(frozen=True)
class Run:
    """
    One wrk run: its L{bench.lib.Result} and, for C{/session}, the sum of
    the connections' last counters.
    """

    result: object
    counters: int = 0


def makeApp(directory):
    """
    Write the app directory and the wrk script; return the script's path.
    """
    os.makedirs(os.path.join(directory, "controllers"))
    with open(os.path.join(directory, "controllers", "counter.py"), "w") as f:
        f.write(CONTROLLER)
    script = os.path.join(directory, "keepcookie.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT)
    return script


def wrkWithScript(port, path, seconds, script, pin):
    """
    Run wrk with C{script}, one thread per connection, and return its
    L{Run}.
    """
    output = runWrk(port, path, seconds, CONNECTIONS, pin, threads=CONNECTIONS, script=script)
    counters = re.search(r"^Session counters: (\d+)", output, re.M)
    return Run(parseWrk(output), int(counters.group(1)) if counters else 0)


def measureOnce(name, process, port, path, options, wrkPin):
    """
    Warm C{path} up, then measure it and print the L{Run}, with the
    server's CPU time per request; return it.
    """
    script = os.path.join(options.app, "keepcookie.lua")
    wrkWithScript(port, path, options.warmup, script, wrkPin)
    run, spent = cpuDuring(
        process, lambda: wrkWithScript(port, path, options.duration, script, wrkPin))
    run = dataclasses.replace(run, result=withCpu(run.result, spent))
    report(name, path, run)
    return run


def measureStore(name, spec, options, work):
    """
    Serve the app with the session store C{spec}, measure the routes and
    return the row C{(name, plain, async, session)} of best L{Run}s.
    """
    command = ("web-app", "--app", options.app, "--secret", SECRET, "--sessions", spec,
               "--session-idle-timeout", "300",
               "--db", "sqlite:///" + os.path.join(work, "bench.sqlite3"))
    case = Case(f"web-app, {name}", command, "--port", "/session", b'"n"')
    serverPin, wrkPin = cpuPlan()
    with serving(case, work, serverPin) as (process, port):
        best = takeTurns(
            options.repeat, PATHS,
            lambda path: measureOnce(name, process, port, path, options, wrkPin),
            requests=lambda run: run.result.requests)
    return name, best["/plain"], best["/async"], best["/session"]


def report(name, path, run):
    """
    Print one measurement.
    """
    r = run.result
    found = f", session counters {run.counters:,}" if path == "/session" else ""
    print(f"{name} {path}: {r.requests:,.0f} requests/s, p50 {r.p50:.2f} ms, "
          f"p99 {r.p99:.2f} ms, {r.cpu:.0f} us CPU/req, errors {r.errors}{found}", flush=True)


def _verdict(ratio):
    return "met" if ratio >= TARGET else f"**missed** by {(TARGET - ratio) / TARGET:.1%}"


def _ratio(run, other):
    return run.result.requests / other.result.requests


def _row(name, plain, asyncPlain, session):
    byCpu = plain.result.cpu / session.result.cpu if session.result.cpu else 0.0
    errors = plain.result.errors + asyncPlain.result.errors + session.result.errors
    return (name, f"{plain.result.requests:,.0f}", f"{asyncPlain.result.requests:,.0f}",
            f"{session.result.requests:,.0f}", f"{session.result.p50:.2f}",
            f"{session.result.p99:.2f}", f"{_ratio(session, plain):.2f}",
            f"{_ratio(session, asyncPlain):.2f}", f"{byCpu:.2f}", errors)


def _cpuLine(name, plain, asyncPlain, session):
    return (f"- {name}: `/plain` {plain.result.cpu:.0f} us, `/async`"
            f" {asyncPlain.result.cpu:.0f} us, `/session` {session.result.cpu:.0f} us")


def markdown(rows, options):
    """
    The "Web sessions" section of docs/benchmarks.md, from the rows of
    L{run}, one per store: C{(name, /plain, /async, /session)} best L{Run}s.
    """
    method = (
        "`.venv/bin/python bench/websessions.py` serves one app with `twistd -n web-app"
        " --secret ... --db sqlite:///...`: `/plain` returns a constant dict, `/async`"
        " is the same as a coroutine (`async def`, the shape of the session route),"
        " `/session` does `session = await getSession(request); session[\"n\"] ="
        " session.get(\"n\", 0) + 1` and returns the counter, so every request loads"
        " its session and saves it changed. wrk runs one thread per connection"
        f" (`wrk -t{CONNECTIONS} -c{CONNECTIONS} -d{options.duration}s --latency -s"
        " keepcookie.lua`) with a Lua script that keeps the session cookie of each"
        " connection's first response and sends it on all its later requests: the"
        " figures are of existing sessions, not of one new session per request. "
        + turnsMethod(options)
    )
    return section("Web sessions", method, options, [
        *table(("Session store", "`/plain` req/s", "`/async` req/s", "`/session` req/s",
                "`/session` p50 ms", "`/session` p99 ms", "session / plain", "session / async",
                "session / plain by CPU", "Errors"), [_row(*row) for row in rows]),
        "",
        "*session / plain by CPU* is `/plain`'s server CPU time per request divided by"
        " `/session`'s (the Redis row leaves out redis-server's own CPU time). Server"
        " CPU time per request:",
        "",
        *(_cpuLine(*row) for row in rows),
        "",
        f"Target: session / plain >= {TARGET}x by requests/s: "
        + "; ".join(f"{name} {_ratio(session, plain):.2f}x, {_verdict(_ratio(session, plain))}"
                    f" (against `/async`: {_ratio(session, asyncPlain):.2f}x,"
                    f" {_verdict(_ratio(session, asyncPlain))})"
                    for name, plain, asyncPlain, session in rows) + ".",
        "",
        "Where `/session` spends its time beyond `/async`: reading the cookie and"
        " checking its signature (a verified value is remembered, so only a"
        " browser's first request pays for the HMAC), loading the record and"
        " pushing its idle expiry (one `Store.getAndExpire` with the memory"
        " store), decoding its JSON, and, once the result is ready, the"
        " before-response hook (run eagerly by `appserver.web.hooks`, with no"
        " Deferred when the store answers at once) that encodes the changed"
        " record and saves it; with Redis, the load (`GET` + `PEXPIRE`,"
        " pipelined) and the save (`SET ... PX`) are two round trips on the"
        " client's pooled connections, replies parsed by hiredis when it is"
        " installed.",
        "",
        "Sessions found: each connection's last counter is how many of its requests"
        " carried its session (the first one made it); their sum against the"
        " requests of the measured run: "
        + "; ".join(f"{session.counters:,} of {session.result.count:,} ({name})"
                    for name, _, _, session in rows) + ".",
    ], versions(("Klein",), (wrkVersion(),)))


def run(options):
    """
    Measure every store; return the rows.
    """
    ensureWrk()
    with tempfile.TemporaryDirectory(prefix="appserver-bench-websessions-") as work:
        options.app = os.path.join(work, "app")
        makeApp(options.app)
        memory = measureStore("memory (embedded)", "memory", options, work)
        return [memory, *ifServing(
            "Redis on 127.0.0.1:6379", redisAvailable,
            lambda: measureStore("Redis 127.0.0.1:6379", REDIS_URL, options, work))]


def main(argv=None):
    """
    Measure, then print and write the section; return it.
    """
    return runBenchmark(__doc__, argv, TURNS, run, markdown)


if __name__ == "__main__":
    main()
