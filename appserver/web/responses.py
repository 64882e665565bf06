"""
Response classes a handler returns, and the errors it raises.

Every class takes an optional body (bytes; str, sent as UTF-8 HTML; or a
dict/list, sent as JSON) and optional headers (a mapping of names to a
value or a list of values). The error classes (4xx, 5xx) derive from
L{HTTPError}, an exception, so a handler may return them or raise them; a
raised error's str message is sent as plain text, so it never becomes
markup.
"""

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

__all__ = [
    "Response", "Ok", "Created", "Accepted", "NoContent", "Redirect",
    "MovedPermanently", "Found", "SeeOther", "TemporaryRedirect", "PermanentRedirect",
    "HTTPError", "BadRequest", "Unauthorized", "Forbidden", "NotFound",
    "MethodNotAllowed", "NotAcceptable", "Conflict", "Gone", "PayloadTooLarge",
    "UnsupportedMediaType", "UnprocessableEntity", "TooManyRequests",
    "InternalServerError", "NotImplementedYet", "ServiceUnavailable",
    "encodeBody",
]

HTML = b"text/html; charset=utf-8"
TEXT = b"text/plain; charset=utf-8"
JSON = b"application/json"


def encodeBody(body: Any, textType: bytes = HTML) -> tuple[bytes, bytes | None]:
    """
    Encode a result body.

    @param body: bytes, str, a dict or list (JSON), or L{None} (empty).
    @param textType: the content type for a str body.
    @return: C{(bytes, content type or None)}; the type is L{None} for
        bytes and empty bodies, which keep whatever type was set.
    @raise TypeError: for any other kind of body.
    """
    if body is None:
        return b"", None
    if isinstance(body, bytes):
        return body, None
    if isinstance(body, str):
        return body.encode("utf-8"), textType
    if isinstance(body, (dict, list)):
        return json.dumps(body, separators=(",", ":")).encode("utf-8"), JSON
    raise TypeError(f"cannot send a {type(body).__name__} as a response body")


def _headerBytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("latin-1")


class Response:
    """
    A status code, headers and a body.

    @cvar code: the status code of instances of this class.
    @ivar body: the body, see L{encodeBody}.
    @ivar headers: a dict of header names to lists of values.
    """

    code: int = 200
    _textType: bytes = HTML

    def __init__(self, body: Any = None, headers: Mapping[Any, Any] | None = None,
                 code: int | None = None) -> None:
        if code is not None:
            self.code = code
        self.body = body
        self.headers: dict[bytes, list[bytes]] = {}
        for name, value in (headers or {}).items():
            values = value if isinstance(value, (list, tuple)) else [value]
            self.headers[_headerBytes(name)] = [_headerBytes(v) for v in values]

    def encode(self) -> tuple[bytes, bytes | None]:
        """
        The body as C{(bytes, content type or None)}.
        """
        return encodeBody(self.body, self._textType)

    def __repr__(self):
        return f"<{type(self).__name__} {self.code} {self.body!r}>"


class Ok(Response):
    """
    200 OK.
    """


class Created(Response):
    """
    201 Created; C{location} sets the C{Location} header.
    """

    code = 201

    def __init__(self, body: Any = None, headers: Mapping[Any, Any] | None = None,
                 location: str | bytes | None = None) -> None:
        Response.__init__(self, body, headers)
        if location is not None:
            self.headers[b"location"] = [_headerBytes(location)]


class Accepted(Response):
    """
    202 Accepted.
    """

    code = 202


class NoContent(Response):
    """
    204 No Content.
    """

    code = 204

    def __init__(self, headers: Mapping[Any, Any] | None = None) -> None:
        Response.__init__(self, None, headers)


class Redirect(Response):
    """
    A redirect to C{location}: 302 Found unless C{code} says otherwise.
    """

    code = 302

    def __init__(self, location: str | bytes, headers: Mapping[Any, Any] | None = None,
                 code: int | None = None) -> None:
        Response.__init__(self, None, headers, code)
        self.headers[b"location"] = [_headerBytes(location)]


class MovedPermanently(Redirect):
    """
    301 Moved Permanently.
    """

    code = 301


class Found(Redirect):
    """
    302 Found.
    """


class SeeOther(Redirect):
    """
    303 See Other: the answer to a form POST.
    """

    code = 303


class TemporaryRedirect(Redirect):
    """
    307 Temporary Redirect.
    """

    code = 307


class PermanentRedirect(Redirect):
    """
    308 Permanent Redirect.
    """

    code = 308


class HTTPError(Response, Exception):
    """
    An error response, returned or raised. Without a body, the body is the
    status phrase (C{Not Found}); a str body is sent as plain text.
    """

    code = 500
    _textType = TEXT

    def __init__(self, body: Any = None, headers: Mapping[Any, Any] | None = None,
                 code: int | None = None) -> None:
        Response.__init__(self, body, headers, code)
        if self.body is None:
            self.body = HTTPStatus(self.code).phrase
        Exception.__init__(self, self.body)

    def __str__(self) -> str:
        return f"{self.code} {self.body}"


def _error(name: str, code: int) -> type[HTTPError]:
    doc = f"\n    {code} {HTTPStatus(code).phrase}.\n    "
    return type(name, (HTTPError,), {"code": code, "__doc__": doc,
                                     "__module__": __name__})


BadRequest = _error("BadRequest", 400)
Unauthorized = _error("Unauthorized", 401)
Forbidden = _error("Forbidden", 403)
NotFound = _error("NotFound", 404)
MethodNotAllowed = _error("MethodNotAllowed", 405)
NotAcceptable = _error("NotAcceptable", 406)
Conflict = _error("Conflict", 409)
Gone = _error("Gone", 410)
PayloadTooLarge = _error("PayloadTooLarge", 413)
UnsupportedMediaType = _error("UnsupportedMediaType", 415)
UnprocessableEntity = _error("UnprocessableEntity", 422)
TooManyRequests = _error("TooManyRequests", 429)
InternalServerError = _error("InternalServerError", 500)
NotImplementedYet = _error("NotImplementedYet", 501)
ServiceUnavailable = _error("ServiceUnavailable", 503)
