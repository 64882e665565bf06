"""
The database's errors, as the layers above see them.
"""

__all__ = ["DatabaseUnavailable", "UnstorableText", "oneLine"]


class DatabaseUnavailable(Exception):
    """
    The database cannot be reached (or is locked past the busy timeout).

    Retrying later may succeed; the web layer answers 503.
    """


class UnstorableText(ValueError):
    """
    A value the database cannot store, refused before it is sent:
    PostgreSQL text cannot hold a NUL character (SQLite can).

    Such text comes from a client; the web layer answers 400.
    """


def oneLine(error: BaseException) -> str:
    """
    The message of C{error} on one line (its type's name if it has none).
    """
    return " ".join(str(error).split()) or type(error).__name__
