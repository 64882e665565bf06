"""
Statement parameters: one placeholder style for every database.

Statements take C{?} placeholders with positional values. For psycopg each
C{?} outside string literals, quoted identifiers, comments and
dollar-quoted strings becomes C{%s}, and C{%} is doubled; PostgreSQL's
text values are checked for NUL characters, which it cannot store.
"""

import functools
import re
from collections.abc import Iterable
from typing import Any

from services.db.errors import UnstorableText

__all__ = ["translatePlaceholders", "refuseNul"]

_PLACEHOLDER_TOKENS = re.compile(
    r"""
    (?P<skip>
        (?<![A-Za-z0-9_])[Ee]'(?:[^'\\]|\\.|'')*'
      | '(?:[^']|'')*'
      | "(?:[^"]|"")*"
      | --[^\n]*
      | /\*.*?\*/
      | \$(?P<tag>[A-Za-z_][A-Za-z0-9_]*|)\$.*?\$(?P=tag)\$
    )
    | (?P<mark>\?)
    | %
    """,
    re.S | re.X,
)


def _replaceToken(match):
    if match.group("skip") is not None:
        return match.group("skip").replace("%", "%%")
    return "%s" if match.group("mark") else "%%"


@functools.lru_cache(maxsize=1024)
def translatePlaceholders(sql: str) -> str:
    """
    Turn C{?} placeholders into psycopg's C{%s}, doubling every C{%}.

    A C{?} inside a string literal, a quoted identifier, a comment or a
    dollar-quoted string is left alone.
    """
    return _PLACEHOLDER_TOKENS.sub(_replaceToken, sql)


def refuseNul(values: Iterable[Any]) -> None:
    """
    Raise L{UnstorableText} if a str among C{values} (or in a list or tuple
    among them, an array) holds a NUL character.
    """
    for index, value in enumerate(values, 1):
        if _holdsNul(value):
            raise UnstorableText(f"PostgreSQL text cannot hold NUL characters (value {index}).")


def _holdsNul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple)):
        return any(_holdsNul(item) for item in value)
    return False
