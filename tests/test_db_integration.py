"""
Integration tests: twistd web-app with an app directory whose controllers
use the database (C{self.db}) and whose migrations create their table, on
SQLite and on a real PostgreSQL.
"""

import http.client
import json
import os
import threading
import time
import uuid

from twisted.trial.unittest import SynchronousTestCase

from tests.support import freePort, requireService, startTwistd, stopProcess, tempDir

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DEADLINE = 20

CONTROLLER = """\
from appserver.web import Controller, Created, jsonBody, route

class Notes(Controller):
    @route("/notes")
    async def notes(self, request):
        rows = await self.db.runQuery("SELECT id, body FROM {table} ORDER BY id")
        return [{{"id": i, "body": b}} for i, b in rows]

    @route("/notes", methods=["POST"])
    async def add(self, request):
        body = jsonBody(request)["body"]
        await self.db.runOperation("INSERT INTO {table} (body) VALUES (?)", body)
        return Created({{"body": body}})

    @route("/count")
    async def count(self, request):
        rows = await self.db.runQuery("SELECT count(*) FROM {table}")
        return {{"count": rows[0][0]}}

    @route("/slow")
    async def slow(self, request):
        # PostgreSQL only: keeps the connection busy when it is killed.
        rows = await self.db.runQuery("SELECT count(*) FROM {table}, pg_sleep(0.02)")
        return {{"count": rows[0][0]}}

    @route("/plain")
    def plain(self, request):
        return "plain"
"""

MIGRATION = """\
CREATE TABLE {table} (id {key}, body TEXT NOT NULL);
INSERT INTO {table} (body) VALUES ('seeded');
"""


class Client:
    """
    A keep-alive HTTP client.
    """

    def __init__(self, testCase, port):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        testCase.addCleanup(self.connection.close)

    def __call__(self, method, path, body=None):
        self.connection.request(method, path, body=body)
        response = self.connection.getresponse()
        return response.status, response.read()


def makeApp(root, table, key):
    """
    An app directory with the notes controller and its migration.
    """
    app = os.path.join(root, "app")
    os.makedirs(os.path.join(app, "controllers"))
    os.makedirs(os.path.join(app, "migrations"))
    with open(os.path.join(app, "controllers", "notes.py"), "w") as f:
        f.write(CONTROLLER.format(table=table))
    with open(os.path.join(app, "migrations", f"001_{table}.sql"), "w") as f:
        f.write(MIGRATION.format(table=table, key=key))
    return app


class DatabaseAppMixin:
    """
    The same checks against each database.
    """

    key = "INTEGER PRIMARY KEY"

    def startServer(self, extra=()):
        self.root = tempDir(self)
        self.table = f"notes_{uuid.uuid4().hex[:12]}"
        app = makeApp(self.root, self.table, self.key)
        self.port = freePort()
        args = ["web-app", "--port", f"tcp:{self.port}:interface=127.0.0.1", "--app", app,
                "--db", self.url(), *extra]
        return startTwistd(self, args, self.root, self.port)

    def test_readWrite(self):
        """Migrations ran; controllers read and write through self.db."""
        self.startServer()
        client = Client(self, self.port)
        self.assertEqual(json.loads(client("GET", "/notes")[1]), [{"id": 1, "body": "seeded"}])
        self.assertEqual(client("POST", "/notes", b'{"body": "two"}')[0], 201)
        self.assertEqual([n["body"] for n in json.loads(client("GET", "/notes")[1])],
                         ["seeded", "two"])

    def test_statusPage(self):
        """The status page shows the pool and the ports actually bound."""
        self.startServer()
        tree = json.loads(Client(self, self.port)("GET", "/_appserver/services")[1])
        children = {c["name"]: c for c in tree["services"][0]["children"]}
        self.assertTrue(children["db"]["running"])
        self.assertEqual(children["db"]["figures"]["backend"], self.backend)
        self.assertGreaterEqual(children["db"]["figures"]["threads"], 0)
        self.assertEqual(children["web"]["figures"]["ports"], [f"tcp:127.0.0.1:{self.port}"])


class SQLiteTests(DatabaseAppMixin, SynchronousTestCase):
    """
    On SQLite, in the working directory.
    """

    backend = "sqlite"

    def url(self):
        return "sqlite:///app.sqlite3"

    def test_survivesRestart(self):
        """What was written is there after a restart (migrations not run again)."""
        process = self.startServer()
        self.assertEqual(Client(self, self.port)("POST", "/notes", b'{"body": "kept"}')[0], 201)
        stopProcess(process)
        app = os.path.join(self.root, "app")
        startTwistd(self, ["web-app", "--port", f"tcp:{self.port}:interface=127.0.0.1",
                           "--app", app, "--db", self.url()], self.root, self.port)
        bodies = [n["body"] for n in json.loads(Client(self, self.port)("GET", "/notes")[1])]
        self.assertEqual(bodies, ["seeded", "kept"])


class PostgreSQLTests(DatabaseAppMixin, SynchronousTestCase):
    """
    On the PostgreSQL server of this machine, with a table of our own.
    """

    backend = "postgresql"
    key = "SERIAL PRIMARY KEY"

    def setUp(self):
        requireService("PostgreSQL", "127.0.0.1", 5432)
        self.application = f"appserver-test-{uuid.uuid4().hex[:8]}"
        self.addCleanup(self.dropTable)

    def url(self):
        return f"{POSTGRES}?application_name={self.application}"

    def admin(self, sql, *values):
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test",
                             autocommit=True) as connection:
            cursor = connection.execute(sql, values or None)
            return cursor.fetchall() if cursor.description else []

    def dropTable(self):
        table = getattr(self, "table", None)
        if table:
            self.admin(f"DROP TABLE IF EXISTS {table}")
            self.admin("DELETE FROM appserver_migrations WHERE name = %s", f"001_{table}.sql")

    def terminate(self):
        return self.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = %s", self.application)

    def test_terminatedUnderLoad(self):
        """
        Killing every pool connection under load fails requests with 503 at
        most, briefly; then they succeed again, with no restart of twistd.
        """
        process = self.startServer(["--db-min-threads", "4", "--db-max-threads", "4"])
        statuses, stop = [], threading.Event()

        def load():
            client = Client(self, self.port)
            while not stop.is_set():
                try:
                    statuses.append((time.monotonic(), client("GET", "/slow")[0]))
                except (OSError, http.client.HTTPException):
                    statuses.append((time.monotonic(), "connection"))
                    client = Client(self, self.port)

        workers = [threading.Thread(target=load) for _ in range(4)]
        for worker in workers:
            worker.start()
        try:
            deadline = time.monotonic() + DEADLINE
            while len(statuses) < 50 and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertGreaterEqual(len(self.terminate()), 1)
            killed = time.monotonic()
            self.assertEqual(Client(self, self.port)("GET", "/plain"), (200, b"plain"))
            while time.monotonic() < deadline:
                after = [s for t, s in statuses[-20:] if t > killed]
                if len(after) >= 20 and all(s == 200 for s in after):
                    break
                time.sleep(0.05)
        finally:
            stop.set()
            for worker in workers:
                worker.join(10)
        self.assertIsNone(process.poll())
        after = [s for t, s in statuses if t > killed]
        self.assertEqual(set(after) - {200, 503}, set(), "only 200 or 503 after the kill")
        self.assertEqual([s for s in after[-20:]], [200] * 20, "200 again afterwards")
