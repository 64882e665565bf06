"""
Tests for the session server's glob patterns that pin behaviours mutation
testing found no test noticing (docs/mutation.md).
"""

from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver.glob import compileGlob


class GlobSetTests(SynchronousTestCase):
    """
    Sets and ranges, closed or running to the end of the pattern.
    """

    def assertMatches(self, pattern, matching, notMatching):
        match = compileGlob(pattern)
        for key in matching:
            self.assertTrue(match(key), (pattern, key))
        for key in notMatching:
            self.assertFalse(match(key), (pattern, key))

    def test_rangeBounds(self):
        """A range takes its ends and what is between, nothing below or above."""
        self.assertMatches(b"[n-p]", [b"n", b"o", b"p"], [b"m", b"q", b"a", b"\x00"])
        self.assertMatches(b"[p-n]", [b"n", b"o", b"p"], [b"m", b"q"])

    def test_unclosedRange(self):
        """A range in a set the pattern leaves open is still a range."""
        self.assertMatches(b"[a-c", [b"a", b"b", b"c"], [b"-", b"d"])

    def test_unclosedEscape(self):
        """An escape just before the end of an open set stands for the byte after it."""
        self.assertMatches(b"[\\a", [b"a"], [b"\\"])
        self.assertMatches(b"[x\\", [b"x", b"\\"], [b"a"])

    def test_negatedSetOfItsOwnSyntax(self):
        """A negated set takes the bytes [ and ^ that are not in it."""
        self.assertMatches(b"[^a]", [b"^", b"[", b"b"], [b"a"])

    def test_setTakesOnlyItsMembers(self):
        """A set takes its members and nothing between or around them."""
        self.assertMatches(b"[ac]", [b"a", b"c"], [b"b", b"X", b"\\", b"-"])
        self.assertMatches(b"[a]", [b"a"], [b"X", b"x"])

    def test_anyByteAfterStar(self):
        """A ? after a star takes a newline as any other byte."""
        self.assertMatches(b"a*?", [b"a\n", b"ab\n", b"a\x00"], [b"a"])
        self.assertMatches(b"*[\n]*", [b"\n", b"x\ny"], [b"xy"])
