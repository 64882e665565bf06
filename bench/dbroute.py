"""
The DB route benchmark: a JSON route that reads a row through the database
pool, against the same route returning a constant.

    .venv/bin/python bench/dbroute.py [--duration SECONDS] [--quick] [--no-write]

One C{twistd -n web-app} serves an app directory made for the run: its
migration creates and seeds a C{bench_quotes} table; C{/const} returns a
quote dict built in Python, C{/db} returns the same dict read with
C{SELECT ... WHERE id = ?} through C{self.db} (default pool, 3-10 threads).
Each route is warmed up and measured with wrk as in bench/web.py (server
on CPU 0, wrk on CPU 1), the two taking turns C{--repeat} times and keeping
their best run, on SQLite and, when a server answers on
127.0.0.1:5432, on PostgreSQL. The "DB route" section of
docs/benchmarks.md gets requests/s and the ratio DB/constant.
"""

import os
import sys
import tempfile
import uuid

# Run as a script, Python puts bench/ first on sys.path; these imports want
# the source tree there.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from bench.lib import (  # noqa: E402
    POSTGRES_URL, TURNS, Case, cpuPlan, ensureWrk, ifServing, postgresAvailable, runBenchmark,
    section, serving, table, takeTurns, turnsMethod, wrk,
)

CONNECTIONS = 50

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
    with serving(case, work, serverPin) as (process, port):
        results = takeTurns(options.repeat, ("/const", "/db"),
                            lambda path: measureRoute(name, port, path, options, wrkPin))
    return name, results["/const"], results["/db"]


def measureRoute(name, port, path, options, pin):
    """
    Warm C{path} up, measure it and print the L{bench.lib.Result}; return it.
    """
    wrk(port, path, options.warmup, CONNECTIONS, pin)
    result = wrk(port, path, options.duration, CONNECTIONS, pin)
    print(f"{name} {path}: {result.requests:,.0f} requests/s, p50 {result.p50:.2f} ms, "
          f"p99 {result.p99:.2f} ms, errors {result.errors}", flush=True)
    return result


def _row(name, const, db):
    ratio = db.requests / const.requests if const.requests else 0.0
    return (name, f"{const.requests:,.0f}", f"{db.requests:,.0f}", f"{db.p50:.2f}",
            f"{db.p99:.2f}", f"{ratio:.2f}", const.errors + db.errors)


def markdown(rows, options):
    """
    The "DB route" section of docs/benchmarks.md, from the rows of L{run}:
    C{(database name, /const result, /db result)}.
    """
    method = (
        "`.venv/bin/python bench/dbroute.py` serves one app with `twistd -n web-app`:"
        " `/const` returns a quote dict built in Python, `/db` returns the same dict"
        " read with `SELECT id, text, author FROM ... WHERE id = ?` through `self.db`"
        f" (the pool's default 3-10 threads). `wrk -t1 -c{CONNECTIONS}"
        f" -d{options.duration}s --latency` runs against each route. " + turnsMethod(options)
    )
    return section("DB route", method, options, [
        *table(("Database", "`/const` req/s", "`/db` req/s", "`/db` p50 ms", "`/db` p99 ms",
                "DB / constant", "Errors"), [_row(*row) for row in rows]),
        "",
        "Each `/db` request is a round trip to a pool thread (the query, then the"
        " result handed back to the reactor thread), which is what the ratio"
        " measures; the reactor itself never waits for the database.",
    ])


def run(options):
    """
    Measure every backend; return the rows.
    """
    ensureWrk()
    with tempfile.TemporaryDirectory(prefix="appserver-bench-dbroute-") as work:
        sqlite = measureBackend("SQLite", "sqlite:///bench.sqlite3", "bench_quotes",
                                options, work)
        return [sqlite, *ifServing("PostgreSQL on 127.0.0.1:5432", postgresAvailable,
                                   lambda: measurePostgres(options, work))]


def measurePostgres(options, work):
    """
    Measure the backend on PostgreSQL, in a table of the run's own that is
    dropped afterwards; return the row.
    """
    quotes = f"bench_quotes_{uuid.uuid4().hex[:8]}"
    try:
        return measureBackend("PostgreSQL", POSTGRES_URL, quotes, options, work)
    finally:
        dropPostgresTable(quotes)


def main(argv=None):
    """
    Measure, then print and write the section; return it.
    """
    return runBenchmark(__doc__, argv, TURNS, run, markdown)


if __name__ == "__main__":
    main()
