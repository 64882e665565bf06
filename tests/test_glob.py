"""
Tests for L{services.sessionserver.glob}: Redis's glob semantics, checked
against a line-by-line port of Redis's recursive C{stringmatchlen}, and
patterns that make backtracking matchers take exponential time.
"""

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from services.sessionserver.glob import compileGlob


def redisMatch(pattern, string):
    """
    Redis 7's C{stringmatchlen} (case-sensitive), ported statement by
    statement; exponential on some patterns, so only for small inputs.
    """
    if not string:
        return not pattern
    p, s = 0, 0
    while p < len(pattern) and s < len(string):
        c = pattern[p]
        if c == ord("*"):
            while p + 1 < len(pattern) and pattern[p + 1] == ord("*"):
                p += 1
            if p + 1 == len(pattern):
                return True
            return any(redisMatch(pattern[p + 1:], string[t:])
                       for t in range(s, len(string)))
        if c == ord("?"):
            pass
        elif c == ord("["):
            p, matched = redisBracket(pattern, p + 1, string[s])
            if not matched:
                return False
        else:
            if c == ord("\\") and p + 1 < len(pattern):
                p += 1
            if pattern[p] != string[s]:
                return False
        s += 1
        p += 1
        if s == len(string):
            while p < len(pattern) and pattern[p] == ord("*"):
                p += 1
    return p >= len(pattern) and s == len(string)


def redisBracket(pattern, p, byte):
    """
    The C{[...]} branch of C{stringmatchlen}: where it leaves the pattern
    index, and whether C{byte} matched the set.
    """
    negate = p < len(pattern) and pattern[p] == ord("^")
    p += negate
    matched = False
    while True:
        if p + 1 < len(pattern) and pattern[p] == ord("\\"):
            p += 1
            matched |= pattern[p] == byte
        elif p >= len(pattern):
            p -= 1
            break
        elif pattern[p] == ord("]"):
            break
        elif p + 2 < len(pattern) and pattern[p + 1] == ord("-"):
            low, high = sorted((pattern[p], pattern[p + 2]))
            matched |= low <= byte <= high
            p += 2
        else:
            matched |= pattern[p] == byte
        p += 1
    return p, matched != negate


ALPHABET = b"ab-^]*?[\\\x00\n"
patterns = st.lists(st.sampled_from(list(ALPHABET)), max_size=10).map(bytes)
keys = st.lists(st.sampled_from(list(b"ab-^][\\*\x00\n")), max_size=10).map(bytes)


class GlobTests(SynchronousTestCase):
    """
    L{compileGlob} against Redis's matcher, and the cases it must not hang on.
    """

    @settings(max_examples=3000, deadline=None)
    @given(patterns, keys)
    def test_likeRedis(self, pattern, key):
        """Any pattern and key match exactly when Redis says they do."""
        self.assertEqual(compileGlob(pattern)(key), redisMatch(pattern, key),
                         f"{pattern!r} against {key!r}")

    def test_examples(self):
        """Stars, ?, sets, ranges, negation and escapes as Redis documents them."""
        cases = [(b"h?llo", b"hello", True), (b"h*llo", b"heeeello", True),
                 (b"h[ae]llo", b"hallo", True), (b"h[ae]llo", b"hillo", False),
                 (b"h[^e]llo", b"hallo", True), (b"h[^e]llo", b"hello", False),
                 (b"h[a-b]llo", b"hbllo", True), (b"h[b-a]llo", b"hallo", True),
                 (b"h\\*llo", b"h*llo", True), (b"h\\*llo", b"hello", False),
                 (b"session:*", b"session:abc", True), (b"*:abc", b"session:abc", True),
                 (b"a*b*c", b"axxbyyc", True), (b"a*b*c", b"axxcyyb", False)]
        for pattern, key, expected in cases:
            self.assertEqual(compileGlob(pattern)(key), expected, (pattern, key))

    def test_redisCornerCases(self):
        """Redis's reading of odd patterns: open sets, "a-]" ranges, the empty key."""
        cases = [(b"[a-]", b"^", True), (b"[a-]b]", b"b", True), (b"[", b"[", False),
                 (b"[^", b"x", True), (b"[ab", b"b", True), (b"\\", b"\\", True),
                 (b"[\\]]", b"]", True), (b"[-a]", b"-", True), (b"*\\", b"x\\", True),
                 (b"**", b"", False), (b"", b"", True), (b"?", b"", False)]
        for pattern, key, expected in cases:
            self.assertEqual(compileGlob(pattern)(key), expected, (pattern, key))

    def test_manyStars(self):
        """Twenty stars against forty bytes answer at once (a backtracking regex takes hours)."""
        pattern = b"a*" * 20 + b"b"
        self.assertFalse(compileGlob(pattern)(b"a" * 40))
        self.assertTrue(compileGlob(pattern)(b"a" * 40 + b"b"))

    def test_longKeyManyStars(self):
        """A thousand stars against a 100,000-byte key stay polynomial."""
        pattern = b"*a" * 1000 + b"*b"
        self.assertFalse(compileGlob(pattern)(b"a" * 100_000))
