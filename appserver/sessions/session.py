"""
The session object a controller works with: a dict of JSON values.
"""

import json
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from appserver.sessions.signing import newSessionId

__all__ = ["Session", "encodeRecord", "decodeRecord"]


# Made once: json.dumps and json.loads with options build a new coder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_DECODER = json.JSONDecoder()

# Values of these types always serialise, so assigning one skips json.dumps
# (bool is a subclass of int, but type() tells them apart: both are here).
_PLAIN_JSON = frozenset((str, int, bool, type(None)))


def _checkJSON(key, value):
    if not isinstance(key, str):
        raise TypeError(f"session keys must be strings, not {type(key).__name__}")
    if type(value) in _PLAIN_JSON:
        return
    try:
        _ENCODER.encode(value)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"session value for {key!r} is not JSON-serialisable ({e})"
        ) from None


def encodeRecord(created: float, data: Mapping[str, Any],
                 login: Mapping[str, Any] | None = None) -> bytes:
    """
    The stored form of a session: JSON bytes with its creation time and,
    for a logged-in session, its L{Login} fields.
    """
    fields = {"created": created, "data": data}
    if login:
        fields["login"] = login
    return _ENCODER.encode(fields).encode("utf-8")


def decodeRecord(record: bytes | str) -> tuple[float, dict[str, Any], dict[str, Any] | None]:
    """
    C{(created, data, login)} from a stored record; C{login} is the
    L{Login} fields of a logged-in session, else L{None}.

    @raise ValueError: if the record is not one L{encodeRecord} wrote.
    """
    if isinstance(record, (bytes, bytearray)):
        record = record.decode("utf-8")
    # scan_once is what JSONDecoder.decode runs after skipping whitespace,
    # which a record has none of: called directly, it saves a third of the
    # time; it signals a value it cannot read with StopIteration.
    try:
        decoded, end = _DECODER.scan_once(record, 0)  # type: ignore[attr-defined]
    except StopIteration:
        raise ValueError("not a session record") from None
    if end != len(record) or type(decoded) is not dict:
        raise ValueError("not a session record")
    created, data, login = decoded.get("created"), decoded.get("data"), decoded.get("login")
    if type(data) is not dict or not isinstance(created, (int, float)):
        raise ValueError("not a session record")
    if login is not None and not (type(login) is dict and isinstance(login.get("user"), str)):
        raise ValueError("not a session record")
    return created, data, login


class Session(MutableMapping[str, Any]):
    """
    The session of one request: a mutable mapping of string keys to
    JSON-serialisable values.

    Assigning a value that C{json.dumps} refuses raises L{TypeError} at
    once. Changes made inside a stored value (C{session["cart"].append(x)})
    are noticed as well, because the session is compared with what was
    loaded when the request ends.

    @ivar id: the session id (it changes on L{rotate} and L{invalidate}).
    @ivar loadedId: the id the session was loaded under, L{None} if new.
    @ivar created: when this session (or its current id) began, in seconds
        since the epoch; the absolute timeout counts from here.
    @ivar invalidated: whether L{invalidate} was called.
    @ivar loadedUser: the user the session was logged in as when it was
        loaded (L{None}: not logged in, or new).
    """

    def __init__(self, sessionId: str, created: float, data: Mapping[str, Any] | None = None,
                 loaded: bytes | None = None, now: Callable[[], float] = time.time,
                 login: Mapping[str, Any] | None = None) -> None:
        self.id = sessionId
        self.loadedId = None if loaded is None else sessionId
        self.created = created
        self.invalidated = False
        self._data = dict(data or {})
        self._loaded = loaded
        self._now = now
        self._login = None if login is None else dict(login)
        self.loadedUser = self.user

    @property
    def user(self) -> str | None:
        """
        The user this session is logged in as (see L{login}), or L{None}.
        """
        return None if self._login is None else self._login["user"]

    @property
    def lastSeen(self) -> float | None:
        """
        When a logged-in session was last seen (as the manager records it,
        to the minute), or L{None}.
        """
        return None if self._login is None else self._login.get("seen")

    @property
    def isNew(self) -> bool:
        """
        Whether this session was not loaded from the store.
        """
        return self.loadedId is None

    @property
    def hasNewId(self) -> bool:
        """
        Whether the session's id was made during this request (it is new, or
        was rotated or invalidated), so the client must be told it.
        """
        return self.id != self.loadedId

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        """
        The value of C{key}, or C{default} (the mapping's C{get}, without
        going through L{__getitem__}).
        """
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __setitem__(self, key: str, value: Any) -> None:
        _checkJSON(key, value)
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"<Session {self.id[:8]}... with {len(self._data)} keys>"

    def rotate(self) -> None:
        """
        Give the session a new id, keeping its data; the old record is
        deleted when the request ends. Call it whenever privileges change
        (at login), so that an id planted before the login is worthless
        after it. The absolute timeout starts again.
        """
        self.id = newSessionId()
        self.created = self._now()

    def invalidate(self) -> None:
        """
        End the session (at logout): its record is deleted (and its entry
        in its user's index) and it becomes a new, empty session, logged
        out, stored only if something is put in it.
        """
        self.rotate()
        self._data.clear()
        self._login = None
        self.invalidated = True

    def login(self, userId: str) -> None:
        """
        Log this session in as C{userId}: a new id (L{rotate}: an id planted
        before the login is worthless after it), the user recorded in the
        session, and the session indexed under the user in the store when
        the request ends, so that L{appserver.sessions.sessionsOf} lists it
        and L{appserver.sessions.revokeAll} can end it.

        @raise ValueError: if C{userId} is not a non-empty string.
        """
        if not isinstance(userId, str) or not userId:
            raise ValueError(f"a user id must be a non-empty string, not {userId!r}")
        self.rotate()
        self._login = {"user": userId}

    def noteVisit(self, seen: float, address: str | None, agent: str) -> None:
        """
        Record in a logged-in session when it was last seen, from which
        client address and with which user agent (a summary).
        """
        if self._login is not None:
            self._login.update(seen=seen, address=address, agent=agent)

    def record(self) -> bytes:
        """
        The record to store for this session.
        """
        return encodeRecord(self.created, self._data, self._login)

    def needsSaving(self, record: bytes) -> bool:
        """
        Whether C{record} (from L{record}) must be written: the session has
        a new id and holds data or a login, or it changed since it was
        loaded.
        """
        if self.hasNewId:
            return bool(self._data) or self._login is not None
        return record != self._loaded
