"""
Tests for L{appserver.web.router} that pin behaviours mutation testing
found no test noticing (docs/mutation.md).
"""

from twisted.trial.unittest import SynchronousTestCase

from appserver.web.router import RouteConflict, RouteError, Router


def named(name):
    def handle(request, **parameters):
        return name

    handle.__name__ = name
    return handle


class MixedSegmentTests(SynchronousTestCase):
    """
    Literal text beside a parameter in one segment.
    """

    def lookup(self, router, *segments, method=b"GET"):
        match = router.lookup(method, list(segments))
        if match is None or match.endpoint is None:
            return None
        return match.endpoint.handler.__name__, match.parameters

    def test_prefixBeforeParameter(self):
        """/v<int:n> takes v7 as n=7, and neither 7, v, vx, xv7 nor v7x."""
        router = Router()
        router.add("/v<int:n>", ["GET"], named("version"))
        self.assertEqual(self.lookup(router, b"v7"), ("version", {"n": 7}))
        self.assertEqual(self.lookup(router, b"v-2"), ("version", {"n": -2}))
        for segment in (b"7", b"v", b"vx", b"xv7", b"v7x", b"V7"):
            self.assertIsNone(self.lookup(router, segment), segment)

    def test_suffixesApart(self):
        """/f/<name>.txt and /f/<name>.json are two routes, each with its own suffix."""
        router = Router()
        router.add("/f/<name>.txt", ["GET"], named("text"))
        router.add("/f/<name>.json", ["GET"], named("json"))
        self.assertEqual(self.lookup(router, b"f", b"a.txt"), ("text", {"name": "a"}))
        self.assertEqual(self.lookup(router, b"f", b"a.b.json"), ("json", {"name": "a.b"}))
        for segment in (b"a.xml", b"a", b".txt", b"aXtxt", b"a.txt.gz"):
            self.assertIsNone(self.lookup(router, b"f", segment), segment)

    def test_sameSuffixConflicts(self):
        """Two mixed routes with the same text and converters conflict, whatever the names."""
        router = Router()
        router.add("/f/<name>.txt", ["GET"], named("one"))
        self.assertRaises(RouteConflict, router.add, "/f/<other>.txt", ["GET"], named("two"))
        router.add("/f/<int:n>.txt", ["GET"], named("number"))
        self.assertEqual(self.lookup(router, b"f", b"5.txt"), ("one", {"name": "5"}))

    def test_twoParameters(self):
        """A segment with two converters converts each of its values."""
        router = Router()
        router.add("/r/<int:w>x<int:h>", ["GET"], named("size"))
        self.assertEqual(self.lookup(router, b"r", b"3x4"), ("size", {"w": 3, "h": 4}))
        self.assertIsNone(self.lookup(router, b"r", b"3x"))

    def test_mixedBeforeConverter(self):
        """A mixed segment is tried before a lone converter of the same node."""
        router = Router()
        router.add("/m/<int:n>", ["GET"], named("int"))
        router.add("/m/<int:n>0", ["GET"], named("mixed"))
        self.assertEqual(self.lookup(router, b"m", b"10"), ("mixed", {"n": 1}))
        self.assertEqual(self.lookup(router, b"m", b"11"), ("int", {"n": 11}))

    def test_literalTextStaysLiteral(self):
        """Regular-expression characters in literal text mean themselves."""
        router = Router()
        router.add("/g/<name>(+)", ["GET"], named("odd"))
        self.assertEqual(self.lookup(router, b"g", b"a(+)"), ("odd", {"name": "a"}))
        self.assertIsNone(self.lookup(router, b"g", b"aa+"))

    def test_unknownConverterInMixed(self):
        """An unknown converter beside text is refused like a lone one."""
        self.assertRaises(RouteError, Router().add, "/x/a<nope:v>", ["GET"], named("x"))
        self.assertRaises(RouteError, Router().add, "/x/a<path:v>", ["GET"], named("x"))
        self.assertRaises(RouteError, Router().add, "/x/a>b<v>", ["GET"], named("x"))


