"""
The DB route benchmark: a JSON route that reads a row through the database
pool, against the same route returning a constant.

    .venv/bin/python bench/dbroute.py [--duration SECONDS] [--quick] [--no-write]

One C{twistd -n web-app} serves an app directory made for the run: its
migration creates and seeds a C{bench_quotes} table; C{/const} returns a
quote dict built in Python, C{/db} returns the same dict read with
C{SELECT ... WHERE id = ?} through C{self.db} (default pool, 3-10 threads).
Each route is warmed up and measured with wrk as in bench/http.py (server
on CPU 0, wrk on CPU 1), the two taking turns C{--repeat} times and keeping
their best run, on SQLite and, when a server answers on
127.0.0.1:5432, on PostgreSQL. The "DB route" section of
docs/benchmarks.md gets requests/s and the ratio DB/constant.
"""

import os
import sys

# Run as a script, this file's folder comes first on sys.path, where
# bench/http.py would shadow the standard library's http package.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse
import datetime
import socket
import tempfile
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "examples")]

from bench.http import (  # noqa: E402
    Case, cpuPlan, ensureWrk, freePort, machine, startServer, stopServer, updateDocs,
    waitForQuiet, wrk,
)

CONNECTIONS = 50
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"

CONTROLLER = """\
from appserver.web import Controller, route

QUOTE = {{"id": 1, "text": "Simple is better than complex.", "author": "Tim Peters"}}


class Quotes(Controller):
    @route("/const")
    def const(self, request):
        return dict(QUOTE)

    @route("/db")
    async def db(self, request):
        rows = await self.db.runQuery(
            "SELECT id, text, author FROM {table} WHERE id = ?", 1)
        quoteId, text, author = rows[0]
        return {{"id": quoteId, "text": text, "author": author}}
"""

MIGRATION = """\
CREATE TABLE {table} (id INTEGER PRIMARY KEY, text TEXT NOT NULL, author TEXT NOT NULL);
INSERT INTO {table} (id, text, author) VALUES
    (1, 'Simple is better than complex.', 'Tim Peters'),
    (2, 'Talk is cheap. Show me the code.', 'Linus Torvalds');
"""


def makeApp(directory, table):
    """
    Write the app directory: the controller and its migration.
    """
    for folder in ("controllers", "migrations"):
        os.makedirs(os.path.join(directory, folder))
    with open(os.path.join(directory, "controllers", "quotes.py"), "w") as f:
        f.write(CONTROLLER.format(table=table))
    with open(os.path.join(directory, "migrations", f"001_{table}.sql"), "w") as f:
        f.write(MIGRATION.format(table=table))


def postgresAvailable():
    """
    Whether a PostgreSQL server answers on 127.0.0.1:5432.
    """
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


def dropPostgresTable(table):
    """
    Remove the run's table and its migration record from PostgreSQL.
    """
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test",
                         autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.execute("DELETE FROM appserver_migrations WHERE name = %s",
                           (f"001_{table}.sql",))


def measureBackend(name, url, table, options, work):
    """
    Serve the app, its quotes in C{table}, on C{url} and measure both
    routes; return the row.
    """
    app = os.path.join(work, table)
    makeApp(app, table)
    case = Case(f"web-app on {name}", ("web-app", "--app", app, "--db", url), "--port",
                "/db", b'"Tim Peters"')
    serverPin, wrkPin = cpuPlan()
    port = freePort()
    process = startServer(case, port, work, serverPin)
    try:
        results = {}
        for _ in range(options.repeat):
            for path in ("/const", "/db"):
                waitForQuiet(10)
                wrk(port, path, options.warmup, CONNECTIONS, wrkPin)
                result = wrk(port, path, options.duration, CONNECTIONS, wrkPin)
                report(name, path, result)
                if path not in results or result.requests > results[path].requests:
                    results[path] = result
    finally:
        stopServer(process)
    return name, results["/const"], results["/db"]


def report(name, path, result):
    """
    Print one measurement.
    """
    print(f"{name} {path}: {result.requests:,.0f} requests/s, p50 {result.p50:.2f} ms, "
          f"p99 {result.p99:.2f} ms, errors {result.errors}", flush=True)


def markdown(rows, options):
    """
    The "DB route" section of docs/benchmarks.md.
    """
    lines = [
        "## DB route",
        "",
        "`.venv/bin/python bench/dbroute.py` serves one app with `twistd -n web-app`:"
        " `/const` returns a quote dict built in Python, `/db` returns the same dict"
        " read with `SELECT id, text, author FROM ... WHERE id = ?` through `self.db`"
        " (the pool's default 3-10 threads). Each route is warmed up for"
        f" {options.warmup} s, then `wrk -t1 -c{CONNECTIONS} -d{options.duration}s"
        " --latency` runs against it, the server pinned to CPU 0 and wrk to CPU 1;"
        f" the two routes take turns {options.repeat} times and each keeps its best"
        " run (other work on the machine only ever lowers a run).",
        "",
        f"- Date: {datetime.date.today().isoformat()}",
        f"- Machine: {machine()}; load average before the run: {options.loadBefore:.2f}",
        "",
        "| Database | `/const` req/s | `/db` req/s | `/db` p50 ms | `/db` p99 ms"
        " | DB / constant | Errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, const, db in rows:
        ratio = db.requests / const.requests if const.requests else 0.0
        lines.append(f"| {name} | {const.requests:,.0f} | {db.requests:,.0f} | {db.p50:.2f}"
                     f" | {db.p99:.2f} | {ratio:.2f} | {const.errors + db.errors} |")
    lines += [
        "",
        "Each `/db` request is a round trip to a pool thread (the query, then the"
        " result handed back to the reactor thread), which is what the ratio"
        " measures; the reactor itself never waits for the database.",
    ]
    return "\n".join(lines) + "\n"


def parseArguments(argv):
    """
    The command line options.
    """
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per route")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per route, interleaved; the best is kept")
    parser.add_argument("--quick", action="store_true", help="2 s per route, once")
    parser.add_argument("--no-write", action="store_true",
                        help="print only; leave docs/benchmarks.md alone")
    options = parser.parse_args(argv)
    options.warmup = 1
    if options.quick:
        options.duration, options.repeat = 2, 1
    return options


def run(options):
    """
    Measure every backend; return the rows.
    """
    ensureWrk()
    rows = []
    with tempfile.TemporaryDirectory(prefix="appserver-bench-dbroute-") as work:
        rows.append(measureBackend("SQLite", "sqlite:///bench.sqlite3", "bench_quotes",
                                   options, work))
        if postgresAvailable():
            table = f"bench_quotes_{uuid.uuid4().hex[:8]}"
            try:
                rows.append(measureBackend("PostgreSQL", POSTGRES_URL, table, options, work))
            finally:
                dropPostgresTable(table)
        else:
            print("PostgreSQL is not reachable on 127.0.0.1:5432; skipped", flush=True)
    return rows


def main(argv=None):
    """
    Run the benchmark, write the "DB route" section of docs/benchmarks.md
    (unless C{--no-write}) and return it.
    """
    options = parseArguments(sys.argv[1:] if argv is None else argv)
    options.loadBefore = os.getloadavg()[0]
    rows = run(options)
    section = markdown(rows, options)
    print()
    print(section)
    if not options.no_write:
        updateDocs(section)
    return section


if __name__ == "__main__":
    main()
