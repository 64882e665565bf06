"""
Tests for appserver.web.router and the routing behaviour of the app resource.
"""

import uuid

from twisted.trial.unittest import SynchronousTestCase

from appserver.web import Controller, route
from appserver.web.resource import AppResource
from appserver.web.router import RouteConflict, RouteError, Router
from tests.websupport import request


def segments(path):
    return path[1:].encode("utf-8").split(b"/")


def handler(name):
    def handle(request, **parameters):
        return (name, parameters)

    handle.__name__ = name
    return handle


class RouterTests(SynchronousTestCase):
    """
    Lookups in a L{Router}.
    """

    def lookup(self, router, path, method=b"GET"):
        match = router.lookup(method, segments(path))
        if match is None or match.endpoint is None:
            return None
        return match.endpoint.handler.__name__, match.parameters

    def test_literal(self):
        """A literal route matches exactly its own path."""
        router = Router()
        router.add("/hello", ["GET"], handler("hello"))
        self.assertEqual(self.lookup(router, "/hello"), ("hello", {}))
        self.assertIsNone(router.lookup(b"GET", segments("/hello/world")))
        self.assertIsNone(router.lookup(b"GET", segments("/xhello")))
        self.assertIsNone(router.lookup(b"GET", segments("/hell")))

    def test_root(self):
        """The root pattern matches only the root path."""
        router = Router()
        router.add("/", ["GET"], handler("root"))
        self.assertEqual(self.lookup(router, "/"), ("root", {}))
        self.assertIsNone(router.lookup(b"GET", segments("/x")))

    def test_escaped(self):
        """Regular expression characters in patterns mean themselves."""
        router = Router()
        router.add("/a.b", ["GET"], handler("dot"))
        router.add("/files/<name>.txt", ["GET"], handler("txt"))
        router.add("/x+y/<int:n>", ["GET"], handler("plus"))
        self.assertEqual(self.lookup(router, "/a.b"), ("dot", {}))
        self.assertIsNone(self.lookup(router, "/axb"))
        self.assertEqual(self.lookup(router, "/files/a.txt"), ("txt", {"name": "a"}))
        self.assertIsNone(self.lookup(router, "/files/a.txtx"))
        self.assertIsNone(self.lookup(router, "/files/aXtxt"))
        self.assertEqual(self.lookup(router, "/x+y/3"), ("plus", {"n": 3}))
        self.assertIsNone(self.lookup(router, "/xxy/3"))

    def test_str(self):
        """<name> takes one non-empty segment as str."""
        router = Router()
        router.add("/users/<name>", ["GET"], handler("user"))
        self.assertEqual(self.lookup(router, "/users/ann"), ("user", {"name": "ann"}))
        self.assertEqual(self.lookup(router, "/users/Zo%C3%AB".replace("%C3%AB", "\u00eb")),
                         ("user", {"name": "Zo\u00eb"}))
        self.assertIsNone(self.lookup(router, "/users/"))
        self.assertIsNone(self.lookup(router, "/users/ann/more"))

    def test_int(self):
        """<int:name> converts digits (with an optional minus) and nothing else."""
        router = Router()
        router.add("/items/<int:item>", ["GET"], handler("item"))
        self.assertEqual(self.lookup(router, "/items/42"), ("item", {"item": 42}))
        self.assertEqual(self.lookup(router, "/items/-3"), ("item", {"item": -3}))
        for bad in ["/items/4x", "/items/x", "/items/4.5", "/items/ 4", "/items/\u0664"]:
            self.assertIsNone(self.lookup(router, bad), bad)

    def test_float(self):
        """<float:name> converts decimal numbers."""
        router = Router()
        router.add("/price/<float:amount>", ["GET"], handler("price"))
        self.assertEqual(self.lookup(router, "/price/2.5"), ("price", {"amount": 2.5}))
        self.assertEqual(self.lookup(router, "/price/3"), ("price", {"amount": 3.0}))
        for bad in ["/price/nan", "/price/inf", "/price/1e5", "/price/2.", "/price/x"]:
            self.assertIsNone(self.lookup(router, bad), bad)

    def test_uuid(self):
        """<uuid:name> converts canonical UUIDs only."""
        router = Router()
        router.add("/things/<uuid:thing>", ["GET"], handler("thing"))
        value = uuid.uuid4()
        self.assertEqual(self.lookup(router, f"/things/{value}"), ("thing", {"thing": value}))
        self.assertIsNone(self.lookup(router, f"/things/{value.hex}"))
        self.assertIsNone(self.lookup(router, "/things/not-a-uuid"))

    def test_path(self):
        """<path:name> takes the rest of the path, at least one character."""
        router = Router()
        router.add("/files/<path:rest>", ["GET"], handler("files"))
        self.assertEqual(self.lookup(router, "/files/a/b/c.txt"), ("files", {"rest": "a/b/c.txt"}))
        self.assertEqual(self.lookup(router, "/files/a"), ("files", {"rest": "a"}))
        self.assertIsNone(self.lookup(router, "/files/"))
        self.assertIsNone(self.lookup(router, "/files"))

    def test_pathMustEnd(self):
        """A <path:...> that does not end the pattern is refused."""
        self.assertRaises(RouteError, Router().add, "/a/<path:p>/b", ["GET"], handler("x"))
        self.assertRaises(RouteError, Router().add, "/a/x<path:p>", ["GET"], handler("x"))

    def test_malformed(self):
        """Malformed patterns are refused with RouteError."""
        for pattern in ["relative", "/a/<bogus:x>", "/a/<x", "/a/<int:x>/<x>", "/a/<>"]:
            self.assertRaises(RouteError, Router().add, pattern, ["GET"], handler("x"))

    def test_priority(self):
        """Literal beats mixed beats uuid beats int beats float beats str."""
        router = Router()
        router.add("/p/new", ["GET"], handler("literal"))
        router.add("/p/<name>", ["GET"], handler("str"))
        router.add("/p/<float:f>", ["GET"], handler("float"))
        router.add("/p/<int:i>", ["GET"], handler("int"))
        router.add("/p/<uuid:u>", ["GET"], handler("uuid"))
        router.add("/p/<name>.json", ["GET"], handler("mixed"))
        self.assertEqual(self.lookup(router, "/p/new")[0], "literal")
        self.assertEqual(self.lookup(router, "/p/x.json")[0], "mixed")
        self.assertEqual(self.lookup(router, f"/p/{uuid.uuid4()}")[0], "uuid")
        self.assertEqual(self.lookup(router, "/p/7")[0], "int")
        self.assertEqual(self.lookup(router, "/p/7.5")[0], "float")
        self.assertEqual(self.lookup(router, "/p/seven")[0], "str")

    def test_backtracking(self):
        """A converter that matches a segment but leads nowhere gives way to the next."""
        router = Router()
        router.add("/a/<int:n>/x", ["GET"], handler("int"))
        router.add("/a/<name>/y", ["GET"], handler("str"))
        self.assertEqual(self.lookup(router, "/a/5/y"), ("str", {"name": "5"}))
        self.assertEqual(self.lookup(router, "/a/5/x"), ("int", {"n": 5}))

    def test_conflict(self):
        """Routes of the same shape sharing a method conflict, whatever the names."""
        router = Router()
        router.add("/items/<int:item>", ["GET"], handler("a"))
        self.assertRaises(RouteConflict, router.add, "/items/<int:other>", ["GET", "PUT"],
                          handler("b"))
        self.assertRaises(RouteConflict, router.add, "/items/<int:item>", ["get"], handler("c"))
        router.add("/items/<int:other>", ["DELETE"], handler("d"))
        self.assertEqual(self.lookup(router, "/items/3", b"DELETE"), ("d", {"other": 3}))
        router.add("/items/<name>", ["GET"], handler("e"))
        literal = Router()
        literal.add("/x", ["GET"], handler("x"))
        self.assertRaises(RouteConflict, literal.add, "/x", ["GET"], handler("y"))

    def test_methods(self):
        """A known path with another method gives a match without endpoint, listing methods."""
        router = Router()
        router.add("/things", ["GET"], handler("list"))
        router.add("/things", ["POST"], handler("add"))
        router.add("/things/<int:n>", ["DELETE"], handler("delete"))
        self.assertEqual(self.lookup(router, "/things", b"POST"), ("add", {}))
        match = router.lookup(b"PUT", segments("/things"))
        self.assertIsNone(match.endpoint)
        self.assertEqual(match.allowed, (b"GET", b"POST"))
        self.assertEqual(router.lookup(b"GET", segments("/things/3")).allowed, (b"DELETE",))
        self.assertEqual(router.allowed(segments("/nothing")), ())

    def test_methodAcrossShapes(self):
        """A less specific route with the method wins over a more specific one without it."""
        router = Router()
        router.add("/a/<int:n>", ["GET"], handler("int"))
        router.add("/a/<name>", ["POST"], handler("str"))
        self.assertEqual(self.lookup(router, "/a/3", b"POST"), ("str", {"name": "3"}))
        router.add("/b/c", ["POST"], handler("literal"))
        router.add("/b/<name>", ["GET"], handler("named"))
        self.assertEqual(self.lookup(router, "/b/c"), ("named", {"name": "c"}))

    def test_manyRoutes(self):
        """Thousands of routes are found, each by its own path."""
        router = Router()
        for n in range(2000):
            router.add(f"/r{n}/<int:x>", ["GET"], handler(f"h{n}"))
            router.add(f"/s{n}", ["GET"], handler(f"s{n}"))
        self.assertEqual(self.lookup(router, "/r1999/5"), ("h1999", {"x": 5}))
        self.assertEqual(self.lookup(router, "/s1234"), ("s1234", {}))


