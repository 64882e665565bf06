"""
Redis's glob patterns (C{KEYS}, C{SCAN MATCH}, C{CONFIG GET}) matched
without backtracking, as a plain function with no I/O.

The syntax and its corner cases are those of Redis's C{stringmatchlen}:
C{*} matches any run of bytes, C{?} one byte, C{[abc]}, C{[a-z]} (ends in
either order) and C{[^...]} one byte of (or not of) a set, C{\\x} the byte
C{x}; a C{[} without its C{]} takes the rest of the pattern as the set, a
trailing C{\\} is itself, and the empty key matches only the empty pattern.

Every token but C{*} matches exactly one byte, so a pattern is a list of
fixed-width segments separated by stars: the first must match at the start
of the key, the last at its end, and each one between at its leftmost place
after the one before (the leftmost place leaves the most room for the
rest, so no other place needs trying). Each segment is a regular
expression without quantifiers, so matching a key costs at most
O(len(key) * len(pattern)) steps, however many stars there are. Compiling
costs more per byte, so patterns are bounded (L{MAX_PATTERN_BYTES}) and
the last ones compiled are kept (a SCAN walk sends the same one each step).
"""

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

__all__ = ["compileGlob", "MAX_PATTERN_BYTES"]

MAX_PATTERN_BYTES = 4096
"""The longest pattern L{compileGlob} accepts."""

_STAR = None


@lru_cache(maxsize=64)
def compileGlob(pattern: bytes) -> Callable[[bytes], bool]:
    """
    A function telling whether a C{bytes} key matches the Redis glob
    C{pattern} (C{bytes}).

    @raise ValueError: if C{pattern} is longer than L{MAX_PATTERN_BYTES}.
    """
    if len(pattern) > MAX_PATTERN_BYTES:
        raise ValueError(f"pattern is longer than {MAX_PATTERN_BYTES} bytes")
    tokens = _tokens(pattern)
    if _STAR not in tokens:
        whole = re.compile(b"".join(tokens), re.DOTALL)
        return lambda key: whole.fullmatch(key) is not None
    segments = _segments(tokens)
    return lambda key: _matchSegments(segments, key)


def _tokens(pattern):
    """
    Split C{pattern} into C{_STAR} and one regular expression per one-byte
    token, reading it as C{stringmatchlen} does.
    """
    tokens: list[Any] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x2A:  # *
            if not tokens or tokens[-1] is not _STAR:
                tokens.append(_STAR)
            i += 1
        elif c == 0x3F:  # ?
            tokens.append(b".")
            i += 1
        elif c == 0x5B:  # [
            token, i = _bracket(pattern, i + 1)
            tokens.append(token)
        else:
            if c == 0x5C and i + 1 < n:  # \ escapes the next byte
                i += 1
            tokens.append(_byteClass({pattern[i]}))
            i += 1
    return tokens


def _bracket(pattern, i):
    """
    Read the set that starts at C{pattern[i]}, just after its C{[}: return
    its regular expression and the index after its C{]} (or the end).
    """
    n = len(pattern)
    negate = i < n and pattern[i] == 0x5E  # ^
    i += negate
    members = set()
    while i < n and pattern[i] != 0x5D:  # ]
        if pattern[i] == 0x5C and i + 1 < n:
            i += 1
            members.add(pattern[i])
        elif i + 2 < n and pattern[i + 1] == 0x2D:  # a-z, as Redis: even "a-]"
            low, high = sorted((pattern[i], pattern[i + 2]))
            members.update(range(low, high + 1))
            i += 2
        else:
            members.add(pattern[i])
        i += 1
    return _byteClass(members, negate), i + 1


def _byteClass(members, negate=False):
    """
    A regular expression matching one byte in C{members} (not in them, when
    C{negate}).
    """
    if not members:
        return b"." if negate else b"(?!)"
    body = b"".join(b"\\x%02x-\\x%02x" % run for run in _runs(sorted(members)))
    return b"[" + (b"^" if negate else b"") + body + b"]"


def _runs(ordered):
    """
    The C{(first, last)} runs of consecutive numbers in C{ordered}.
    """
    runs: list[tuple[int, int]] = []
    for c in ordered:
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return runs


class _Segment:
    """
    The tokens between two stars: a compiled expression and its width.
    """

    def __init__(self, tokens):
        self.regex = re.compile(b"".join(tokens), re.DOTALL)
        self.width = len(tokens)


def _segments(tokens):
    """
    The segments of C{tokens} around its stars: the first and last always
    (maybe empty), the nonempty ones in between.
    """
    groups: list[list[Any]] = []
    current: list[Any] = []
    for token in tokens:
        if token is _STAR:
            groups.append(current)
            current = []
        else:
            current.append(token)
    groups.append(current)
    middle = [group for group in groups[1:-1] if group]
    return [_Segment(group) for group in [groups[0]] + middle + [groups[-1]]]


def _matchSegments(segments, key):
    """
    Whether C{key} matches the pattern whose star-separated C{segments}
    are given: the first at the start, the last at the end, the others
    leftmost in order between them.
    """
    first, middle, last = segments[0], segments[1:-1], segments[-1]
    end = len(key) - last.width
    if not key or end < first.width or first.regex.match(key) is None \
            or last.regex.match(key, end) is None:
        return False
    position = first.width
    for segment in middle:
        found = segment.regex.search(key, position, end)
        if found is None:
            return False
        position = found.end()
    return True
