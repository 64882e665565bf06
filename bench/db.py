"""
The database benchmark: reactor lag while slow queries run in the pool.

    .venv/bin/python bench/db.py [--duration SECONDS] [--quick] [--no-write]

A 10 ms C{LoopingCall} records when it actually runs while 20 slow queries
are kept in flight through L{services.db.DatabaseService} (each one
finishing starts the next): an SQLite recursive query that keeps a CPU busy
for about 0.2 s, and PostgreSQL's C{pg_sleep(0.2)} when a server answers on
127.0.0.1:5432. Lag is how much later than 10 ms after the previous tick a
tick ran; the target is a maximum of 20 ms. Each backend is measured with
the default pool (3-10 threads, so 10 queries wait in the queue) and with 20
threads (and SQLite with a single thread, fewer than the CPUs). The
figures go into the "Database" section of docs/benchmarks.md.
"""

import os
import statistics
import sys
import tempfile
import time

# Run as a script, Python puts bench/ first on sys.path; these imports want
# the source tree there.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from twisted.internet import defer, task  # noqa: E402
from twisted.python import failure  # noqa: E402

from bench.lib import (  # noqa: E402
    POSTGRES_URL, postgresAvailable, runBenchmark, section, table,
)
from services.db import DatabaseService  # noqa: E402

CONCURRENT = 20
TICK = 0.010
TARGET_MS = 20
PARAMETERS = (("duration", 5.0, float, 1.0, "seconds of load per case"),)
SQLITE_SLOW = ("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
               "WHERE n < ?) SELECT count(*) FROM c")
def calibrateSQLite(seconds=0.2):
    """
    Find how many rows of the recursive query take about C{seconds}.
    """
    import sqlite3

    rows = 100_000
    with sqlite3.connect(":memory:") as connection:
        while True:
            started = time.perf_counter()
            connection.execute(SQLITE_SLOW, (rows,)).fetchall()
            took = time.perf_counter() - started
            if took >= seconds / 4:
                return int(rows * seconds / took)
            rows *= 4


class LagMeter:
    """
    A 10 ms LoopingCall that records how late each tick is.
    """

    def __init__(self, clock):
        self.clock = clock
        self.lags = []
        self.last = None
        self.call = task.LoopingCall(self.tick)
        self.call.clock = clock

    def tick(self):
        now = time.perf_counter()
        if self.last is not None:
            self.lags.append(max(0.0, now - self.last - TICK))
        self.last = now

    def start(self):
        self.call.start(TICK)

    def stop(self):
        self.call.stop()

    def figures(self, queries):
        """
        The lag figures in milliseconds, with how many C{queries} ran.
        """
        lags = sorted(self.lags) or [0.0]
        return {"queries": queries, "ticks": len(self.lags),
                "p99": lags[max(0, int(len(lags) * 0.99) - 1)] * 1000,
                "max": lags[-1] * 1000, "mean": statistics.fmean(lags) * 1000}


@defer.inlineCallbacks
def keepBusy(db, sql, values, seconds):
    """
    Keep C{CONCURRENT} queries in flight for C{seconds}; return how many ran.
    """
    deadline = time.monotonic() + seconds
    done = [0]

    @defer.inlineCallbacks
    def worker():
        while time.monotonic() < deadline:
            yield db.runQuery(sql, *values)
            done[0] += 1

    yield defer.gatherResults([worker() for _ in range(CONCURRENT)])
    return done[0]


@defer.inlineCallbacks
def measure(reactor, url, sql, values, threads, seconds):
    """
    Start a pool on C{url} with C{threads} (min, max), run the load with
    the lag meter on, and return the figures.
    """
    db = DatabaseService(url, *threads, reactor=reactor)
    db.startService()
    meter = LagMeter(reactor)
    meter.start()
    try:
        queries = yield keepBusy(db, sql, values, seconds)
    finally:
        meter.stop()
        db.stopService()
    return meter.figures(queries)