class UndecodableSegmentTests(SynchronousTestCase):
    """
    A segment that is not UTF-8 matches no parameter, at the router itself.
    """

    def test_notUTF8(self):
        """A non-UTF-8 segment finds no route with a str, int, mixed or path parameter."""
        router = Router()
        router.add("/s/<word>", ["GET"], named("str"))
        router.add("/i/<int:n>", ["GET"], named("int"))
        router.add("/m/<word>.txt", ["GET"], named("mixed"))
        router.add("/p/<path:rest>", ["GET"], named("path"))
        for segments in ([b"s", b"\xff"], [b"i", b"\xff"], [b"m", b"\xff.txt"],
                         [b"p", b"\xff"], [b"p", b"ok", b"\xc3("]):
            self.assertIsNone(router.lookup(b"GET", segments), segments)
        self.assertEqual(router.lookup(b"GET", [b"p", b"caf\xc3\xa9"]).parameters,
                         {"rest": "caf\u00e9"})

    def test_emptySegment(self):
        """An empty segment finds no str or path parameter."""
        router = Router()
        router.add("/s/<word>", ["GET"], named("str"))
        router.add("/p/<path:rest>", ["GET"], named("path"))
        self.assertIsNone(router.lookup(b"GET", [b"s", b""]))
        self.assertIsNone(router.lookup(b"GET", [b"p", b""]))


class MethodTests(SynchronousTestCase):
    """
    Methods given in any case and type, and the 405 answer.
    """

    def test_lowerCaseMethods(self):
        """Methods given as lower-case text or bytes answer upper-case lookups."""
        router = Router()
        router.add("/a", ["get", b"post"], named("a"))
        router.add("/b/<x>", ["put"], named("b"))
        self.assertEqual(router.lookup(b"POST", [b"a"]).endpoint.handler.__name__, "a")
        self.assertEqual(router.lookup(b"PUT", [b"b", b"1"]).parameters, {"x": "1"})
        self.assertEqual(router.routes[0][1], (b"GET", b"POST"))

    def test_allowedAcrossShapes(self):
        """The 405 answer lists every method any route of the path accepts, sorted."""
        router = Router()
        router.add("/d/<int:n>", ["PUT", "DELETE"], named("int"))
        router.add("/d/<name>", ["POST"], named("str"))
        match = router.lookup(b"GET", [b"d", b"5"])
        self.assertIsNone(match.endpoint)
        self.assertEqual(match.allowed, (b"DELETE", b"POST", b"PUT"))
        self.assertEqual(router.allowed([b"d", b"x"]), (b"POST",))
        self.assertEqual(router.allowed([b"nowhere"]), ())

    def test_literalOtherMethod(self):
        """A literal path without the method falls through to a dynamic route that has it."""
        router = Router()
        router.add("/e/new", ["GET"], named("literal"))
        router.add("/e/<name>", ["POST"], named("dynamic"))
        match = router.lookup(b"POST", [b"e", b"new"])
        self.assertEqual((match.endpoint.handler.__name__, match.parameters),
                         ("dynamic", {"name": "new"}))