class Shop(Controller):
    prefix = "/shop"

    @route("/items")
    def items(self, request):
        return "items"

    @route("/items/<int:item>", methods=["GET", "DELETE"])
    def item(self, request, item):
        return f"item {item} {request.method.decode()}"

    @route("/dir/")
    def directory(self, request):
        return "dir"

    @route("/")
    def home(self, request):
        return "home"


def appResource(*controllers):
    router = Router()
    for controller in controllers:
        for pattern, methods, method in controller.routes():
            router.add(pattern, methods, method)
    return AppResource(router)


class DispatchTests(SynchronousTestCase):
    """
    How the app resource answers for routes: prefix, 404, 405, OPTIONS,
    HEAD, trailing slash.
    """

    def setUp(self):
        self.resource = appResource(Shop())

    def test_prefix(self):
        """A controller's prefix is prepended to its routes."""
        self.assertEqual(request(self.resource, path=b"/shop/items").body, b"items")
        self.assertEqual(request(self.resource, path=b"/shop/items/3").body, b"item 3 GET")
        self.assertEqual(request(self.resource, path=b"/shop/").body, b"home")
        self.assertEqual(request(self.resource, path=b"/items").code, 404)

    def test_notConverted(self):
        """A value that does not convert is a 404, not a 500."""
        answer = request(self.resource, path=b"/shop/items/abc")
        self.assertEqual(answer.code, 404)
        self.assertEqual(answer.body, b"Not Found")

    def test_methodNotAllowed(self):
        """A known path with another method is 405 with Allow."""
        answer = request(self.resource, method=b"POST", path=b"/shop/items/3")
        self.assertEqual(answer.code, 405)
        self.assertEqual(answer.header("allow"), b"DELETE, GET, HEAD, OPTIONS")

    def test_otherMethod(self):
        """A route with several methods answers each."""
        answer = request(self.resource, method=b"DELETE", path=b"/shop/items/3")
        self.assertEqual(answer.body, b"item 3 DELETE")

    def test_options(self):
        """OPTIONS answers 204 with Allow."""
        answer = request(self.resource, method=b"OPTIONS", path=b"/shop/items")
        self.assertEqual(answer.code, 204)
        self.assertEqual(answer.header("allow"), b"GET, HEAD, OPTIONS")
        self.assertEqual(answer.body, b"")

    def test_head(self):
        """HEAD is answered from the GET route, without a body but with its length."""
        answer = request(self.resource, method=b"HEAD", path=b"/shop/items")
        self.assertEqual(answer.code, 200)
        self.assertEqual(answer.header("content-length"), b"5")
        self.assertTrue(answer.raw.endswith(b"\r\n\r\n"))

    def test_trailingSlashRemoved(self):
        """A path with a stray trailing slash is redirected (308) to the route's form."""
        answer = request(self.resource, path=b"/shop/items/?page=2")
        self.assertEqual(answer.code, 308)
        self.assertEqual(answer.header("location"), b"/shop/items?page=2")

    def test_trailingSlashAdded(self):
        """A path missing the trailing slash of its route is redirected (308) to it."""
        answer = request(self.resource, method=b"POST", path=b"/shop/dir")
        self.assertEqual(answer.code, 308)
        self.assertEqual(answer.header("location"), b"/shop/dir/")
        self.assertEqual(request(self.resource, path=b"/shop").header("location"), b"/shop/")

    def test_noOpenRedirect(self):
        """A path starting with // is never redirected to another host."""
        router = Router()
        router.add("/<a>/<b>", ["GET"], handler("two"))
        answer = request(AppResource(router), path=b"//evil.example/x/")
        self.assertEqual(answer.code, 404)

    def test_encodedSegments(self):
        """Percent-encoded segments are decoded before matching."""
        router = Router()
        router.add("/say/<word>", ["GET"], lambda request, word: word)
        self.assertEqual(request(AppResource(router), path=b"/say/a%20b").body, b"a b")
        self.assertEqual(request(AppResource(router), path=b"/say/caf%C3%A9").body,
                         "caf\u00e9".encode())

    def test_invalidUTF8NeverReachesHandler(self):
        """A segment that is not UTF-8 matches no str or path parameter: 404, not 500."""
        router = Router()
        # A handler that stores its text, as a database driver would, fails
        # on undecodable (surrogate-escaped) characters.
        router.add("/say/<word>", ["GET"], lambda request, word: word.encode("utf-8"))
        router.add("/files/<path:rest>", ["GET"], lambda request, rest: rest.encode("utf-8"))
        resource = AppResource(router)
        for path in [b"/say/%ff", b"/files/%ff", b"/files/a/%C3%28/b", b"/files/ok/%ed%a0%80"]:
            self.assertEqual(request(resource, path=path).code, 404, path)
        self.assertEqual(request(resource, path=b"/files/caf%C3%A9/x").body,
                         "caf\u00e9/x".encode())