@defer.inlineCallbacks
def idle(reactor, seconds):
    """
    The lag of the same LoopingCall with no database work, for reference.
    """
    meter = LagMeter(reactor)
    meter.start()
    yield task.deferLater(reactor, seconds, lambda: None)
    meter.stop()
    return meter.figures(0)


@defer.inlineCallbacks
def run(reactor, options, results):
    """
    Measure every case into C{results}, a list of C{(name, figures)}.
    """
    results.append(("no queries (reference)", (yield idle(reactor, options.duration))))
    with tempfile.TemporaryDirectory(prefix="appserver-bench-db-") as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        rows = calibrateSQLite()
        for threads in ((3, 10), (20, 20), (1, 1)):
            name = f"SQLite, 0.2 s CPU-bound query, {threads[0]}-{threads[1]} threads"
            figures = yield measure(reactor, url, SQLITE_SLOW, (rows,), threads,
                                    options.duration)
            report(name, figures)
            results.append((name, figures))
    if postgresAvailable():
        for threads in ((3, 10), (20, 20)):
            name = f"PostgreSQL, pg_sleep(0.2), {threads[0]}-{threads[1]} threads"
            figures = yield measure(reactor, POSTGRES_URL, "SELECT pg_sleep(0.2)", (),
                                    threads, options.duration)
            report(name, figures)
            results.append((name, figures))
    else:
        print("PostgreSQL is not reachable on 127.0.0.1:5432; skipped", flush=True)


def report(name, figures):
    """
    Print one case's figures.
    """
    print(f"{name}: {figures['queries']} queries, lag max {figures['max']:.1f} ms, "
          f"p99 {figures['p99']:.1f} ms, mean {figures['mean']:.2f} ms", flush=True)


def markdown(results, options):
    """
    The "Database" section of docs/benchmarks.md.
    """
    method = (
        "`.venv/bin/python bench/db.py` keeps 20 slow queries in flight through the"
        " DB pool service (each one finishing starts the next) for"
        f" {options.duration} s while a 10 ms `LoopingCall` records how late each of"
        " its ticks runs (reactor lag). SQLite runs a recursive query that keeps a"
        " CPU busy for about 0.2 s (the module releases the GIL while SQLite works);"
        " PostgreSQL runs `pg_sleep(0.2)`. CPU-bound queries in more threads than"
        " the machine has CPUs compete with the reactor thread for the CPUs (the"
        " reactor is not waiting on the database, the operating system is sharing"
        " the CPUs); size an SQLite pool doing heavy queries to the CPUs."
    )
    return section("Database", method, options, [
        *table(("Case", "Queries done", "Lag max (ms)", "Lag p99 (ms)", "Lag mean (ms)",
                f"Max ≤ {TARGET_MS} ms"),
               [(name, f["queries"], f"{f['max']:.1f}", f"{f['p99']:.1f}", f"{f['mean']:.2f}",
                 "yes" if f["max"] <= TARGET_MS else "no") for name, f in results],
               "lrrrrc"),
        "",
        f"Target: reactor lag max ≤ {TARGET_MS} ms while 20 slow queries run (last"
        " column). Other work on the machine during the run adds to every row: see"
        " the reference row.",
    ])


def runReactor(options):
    """
    Run the measurements on the global reactor (not C{task.react}, which
    exits the process) and return their results, re-raising their failure.
    """
    from twisted.internet import reactor

    outcome, results = [], []

    def start():
        d = run(reactor, options, results)
        d.addBoth(outcome.append)
        d.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run()
    if outcome and isinstance(outcome[0], failure.Failure):
        outcome[0].raiseException()
    return results


def main(argv=None):
    """
    Measure, then print and write the section; return it.
    """
    return runBenchmark(__doc__, argv, PARAMETERS, runReactor, markdown)


if __name__ == "__main__":
    main()