class PatternErrorTests(SynchronousTestCase):
    """
    Each malformed pattern is refused with one sentence naming it.
    """

    def assertRefused(self, pattern, message, exception=RouteError, router=None):
        router = router or Router()
        error = self.assertRaises(exception, router.add, pattern, ["GET"], named("x"))
        self.assertEqual(str(error), message)

    def test_messages(self):
        """Relative, unknown-converter, malformed, repeated and misplaced-path
        patterns each have their sentence."""
        self.assertRefused("a/b", "Route 'a/b' must start with '/'.")
        self.assertRefused("/a/<bogus:x>", "Unknown converter 'bogus' in route '/a/<bogus:x>'.")
        self.assertRefused("/a/<x", "Malformed parameter in route '/a/<x'.")
        self.assertRefused("/a/<x>/<int:x>", "Route '/a/<x>/<int:x>' repeats a parameter name.")
        self.assertRefused("/a/<path:p>/b", "<path:...> must be a whole segment at the end "
                                            "of route '/a/<path:p>/b'.")

    def test_conflictMessage(self):
        """A conflict names the method, the new pattern and the one it conflicts with."""
        router = Router()
        router.add("/c/<int:n>", ["GET"], named("first"))
        self.assertRefused("/c/<int:m>", "Route GET '/c/<int:m>' conflicts with '/c/<int:n>'.",
                           RouteConflict, router)

    def test_anyLiteralText(self):
        """Literal text may hold any character but < and >."""
        router = Router()
        router.add("/Xmas/<day>X", ["GET"], named("x"))
        match = router.lookup(b"GET", [b"Xmas", b"25X"])
        self.assertEqual(match.parameters, {"day": "25"})


class SearchTests(SynchronousTestCase):
    """
    Several parameters, backtracking between them, and what a match carries.
    """

    def test_parametersInSeveralSegments(self):
        """Each parameter segment adds its value, in order."""
        router = Router()
        router.add("/u/<int:a>/<b>/<int:c>", ["GET"], named("three"))
        self.assertEqual(router.lookup(b"GET", [b"u", b"1", b"x", b"3"]).parameters,
                         {"a": 1, "b": "x", "c": 3})

    def test_backtrackKeepsEarlierValues(self):
        """Giving up a converter deep in the path keeps the values found before it."""
        router = Router()
        router.add("/a/<x>/<int:n>/z", ["GET"], named("int"))
        router.add("/a/<x>/<n>/y", ["GET"], named("str"))
        match = router.lookup(b"GET", [b"a", b"p", b"5", b"y"])
        self.assertEqual((match.endpoint.handler.__name__, match.parameters),
                         ("str", {"x": "p", "n": "5"}))

    def test_newlineInSegment(self):
        """A decoded newline is text like any other, in a lone or a mixed parameter."""
        router = Router()
        router.add("/s/<word>", ["GET"], named("str"))
        router.add("/m/<word>.txt", ["GET"], named("mixed"))
        self.assertEqual(router.lookup(b"GET", [b"s", b"a\nb"]).parameters, {"word": "a\nb"})
        self.assertEqual(router.lookup(b"GET", [b"m", b"a\n.txt"]).parameters, {"word": "a\n"})

    def test_matchFields(self):
        """A match has its parameters and no allowed methods; a 405 has no parameters."""
        router = Router()
        router.add("/l", ["GET"], named("literal"))
        router.add("/d/<x>", ["GET"], named("dynamic"))
        for segments in ([b"l"], [b"d", b"1"]):
            self.assertEqual(router.lookup(b"GET", segments).allowed, ())
            self.assertEqual(router.lookup(b"PUT", segments).parameters, {})

    def test_pathIndex(self):
        """An endpoint knows where its path parameter begins, or that it has none."""
        router = Router()
        router.add("/a/b/<path:rest>", ["GET"], named("rest"))
        router.add("/a/<x>", ["GET"], named("one"))
        self.assertEqual(router.lookup(b"GET", [b"a", b"b", b"c", b"d"]).endpoint.pathIndex, 2)
        self.assertIsNone(router.lookup(b"GET", [b"a", b"c"]).endpoint.pathIndex)

    def test_literalRoutesOneLookup(self):
        """A route without converters is found with one dict lookup, without the trie."""
        router = Router()
        router.add("/a/b", ["GET"], named("literal"))
        router.add("/", ["GET"], named("root"))
        router._root = None
        self.assertEqual(router.lookup(b"GET", [b"a", b"b"]).endpoint.handler.__name__, "literal")
        self.assertEqual(router.lookup(b"GET", [b""]).endpoint.handler.__name__, "root")
