"""
Integration tests: a real C{twistd web-app} on a free loopback port, talked
to with a real HTTP client.
"""

import http.client
import json
import os
import re
import signal
import textwrap

from twisted.trial.unittest import SynchronousTestCase

from tests.support import (
    MKTAP, SOURCE_PATH, environment, freePort, readAll, run, startTwistd, stopProcess,
    tempDir,
)

CONTROLLER = '''
from twisted.internet import defer, task
from appserver.web import Controller, route, NotFound, Created, jsonBody

class Site(Controller):
    @route("/hello")
    def hello(self, request):
        return "Hello, world!"

    @route("/items/<int:item>", methods=["GET", "DELETE"])
    async def item(self, request, item):
        if item > 10:
            raise NotFound("no such item")
        return {"item": item, "method": request.method.decode()}

    @route("/page")
    def page(self, request):
        return self.template("page.xml", title="Templated")

    @route("/echo", methods=["POST"])
    def echo(self, request):
        return Created(jsonBody(request))

    @route("/boom")
    def boom(self, request):
        raise ValueError("kaboom")
'''

WSGI_APP = '''
def application(environ, startResponse):
    body = ("wsgi " + environ["PATH_INFO"]).encode()
    startResponse("200 OK", [("Content-Type", "text/plain"),
                             ("Content-Length", str(len(body)))])
    return [body]
'''


def writeFiles(root, files):
    for name, text in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))


