"""
Database URLs: what C{--db} accepts, and how to show one without its secret.

Accepted forms (as SQLAlchemy spells them):

  - C{sqlite:///relative/path.db}: three slashes, a path relative to the
    working directory of the running process (C{twistd --rundir});
  - C{sqlite:////absolute/path.db}: four slashes, an absolute path;
  - C{sqlite://:memory:} (or C{sqlite:///:memory:}): a database in memory,
    private to the process and lost when it stops;
  - C{postgresql://user:password@host:port/dbname} (C{postgres://} too),
    through psycopg 3, installed with C{pip install appserver[postgres]}.

Query parameters: for SQLite, C{timeout} (seconds a connection waits for a
lock before failing, default 5); for PostgreSQL, any libpq connection
parameter (C{sslmode=require}, C{connect_timeout=5}, ...).
"""

import dataclasses
import urllib.parse

__all__ = ["DatabaseURL", "parseDatabaseURL", "databaseURL", "maskURL"]

_SQLITE_PARAMETERS = frozenset({"timeout"})
_POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})


@dataclasses.dataclass(frozen=True)
class DatabaseURL:
    """
    A parsed database URL.

    @ivar text: the URL as given.
    @ivar backend: C{"sqlite"} or C{"postgresql"}.
    @ivar path: the SQLite file path (relative or absolute), or C{":memory:"}.
    @ivar user: the PostgreSQL user name, or L{None}.
    @ivar password: the PostgreSQL password, or L{None}.
    @ivar host: the PostgreSQL host, or L{None} (libpq's default socket).
    @ivar port: the PostgreSQL port, or L{None} (libpq's default, 5432).
    @ivar database: the PostgreSQL database name.
    @ivar parameters: the query parameters, as sorted C{(name, value)} pairs.
    """

    text: str
    backend: str
    path: str | None = None
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def inMemory(self):
        """
        Whether this is an SQLite database in memory.
        """
        return self.backend == "sqlite" and self.path == ":memory:"

    def __str__(self):
        return maskURL(self)

    def __repr__(self):
        return f"DatabaseURL({maskURL(self)!r})"

    def __setstate__(self, state):
        # AOT source assigns __dict__, which a frozen dataclass refuses.
        object.__setattr__(self, "__dict__", dict(state))


def parseDatabaseURL(text):
    """
    Parse a database URL.

    @param text: a URL of one of the forms described in this module.
    @return: a L{DatabaseURL}.
    @raise ValueError: one sentence naming the (masked) URL and the problem.
    """
    text = str(text).strip()
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ValueError(f"{_maskText(text)!r} is not a database URL "
                         f"(like sqlite:///app.sqlite3 or postgresql://user@host/db)")
    if scheme == "sqlite":
        return _parseSQLite(text, rest)
    if scheme in _POSTGRES_SCHEMES:
        return _parsePostgres(text)
    raise ValueError(f"database URL {_maskText(text)!r} has an unsupported scheme "
                     f"{scheme!r} (use sqlite or postgresql)")


def _parseSQLite(text, rest):
    location, _, query = rest.partition("?")
    parameters = _parameters(text, query)
    unknown = sorted(set(dict(parameters)) - _SQLITE_PARAMETERS)
    if unknown:
        raise ValueError(f"database URL {text!r} has unknown SQLite parameters: "
                         f"{', '.join(unknown)} (known: timeout)")
    _checkTimeout(text, dict(parameters).get("timeout"))
    if location in (":memory:", "/:memory:"):
        path = ":memory:"
    elif location.startswith("/") and len(location) > 1:
        path = urllib.parse.unquote(location[1:])
    else:
        raise ValueError(f"database URL {text!r} has no file path "
                         f"(use sqlite:///relative.db, sqlite:////absolute.db "
                         f"or sqlite://:memory:)")
    return DatabaseURL(text=text, backend="sqlite", path=path, parameters=parameters)


def _checkTimeout(text, timeout):
    if timeout is None:
        return
    try:
        valid = float(timeout) >= 0
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"database URL {text!r} has an invalid timeout {timeout!r} "
                         f"(seconds, like 5 or 0.5)")


def _parsePostgres(text):
    parts = urllib.parse.urlsplit(text)
    masked = _maskText(text)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"database URL {masked!r} has an invalid port") from None
    database = urllib.parse.unquote(parts.path.lstrip("/"))
    if not database:
        raise ValueError(f"database URL {masked!r} names no database "
                         f"(like postgresql://user@host:5432/dbname)")
    return DatabaseURL(
        text=text, backend="postgresql",
        user=_unquoted(parts.username), password=_unquoted(parts.password),
        host=parts.hostname, port=port, database=database,
        parameters=_parameters(masked, parts.query),
    )


def _unquoted(value):
    return None if value is None else urllib.parse.unquote(value)


def _parameters(text, query):
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True,
                                       strict_parsing=bool(query))
    except ValueError:
        raise ValueError(f"database URL {text!r} has a malformed query string") from None
    return tuple(sorted(pairs))


def databaseURL(value):
    """
    Coerce a C{--db} option value to a L{DatabaseURL}.

    @raise ValueError: with one sentence, if the URL is not usable.
    """
    if isinstance(value, DatabaseURL):
        return value
    return parseDatabaseURL(value)


databaseURL.coerceDoc = (  # type: ignore[attr-defined]
    "sqlite:///relative.db, sqlite:////absolute.db, sqlite://:memory: "
    "or postgresql://user:password@host:port/dbname."
)


def maskURL(url):
    """
    Return a URL (a string or a L{DatabaseURL}) with its password replaced by
    C{***}, fit for logs and error messages.
    """
    text = url.text if isinstance(url, DatabaseURL) else str(url)
    return _maskText(text)


def _maskText(text):
    # Over-mask rather than leak: everything between the first ":" of the
    # user information and the last "@" is the password, even in a URL too
    # malformed to parse (a "/" or "?" in an unencoded password).
    scheme, sep, rest = text.partition("://")
    userinfo, at, hostAndPath = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return text
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{hostAndPath}"
