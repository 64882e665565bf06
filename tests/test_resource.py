"""
Tests for the app resource: error handling, request helpers, mounts and the
fallback resource.
"""

import json
import pickle
import sys

from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.static import Data

from appserver.web import (
    Controller, NotFound, formField, formFields, jsonBody, queryArg, queryArgs, route,
    uploadedFile,
)
from appserver.web.helpers import MAX_JSON_DEPTH
from appserver.web.resource import AppResource
from appserver.web.router import Router
from appserver.web.static import StaticFiles
from tests.support import tempDir
from tests.websupport import request


class Api(Controller):
    @route("/missing/<int:n>")
    def missing(self, request, n):
        raise NotFound(f"no item {n}")

    @route("/broken")
    def broken(self, request):
        raise RuntimeError("secret detail")

    @route("/echo", methods=["POST"])
    def echo(self, request):
        return {"got": jsonBody(request)}

    @route("/query")
    def query(self, request):
        return {"q": queryArg(request, "q"), "all": queryArgs(request, "t"),
                "none": queryArg(request, "nope", "default")}

    @route("/form", methods=["POST"])
    def form(self, request):
        upload = uploadedFile(request, "doc")
        return {"name": formField(request, "name"), "tags": formFields(request, "tag"),
                "query": queryArg(request, "name"),
                "file": upload and [upload.filename, upload.contentType, upload.data.decode()]}


def appResource(displayTracebacks=False):
    router = Router()
    for pattern, methods, handler in Api().routes():
        router.add(pattern, methods, handler)
    return AppResource(router, displayTracebacks=displayTracebacks)


class ErrorTests(SynchronousTestCase):
    """
    Errors raised by handlers.
    """

    def test_httpError(self):
        """A raised HTTPError becomes its status and short plain body."""
        answer = request(appResource(), path=b"/missing/7")
        self.assertEqual((answer.code, answer.body), (404, b"no item 7"))
        self.assertEqual(answer.header("content-type"), b"text/plain; charset=utf-8")
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_otherError(self):
        """Any other exception is a 500 with a short body; the traceback is logged."""
        answer = request(appResource(), path=b"/broken")
        self.assertEqual((answer.code, answer.body), (500, b"Internal Server Error"))
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_displayTracebacks(self):
        """With displayTracebacks the client gets the traceback."""
        answer = request(appResource(displayTracebacks=True), path=b"/broken")
        self.assertEqual(answer.code, 500)
        self.assertIn(b"RuntimeError: secret detail", answer.body)
        self.flushLoggedErrors(RuntimeError)

    def test_unknownPath(self):
        """A path no route, mount or fallback has is 404 Not Found."""
        answer = request(appResource(), path=b"/nowhere")
        self.assertEqual((answer.code, answer.body), (404, b"Not Found"))


class HelperTests(SynchronousTestCase):
    """
    Request helpers for JSON, query arguments, forms and uploads.
    """

    def test_json(self):
        """A JSON body is parsed."""
        answer = request(appResource(), method=b"POST", path=b"/echo", body=b'{"a": [1]}')
        self.assertEqual(json.loads(answer.body), {"got": {"a": [1]}})

    def test_malformedJSON(self):
        """A malformed JSON body is a 400 naming the problem."""
        answer = request(appResource(), method=b"POST", path=b"/echo", body=b'{"a": ')
        self.assertEqual(answer.code, 400)
        self.assertIn(b"Malformed JSON body: Expecting value at line 1, column 7", answer.body)
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_emptyJSON(self):
        """An empty body where JSON is expected is a 400."""
        answer = request(appResource(), method=b"POST", path=b"/echo")
        self.assertEqual(answer.code, 400)
        self.assertIn(b"empty", answer.body)

    def test_notUTF8JSON(self):
        """A body that is not UTF-8 is a 400."""
        answer = request(appResource(), method=b"POST", path=b"/echo", body=b'"\xff\xfe"')
        self.assertEqual(answer.code, 400)

    def assertRefusedJSON(self, body, message):
        answer = request(appResource(), method=b"POST", path=b"/echo", body=body)
        self.assertEqual((answer.code, answer.body), (400, message))
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_deepJSON(self):
        """JSON nested deeper than MAX_JSON_DEPTH is a 400, however deep; the limit itself is fine."""
        message = b"The JSON body is nested deeper than %d levels." % MAX_JSON_DEPTH
        for depth in [MAX_JSON_DEPTH + 1, 100_000]:
            self.assertRefusedJSON(b'{"a": ' * depth + b"1" + b"}" * depth, message)
            self.assertRefusedJSON(b"[" * depth + b"]" * depth, message)
        body = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
        self.assertEqual(request(appResource(), method=b"POST", path=b"/echo", body=body).code, 200)

    def test_deepJSONCountsOnlyStructure(self):
        """Brackets inside strings, escaped quotes included, do not count as nesting."""
        text = '\\"' + "[" * 1000
        body = json.dumps({"a": [text]}).encode("ascii")
        answer = request(appResource(), method=b"POST", path=b"/echo", body=body)
        self.assertEqual(json.loads(answer.body), {"got": {"a": [text]}})

    def test_longIntegerJSON(self):
        """An integer past Python's digit limit is a 400 naming the limit."""
        limit = sys.get_int_max_str_digits()
        self.assertRefusedJSON(b'{"n": ' + b"1" * (limit + 1) + b"}",
                               b"The JSON body has a number of more than %d digits." % limit)

    def test_loneSurrogateJSON(self):
        """A lone surrogate, escaped or encoded, is a 400; an escaped pair is one character."""
        message = (b"The JSON body has a lone surrogate escape (such as \\ud800), "
                   b"which is no character.")
        for escape in [b"\\ud800", b"\\uDFFF", b"x\\ud800\\u0041", b"\\udc00\\ud800"]:
            self.assertRefusedJSON(b'{"a": ["' + escape + b'"]}', message)
            self.assertRefusedJSON(b'{"' + escape + b'": 1}', message)
        self.assertRefusedJSON(b'"\xed\xa0\x80"', b"The request body is not UTF-8 text.")
        answer = request(appResource(), method=b"POST", path=b"/echo",
                         body=b'["\\ud83d\\ude00", "\\\\ud800"]')
        self.assertEqual(json.loads(answer.body), {"got": ["\U0001F600", "\\ud800"]})

    def test_query(self):
        """Query arguments are decoded text, first value or all of them."""
        answer = request(appResource(), path=b"/query?q=caf%C3%A9&t=1&t=2")
        self.assertEqual(json.loads(answer.body),
                         {"q": "caf\u00e9", "all": ["1", "2"], "none": "default"})

    def test_urlencodedForm(self):
        """Form fields come from a urlencoded body, not from the query."""
        answer = request(
            appResource(), method=b"POST", path=b"/form?name=fromquery",
            headers={b"Content-Type": b"application/x-www-form-urlencoded"},
            body=b"name=Ann&tag=a&tag=b",
        )
        self.assertEqual(json.loads(answer.body), {
            "name": "Ann", "tags": ["a", "b"], "query": "fromquery", "file": None,
        })

    def test_multipart(self):
        """Multipart bodies give fields and uploaded files with their names."""
        body = (
            b"--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nBob\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n"
            b"Content-Type: text/plain\r\n\r\nfile body\r\n--XyZ--\r\n"
        )
        answer = request(
            appResource(), method=b"POST", path=b"/form",
            headers={b"Content-Type": b"multipart/form-data; boundary=XyZ"}, body=body,
        )
        self.assertEqual(json.loads(answer.body), {
            "name": "Bob", "tags": [], "query": None,
            "file": ["a.txt", "text/plain", "file body"],
        })