class Client:
    """
    A keep-alive HTTP client for one server.
    """

    def __init__(self, testCase, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        testCase.addCleanup(self.connection.close)

    def __call__(self, method, path, body=None, headers=None):
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()


class AppDirectoryTests(SynchronousTestCase):
    """
    An app directory created by the test, served by twistd web-app.
    """

    def setUp(self):
        self.root = tempDir(self)
        app = os.path.join(self.root, "app")
        writeFiles(self.root, {
            "app/controllers/site.py": CONTROLLER,
            "app/templates/page.xml": '<h1 xmlns:t="http://twistedmatrix.com/ns/'
                                      'twisted.web.template/0.1"><t:slot name="title"/></h1>',
            "app/static/hello.txt": "static hello",
            "app/static/sub/index.html": "<p>index</p>",
            "app/app.yaml": "max-body: 1kb\n",
            "secret.txt": "TOP SECRET",
        })
        self.port = freePort()
        startTwistd(self, ["web-app", "--port", f"tcp:{self.port}:interface=127.0.0.1",
                           "--app", app, "--access-log", "access.log"],
                    self.root, self.port)
        self.get = Client(self, self.port)

    def test_routes(self):
        """Controllers answer with text, JSON, templates and errors."""
        status, headers, body = self.get("GET", "/hello")
        self.assertEqual((status, body), (200, b"Hello, world!"))
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertEqual(json.loads(self.get("GET", "/items/3")[2]),
                         {"item": 3, "method": "GET"})
        self.assertEqual(json.loads(self.get("DELETE", "/items/4")[2])["method"], "DELETE")
        self.assertEqual(self.get("GET", "/items/11")[:3:2], (404, b"no such item"))
        self.assertEqual(self.get("GET", "/items/x")[0], 404)
        self.assertIn(b"<h1>Templated</h1>", self.get("GET", "/page")[2])
        status, headers, body = self.get("PUT", "/hello")
        self.assertEqual((status, headers["Allow"]), (405, "GET, HEAD, OPTIONS"))
        self.assertEqual(self.get("GET", "/hello/")[1]["Location"], "/hello")

    def test_errors(self):
        """A failing handler is a short 500; the traceback goes to the log only."""
        status, headers, body = self.get("GET", "/boom")
        self.assertEqual((status, body), (500, b"Internal Server Error"))
        with open(os.path.join(self.root, "twistd.out"), "rb") as f:
            self.assertIn(b"ValueError: kaboom", f.read())

    def test_bodyLimit(self):
        """app.yaml's max-body applies: a larger body gets 413."""
        status, headers, body = self.get("POST", "/echo", body=b'{"a": 1}')
        self.assertEqual((status, json.loads(body)), (201, {"a": 1}))
        status = self.get("POST", "/echo", body=b"x" * 2000)[0]
        self.assertEqual(status, 413)
        self.assertEqual(Client(self, self.port)("POST", "/echo", b"{")[0], 400)

    def test_static(self):
        """Static files are served under /static/, directories through index.html."""
        self.assertEqual(self.get("GET", "/static/hello.txt")[:3:2], (200, b"static hello"))
        self.assertEqual(self.get("GET", "/static/sub/")[2], b"<p>index</p>")
        self.assertEqual(self.get("GET", "/static/")[0], 404)

    def test_traversal(self):
        """No path, however encoded, reaches outside the static directory."""
        for path in [b"/static/../../etc/passwd", b"/static/../secret.txt",
                     b"/static/%2e%2e/%2e%2e/etc/passwd", b"/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                     b"/static/..%2f..%2fetc%2fpasswd", b"/static/%2E%2E/secret.txt",
                     b"/static/sub/%2e%2e/%2e%2e/secret.txt", b"/static/%252e%252e/secret.txt",
                     b"/static/..%5c..%5csecret.txt", b"/static//etc/passwd"]:
            raw = readAll(self.port, send=b"GET " + path + b" HTTP/1.0\r\n\r\n")
            self.assertTrue(raw.startswith(b"HTTP/1.0 404") or raw.startswith(b"HTTP/1.1 404"),
                            (path, raw[:100]))
            self.assertNotIn(b"root:", raw)
            self.assertNotIn(b"TOP SECRET", raw)

    def test_accessLog(self):
        """Requests are written to the access log in combined format."""
        self.get("GET", "/hello")
        self.get.connection.close()
        with open(os.path.join(self.root, "access.log")) as f:
            self.assertIn('"GET /hello HTTP/1.1" 200 13', f.read())


class WSGITests(SynchronousTestCase):
    """
    A WSGI application hosted by twistd web-app.
    """

    def test_wsgi(self):
        """--wsgi serves the application on its thread pool."""
        root = tempDir(self)
        writeFiles(root, {"wsgiapp_mod.py": WSGI_APP})
        port = freePort()
        env = environment(PYTHONPATH=os.pathsep.join([root, SOURCE_PATH]))
        startTwistd(self, ["web-app", "--port", f"tcp:{port}:interface=127.0.0.1",
                           "--wsgi", "wsgiapp_mod:application"], root, port, env=env)
        get = Client(self, port)
        self.assertEqual(get("GET", "/some/path")[:3:2], (200, b"wsgi /some/path"))
        self.assertEqual(get("GET", "/again")[2], b"wsgi /again")


class DemoTests(SynchronousTestCase):
    """
    The built-in demo, served when no app is given.
    """

    def setUp(self):
        self.root = tempDir(self)
        self.port = freePort()
        startTwistd(self, ["web-app", "--port", f"tcp:{self.port}:interface=127.0.0.1"],
                    self.root, self.port)
        self.get = Client(self, self.port)

    def test_pages(self):
        """The home page shows a quote, the list and the form; the form adds quotes."""
        status, headers, body = self.get("GET", "/")
        self.assertEqual(status, 200)
        self.assertIn(b'<form method="post" action="/quotes">', body)
        self.assertIn(b"Simple is better than complex.", body)
        token = re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()
        cookie = headers["Set-Cookie"].split(";")[0]
        self.assertEqual(self.get("GET", "/static/style.css")[0], 200)
        status, headers, body = self.get(
            "POST", "/quotes", body=f"text=Form+quote&author=Tester&csrf_token={token}",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        self.assertEqual((status, headers["Location"]), (303, "/"))
        self.assertIn(b"Form quote", self.get("GET", "/")[2])

    def test_api(self):
        """The JSON API lists, adds, shows and deletes quotes."""
        quotes = json.loads(self.get("GET", "/api/quotes")[2])
        self.assertEqual(sorted(quotes[0]), ["author", "id", "text"])
        status, headers, body = self.get(
            "POST", "/api/quotes", body=json.dumps({"text": "New", "author": "Me"}),
            headers={"Content-Type": "application/json"})
        created = json.loads(body)
        self.assertEqual(status, 201)
        self.assertEqual(headers["Location"], f"/api/quotes/{created['id']}")
        self.assertEqual(json.loads(self.get("GET", headers["Location"])[2]), created)
        self.assertEqual(self.get("DELETE", headers["Location"])[0], 204)
        self.assertEqual(self.get("GET", headers["Location"])[0], 404)
        self.assertEqual(self.get("POST", "/api/quotes", body=b"{oops")[0], 400)
        self.assertEqual(self.get("POST", "/api/quotes", body=b'{"text": ""}')[0], 400)


class PersistedTests(SynchronousTestCase):
    """
    mktap web-app, then twistd -f, serves the same app.
    """

    def test_mktap(self):
        """A .tap written by mktap runs with twistd -f, and so does its shutdown save."""
        root = tempDir(self)
        port = freePort()
        code, output = run([MKTAP, "web-app", "--port", f"tcp:{port}:interface=127.0.0.1"],
                           root)
        self.assertEqual(code, 0, output)
        self.assertTrue(os.path.exists(os.path.join(root, "web-app.tap")), output)
        process = startTwistd(self, ["-f", "web-app.tap"], root, port)
        get = Client(self, port)
        self.assertEqual(get("GET", "/api/quotes/1")[0], 200)
        self.assertIn(b"<form", get("GET", "/")[2])
        get.connection.close()
        self.assertIn(stopProcess(process), (0, -signal.SIGTERM))
        startTwistd(self, ["-f", "web-app-shutdown.tap"], root, port)
        self.assertEqual(Client(self, port)("GET", "/api/quotes")[0], 200)
