"""
Request helpers: query arguments, form fields, uploaded files, JSON bodies.

Values are decoded as UTF-8 text. Query arguments come from the URL only;
form fields and files from a C{application/x-www-form-urlencoded} or
C{multipart/form-data} body only. Parsed values are cached on the request.
"""

import json
import re
import sys
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qs

from twisted.web.server import Request

from appserver.web.responses import BadRequest

__all__ = [
    "queryArg", "queryArgs", "formField", "formFields",
    "uploadedFile", "uploadedFiles", "UploadedFile", "jsonBody", "requestBody",
    "MAX_JSON_DEPTH",
]

_QUERY = "_appserverQuery"
_FORM = "_appserverForm"
_MISSING = object()

MAX_JSON_DEPTH = 128
"""
The deepest nesting of arrays and objects that L{jsonBody} accepts.
"""

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_NESTING = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


@dataclass(frozen=True)
class UploadedFile:
    """
    A file uploaded in a C{multipart/form-data} body.

    @ivar filename: the name the client gave, never to be trusted as a path.
    @ivar contentType: the part's content type.
    @ivar data: the file's bytes.
    """

    filename: str
    contentType: str
    data: bytes


def requestBody(request: Request) -> bytes:
    """
    The request body as bytes.
    """
    content = request.content
    if content is None:
        return b""
    content.seek(0)
    body = content.read()
    content.seek(0)
    return body


def _cached(request, key, parse):
    value = request.__dict__.get(key)
    if value is None:
        value = request.__dict__[key] = parse(request)
    return value


def _parseQuery(request):
    uri = request.uri
    query = uri.partition(b"?")[2].decode("utf-8", "replace")
    return parse_qs(query, keep_blank_values=True)


def queryArgs(request: Request, name: str) -> list[str]:
    """
    Every value of query argument C{name}, a possibly empty list of str.
    """
    return _cached(request, _QUERY, _parseQuery).get(name, [])


def queryArg(request: Request, name: str, default: Any = None) -> Any:
    """
    The first value of query argument C{name}, or C{default}.
    """
    values = queryArgs(request, name)
    return values[0] if values else default


def _contentType(request):
    value = request.getHeader(b"content-type") or b""
    return value.decode("latin-1")


def _parseForm(request):
    contentType = _contentType(request)
    kind = contentType.partition(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        text = requestBody(request).decode("utf-8", "replace")
        return parse_qs(text, keep_blank_values=True), {}
    if kind == "multipart/form-data":
        return _parseMultipart(contentType, requestBody(request))
    return {}, {}


def _parseMultipart(contentType, body):
    head = f"Content-Type: {contentType}\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects:
        raise BadRequest("Malformed multipart/form-data body.")
    fields, files = {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            fields.setdefault(name, []).append(data.decode("utf-8", "replace"))
        else:
            upload = UploadedFile(filename, part.get_content_type(), data)
            files.setdefault(name, []).append(upload)
    return fields, files


def formFields(request: Request, name: str) -> list[str]:
    """
    Every value of form field C{name}, a possibly empty list of str.

    @raise BadRequest: for a malformed multipart body.
    """
    return _cached(request, _FORM, _parseForm)[0].get(name, [])


def formField(request: Request, name: str, default: Any = None) -> Any:
    """
    The first value of form field C{name}, or C{default}.
    """
    values = formFields(request, name)
    return values[0] if values else default


def uploadedFiles(request: Request, name: str) -> list[UploadedFile]:
    """
    Every L{UploadedFile} sent as form field C{name}, a possibly empty list.
    """
    return _cached(request, _FORM, _parseForm)[1].get(name, [])


def uploadedFile(request: Request, name: str) -> UploadedFile | None:
    """
    The first L{UploadedFile} sent as form field C{name}, or L{None}.
    """
    files = uploadedFiles(request, name)
    return files[0] if files else None


def jsonBody(request: Request, default: Any = _MISSING, maxDepth: int = MAX_JSON_DEPTH) -> Any:
    """
    The request body parsed as JSON: UTF-8 text (a leading byte order mark
    is skipped) holding arrays and objects nested at most C{maxDepth} levels
    deep, integers of at most Python's C{sys.get_int_max_str_digits()}
    digits (4300 by default), and no lone surrogate escape (C{"\\ud800"}
    alone names no character, and no database or encoder takes it).

    @param default: returned for an empty body; without it an empty body
        is an error.
    @param maxDepth: the deepest nesting accepted, L{MAX_JSON_DEPTH} (128,
        as serde_json's default) unless given.
    @raise BadRequest: (a 400 answer) naming the problem, for an empty,
        malformed or refused body.
    """
    body = requestBody(request)
    if not body.strip():
        if default is not _MISSING:
            return default
        raise BadRequest("The request body is empty; JSON was expected.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("The request body is not UTF-8 text.") from None
    _checkDepth(text, maxDepth)
    value = _parseJSON(text)
    if _SURROGATE_ESCAPE.search(text) and _hasLoneSurrogate(value):
        raise BadRequest("The JSON body has a lone surrogate escape (such as \\ud800), "
                         "which is no character.")
    return value


def _parseJSON(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BadRequest(
            f"Malformed JSON body: {e.msg} at line {e.lineno}, column {e.colno}."
        ) from None
    except ValueError:
        # The only other ValueError: an integer past the digit limit.
        raise BadRequest(f"The JSON body has a number of more than "
                         f"{sys.get_int_max_str_digits()} digits.") from None


def _checkDepth(text, maxDepth):
    """
    Refuse JSON text nesting arrays and objects deeper than C{maxDepth}:
    the parser would recurse that deep (and fail with RecursionError past
    about a thousand levels). Brackets are counted outside strings only,
    and only in texts with enough brackets to be too deep.
    """
    if text.count("[") + text.count("{") <= maxDepth:
        return
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if max(accumulate(map(_NESTING.__getitem__, brackets)), default=0) > maxDepth:
        raise BadRequest(f"The JSON body is nested deeper than {maxDepth} levels.")


def _hasLoneSurrogate(value):
    """
    Whether parsed JSON C{value} holds a surrogate code point: what an
    unpaired escape leaves (a pair becomes one character).
    """
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