class MountTests(SynchronousTestCase):
    """
    Mounted resources, static files and the fallback.
    """

    def setUp(self):
        root = FilePath(tempDir(self))
        self.static = root.child("static")
        self.static.makedirs()
        self.static.child("style.css").setContent(b"body{}")
        self.static.child("sub").makedirs()
        root.child("secret.txt").setContent(b"secret")
        self.router = Router()
        self.router.add("/", ["GET"], lambda request: "home")
        self.router.mount("static", StaticFiles(self.static.path))

    def test_static(self):
        """Files under the mount are served with their type."""
        answer = request(AppResource(self.router), path=b"/static/style.css")
        self.assertEqual((answer.code, answer.body), (200, b"body{}"))
        self.assertEqual(answer.header("content-type"), b"text/css")

    def test_traversal(self):
        """Paths that try to leave the static directory are 404."""
        resource = AppResource(self.router)
        for path in [b"/static/../secret.txt", b"/static/%2e%2e/secret.txt",
                     b"/static/..%2fsecret.txt", b"/static/%2e%2e%2fsecret.txt",
                     b"/static/sub/../../secret.txt", b"/static/..%5csecret.txt",
                     b"/static/%2fetc%2fpasswd", b"/static/../../../../etc/passwd"]:
            answer = request(resource, path=path)
            self.assertEqual(answer.code, 404, path)
            self.assertNotIn(b"secret", answer.body, path)

    def test_noListing(self):
        """Directories are not listed."""
        self.assertEqual(request(AppResource(self.router), path=b"/static/sub/").code, 404)
        self.assertEqual(request(AppResource(self.router), path=b"/static/").code, 404)

    def test_fallback(self):
        """Paths nothing else claims go to the fallback resource."""
        leaf = Data(b"fallback", "text/plain")
        leaf.isLeaf = True
        resource = AppResource(self.router, fallback=leaf)
        self.assertEqual(request(resource, path=b"/anything/else").body, b"fallback")
        self.assertEqual(request(resource, path=b"/").body, b"home")

    def test_pickle(self):
        """The resource pickles without its router, which is left empty."""
        resource = AppResource(self.router, fallback=Data(b"f", "text/plain"),
                               displayTracebacks=True)
        restored = pickle.loads(pickle.dumps(resource))
        self.assertTrue(restored.displayTracebacks)
        self.assertEqual(restored.router.routes, [])
        restored.setRouter(self.router)
        self.assertEqual(request(restored, path=b"/").body, b"home")


class PinTests(SynchronousTestCase):
    """
    Resources pinned to an exact path.
    """

    def setUp(self):
        self.router = Router()
        self.router.add("/<path:rest>", ["GET"], lambda request, rest: "routed")
        self.resource = AppResource(self.router)
        self.resource.pin([b"_x", b"page"], Data(b"pinned", "text/plain"))

    def test_beforeRoutes(self):
        """The pinned path is served even where a route would match."""
        self.assertEqual(request(self.resource, path=b"/_x/page").body, b"pinned")

    def test_exactPath(self):
        """Paths near the pinned one go to the router."""
        for path in (b"/_x", b"/_x/page/", b"/_x/page/more", b"/other"):
            self.assertEqual(request(self.resource, path=path).body, b"routed", path)

    def test_newRouter(self):
        """A pin stays when the router is replaced, and pickles."""
        self.resource.setRouter(Router())
        restored = pickle.loads(pickle.dumps(self.resource))
        for resource in (self.resource, restored):
            self.assertEqual(request(resource, path=b"/_x/page").body, b"pinned")
        self.assertIsNone(AppResource().pinned)
