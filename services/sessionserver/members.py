"""
What the hash and set commands share: the cursor walk of C{HSCAN} and
C{SSCAN}, and random picking with Redis's count rules (C{HRANDFIELD},
C{SRANDMEMBER}).
"""

import random
from bisect import bisect_left
from collections.abc import Callable, Collection, Sequence
from typing import Any

from services.sessionserver.handling import parseInteger, syntaxError
from services.resp import ReplyError

__all__ = ["SMALL_COLLECTION", "REPEATS_LIMIT", "parseScanOptions", "parseScan", "scanStep",
           "parseCount", "pick"]

SMALL_COLLECTION = 128
"""A collection of at most this many items is returned whole by one SCAN
step, with cursor 0 (as Redis does for its compact encodings)."""

REPEATS_LIMIT = 1_000_000
"""The most items a negative count (items that may repeat) may ask for:
one reply must not hold the server for long."""

_HASH_MASK = 2**62 - 1
INT64_MIN = -2**63


def parseScanOptions(options: Sequence[bytes], globMatcher: Callable[[bytes], Any],
                     types: bool = False
                     ) -> tuple[int, Callable[[bytes], bool] | None, bytes | None]:
    """
    The C{COUNT}, C{MATCH} predicate (or L{None}) and, if C{types} allows
    it, the lower-case C{TYPE} (or L{None}) of a SCAN family command's
    C{options}, checked as Redis does.
    """
    count, match, kind = 10, None, None
    if len(options) % 2:
        raise syntaxError()
    for name, value in zip(options[::2], options[1::2], strict=True):
        name = name.upper()
        if name == b"COUNT":
            count = parseInteger(value)
            if count < 1:
                raise syntaxError()
        elif name == b"MATCH":
            match = None if value == b"*" else globMatcher(value)
        elif name == b"TYPE" and types:
            kind = value.lower()
        else:
            raise syntaxError()
    return count, match, kind


def parseScan(args: Sequence[bytes], globMatcher: Callable[[bytes], Any]
              ) -> tuple[int, int, Callable[[bytes], bool] | None]:
    """
    The cursor, C{COUNT} and C{MATCH} predicate (or L{None}) of
    C{HSCAN}/C{SSCAN key cursor [MATCH pattern] [COUNT count]}.
    """
    cursor = parseInteger(args[2], "ERR invalid cursor")
    count, match, _ = parseScanOptions(args[3:], globMatcher)
    return cursor, count, match


def _scanHash(item):
    return hash(item) & _HASH_MASK


def scanStep(items: Collection[bytes], cursor: int, count: int) -> tuple[int, list[bytes]]:
    """
    One step of a cursor walk over C{items}: C{(next cursor, items)}, the
    cursor being 0 at the end. Items are visited in order of a per-process
    hash, so that an item present for the whole walk is returned at least
    once however the collection changes between steps (a walk begun over a
    large collection goes on in that order once it has shrunk).
    """
    if cursor == 0 and len(items) <= SMALL_COLLECTION:
        return 0, list(items)
    ordered = sorted(items, key=_scanHash)
    start = bisect_left(ordered, max(cursor, 0), key=_scanHash)
    end = start + count
    nextCursor = _scanHash(ordered[end]) if end < len(ordered) else 0
    return nextCursor, ordered[start:end]


def parseCount(value: bytes) -> int:
    """
    The count of C{HRANDFIELD} or C{SRANDMEMBER}, checked as Redis does.
    """
    count = parseInteger(value)
    if count == INT64_MIN:
        raise ReplyError("ERR value is out of range, value must between "
                         "-9223372036854775807 and 9223372036854775807")
    if count < -REPEATS_LIMIT:
        # Redis's text for a count whose reply could not be built.
        raise ReplyError("ERR value is out of range")
    return count


def pick(items: Collection[Any], count: int) -> list[Any]:
    """
    Random items: C{count} distinct ones (all if there are fewer), or for
    a negative C{count}, C{-count} of them that may repeat.
    """
    if count < 0:
        return random.choices(list(items), k=-count)
    return random.sample(list(items), min(count, len(items)))
