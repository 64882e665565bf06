"""
Tests for how the app resource renders every kind of handler result.
"""

import json

from twisted.internet import defer
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.static import Data
from twisted.web.template import Element, XMLString, renderer, tags

from appserver.web import (
    BadRequest, Conflict, Created, InternalServerError, NoContent, NotFound, Ok,
    PermanentRedirect, Redirect, Response, SeeOther, TemplateLoader, beforeResponse,
)
from appserver.web.resource import AppResource
from appserver.web.router import Router
from tests.support import tempDir
from tests.websupport import answerOf, request, startRequest


def serve(result, pattern="/r", methods=("GET",)):
    router = Router()
    router.add(pattern, methods, lambda request, **kw: result(request, **kw)
               if callable(result) else result)
    return AppResource(router)


class Greeting(Element):
    loader = XMLString(
        '<p xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1" '
        't:render="greet" />'
    )

    @renderer
    def greet(self, request, tag):
        return tag("hello <you>")


class ResultTests(SynchronousTestCase):
    """
    Each kind of result becomes the expected response.
    """

    def test_str(self):
        """A str is UTF-8 HTML."""
        answer = request(serve("caf\u00e9"), path=b"/r")
        self.assertEqual(answer.code, 200)
        self.assertEqual(answer.header("content-type"), b"text/html; charset=utf-8")
        self.assertEqual(answer.body, "caf\u00e9".encode())
        self.assertEqual(answer.header("content-length"), b"5")

    def test_bytes(self):
        """Bytes are sent as they are, with a type the handler set."""
        def handle(request):
            request.setHeader(b"content-type", b"image/png")
            return b"\x89PNG"
        answer = request(serve(handle), path=b"/r")
        self.assertEqual(answer.body, b"\x89PNG")
        self.assertEqual(answer.header("content-type"), b"image/png")

    def test_dictAndList(self):
        """Dicts and lists are JSON."""
        for value in [{"a": [1, 2]}, [{"b": None}]]:
            answer = request(serve(value), path=b"/r")
            self.assertEqual(answer.header("content-type"), b"application/json")
            self.assertEqual(json.loads(answer.body), value)

    def test_responses(self):
        """Response classes set status, headers and body."""
        cases = [
            (Ok("fine"), 200, b"fine", b"text/html; charset=utf-8"),
            (Created({"id": 1}, location="/items/1"), 201, b'{"id":1}', b"application/json"),
            (NoContent(), 204, b"", None),
            (Conflict("taken"), 409, b"taken", b"text/plain; charset=utf-8"),
            (NotFound(), 404, b"Not Found", b"text/plain; charset=utf-8"),
            (BadRequest({"error": "x"}), 400, b'{"error":"x"}', b"application/json"),
            (InternalServerError(), 500, b"Internal Server Error", b"text/plain; charset=utf-8"),
            (Response(b"teapot", {"X-Kind": "pot"}, code=418), 418, b"teapot", None),
        ]
        for response, code, body, contentType in cases:
            answer = request(serve(response), path=b"/r")
            self.assertEqual((answer.code, answer.body), (code, body), response)
            if contentType:
                self.assertEqual(answer.header("content-type"), contentType, response)
        answer = request(serve(Created({"id": 1}, location="/items/1")), path=b"/r")
        self.assertEqual(answer.header("location"), b"/items/1")
        answer = request(serve(Response(b"", {"X-Kind": "pot"})), path=b"/r")
        self.assertEqual(answer.header("x-kind"), b"pot")

    def test_redirects(self):
        """Redirects carry a Location and their code."""
        answer = request(serve(Redirect("/there")), path=b"/r")
        self.assertEqual((answer.code, answer.header("location")), (302, b"/there"))
        self.assertEqual(request(serve(SeeOther("/x")), path=b"/r").code, 303)
        self.assertEqual(request(serve(PermanentRedirect("/x")), path=b"/r").code, 308)
        self.assertEqual(request(serve(Redirect("/x", code=301)), path=b"/r").code, 301)

    def test_none(self):
        """None is 204 No Content."""
        self.assertEqual(request(serve(None), path=b"/r").code, 204)

    def test_selfWritten(self):
        """A handler may write the response itself and return None or NOT_DONE_YET."""
        def writeNone(request):
            request.write(b"mine")
        answer = request(serve(writeNone), path=b"/r")
        self.assertEqual((answer.code, answer.body), (200, b"mine"))
        pending = []

        def later(request):
            pending.append(request)
            return NOT_DONE_YET
        transport = startRequest(serve(later), path=b"/r")
        self.assertEqual(transport.value(), b"")
        pending[0].write(b"done")
        pending[0].finish()
        self.assertEqual(answerOf(transport).body, b"done")

    def test_resource(self):
        """An IResource is rendered; under a <path:...> route, with the rest of the path."""
        answer = request(serve(Data(b"data!", "text/plain")), path=b"/r")
        self.assertEqual((answer.body, answer.header("content-type")), (b"data!", b"text/plain"))
        tree = Resource()
        tree.putChild(b"a", Resource())
        tree.children[b"a"].putChild(b"b", Data(b"deep", "text/plain"))
        resource = serve(lambda request, rest: tree, "/files/<path:rest>")
        self.assertEqual(request(resource, path=b"/files/a/b").body, b"deep")
        self.assertEqual(request(resource, path=b"/files/a/zz").code, 404)

    def test_renderable(self):
        """Elements are flattened to escaped HTML with a doctype."""
        answer = request(serve(Greeting()), path=b"/r")
        self.assertEqual(answer.header("content-type"), b"text/html; charset=utf-8")
        self.assertEqual(answer.body, b"<!DOCTYPE html>\n<p>hello &lt;you&gt;</p>")
        answer = request(serve(lambda request: tags.p("x")), path=b"/r")
        self.assertEqual(answer.body, b"<!DOCTYPE html>\n<p>x</p>")

    def test_template(self):
        """Templates from a directory render slots, lists and dicts from data."""
        directory = FilePath(tempDir(self))
        directory.child("page.xml").setContent(
            b'<html xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">'
            b'<h1><t:slot name="title"/></h1><ul><li t:render="items">'
            b'<t:slot name="name"/>=<t:slot name="n"/></li></ul>'
            b'<p t:render="note">note</p></html>'
        )
        loader = TemplateLoader(directory)
        element = loader.element("page.xml", title="T<", items=[{"name": "a", "n": 1},
                                                                 {"name": "b", "n": 2}],
                                 note=None)
        answer = request(serve(element), path=b"/r")
        self.assertIn(b"<h1>T&lt;</h1><ul><li>a=1</li><li>b=2</li></ul></html>", answer.body)
        self.assertRaises(LookupError, loader.loader, "missing.xml")
        self.assertRaises(LookupError, loader.loader, "../page.xml")

    def test_deferred(self):
        """A Deferred's result is rendered when it fires."""
        waiting = defer.Deferred()
        transport = startRequest(serve(waiting), path=b"/r")
        self.assertEqual(transport.value(), b"")
        waiting.callback({"late": True})
        self.assertEqual(json.loads(answerOf(transport).body), {"late": True})

    def test_coroutine(self):
        """A coroutine's result is rendered, whatever it returns."""
        waiting = defer.Deferred()

        async def handle(request):
            value = await waiting
            return Created(value)
        transport = startRequest(serve(handle), path=b"/r")
        waiting.callback("made")
        answer = answerOf(transport)
        self.assertEqual((answer.code, answer.body), (201, b"made"))

    def test_coroutineAtOnce(self):
        """A coroutine awaiting only fired Deferreds is answered within the request."""
        async def handle(request):
            return {"n": await defer.succeed(1)}
        answer = answerOf(startRequest(serve(handle), path=b"/r"))
        self.assertEqual((answer.code, answer.body), (200, b'{"n":1}'))

    def test_coroutineRaises(self):
        """A coroutine raising before it waits is a 500."""
        async def handle(request):
            raise ValueError("bad")
        self.assertEqual(request(serve(handle), path=b"/r").code, 500)
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_coroutineHTTPError(self):
        """A coroutine raising an HTTPError after waiting gets that response."""
        waiting = defer.Deferred()

        async def handle(request):
            await waiting
            raise NotFound()
        transport = startRequest(serve(handle), path=b"/r")
        waiting.callback(None)
        self.assertEqual(answerOf(transport).code, 404)

    def test_disconnectCancelsCoroutine(self):
        """What a waiting coroutine awaits is cancelled when the client goes away."""
        cancelled = []
        waiting = defer.Deferred(cancelled.append)

        async def handle(request):
            await waiting
        transport = startRequest(serve(handle), path=b"/r")
        transport.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(cancelled, [waiting])
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_deferredResponseOfDeferred(self):
        """A Deferred firing with a coroutine result chain still renders."""
        async def inner():
            return [1]
        answer = request(serve(lambda request: defer.succeed(None).addCallback(
            lambda ignored: defer.Deferred.fromCoroutine(inner()))), path=b"/r")
        self.assertEqual(answer.body, b"[1]")

    def test_disconnectCancels(self):
        """A pending Deferred is cancelled when the client goes away."""
        cancelled = []
        waiting = defer.Deferred(cancelled.append)
        transport = startRequest(serve(waiting), path=b"/r")
        transport.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(cancelled, [waiting])
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_hooksRunBeforeWriting(self):
        """Before-response hooks run once the result is ready, before it is written."""
        seen = []
        waiting = defer.Deferred()

        def handle(request):
            beforeResponse(request, lambda: seen.append(b"hook") or waiting)
            return "body"
        transport = startRequest(serve(handle), path=b"/r")
        self.assertEqual((seen, transport.value()), ([b"hook"], b""))
        waiting.callback(None)
        self.assertEqual(answerOf(transport).body, b"body")

    def test_firedHooksAtOnce(self):
        """Hooks returning fired Deferreds let the response be written at once."""
        seen = []

        def handle(request):
            beforeResponse(request, lambda: defer.succeed(seen.append(1)))
            beforeResponse(request, lambda: seen.append(2))
            return "body"
        transport = startRequest(serve(handle), path=b"/r")
        self.assertEqual((seen, answerOf(transport).body), ([1, 2], b"body"))

    def test_failedDeferredHook(self):
        """A hook's failed Deferred makes the response a 500."""
        def handle(request):
            beforeResponse(request, lambda: defer.fail(ValueError("no")))
            return "body"
        self.assertEqual(request(serve(handle), path=b"/r").code, 500)
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_resourceFailsAfterHooks(self):
        """A returned resource failing to render after the hooks ran is a 500."""
        class Broken(Resource):
            isLeaf = True

            def render(self, request):
                raise ValueError("broken")

        def handle(request):
            beforeResponse(request, lambda: None)
            return Broken()
        self.assertEqual(request(serve(handle), path=b"/r").code, 500)
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_hookFailure(self):
        """A failing hook makes the response a 500."""
        def handle(request):
            beforeResponse(request, lambda: 1 / 0)
            return "body"
        self.assertEqual(request(serve(handle), path=b"/r").code, 500)
        self.flushLoggedErrors(ZeroDivisionError)

    def test_hooksForResource(self):
        """Hooks also run before an IResource result is rendered."""
        seen = []

        def handle(request):
            beforeResponse(request, lambda: seen.append(1))
            return Data(b"d", "text/plain")
        self.assertEqual(request(serve(handle), path=b"/r").body, b"d")
        self.assertEqual(seen, [1])

    def test_unsupported(self):
        """An unsupported result is a 500."""
        self.assertEqual(request(serve(object()), path=b"/r").code, 500)
        self.assertEqual(len(self.flushLoggedErrors(TypeError)), 1)
