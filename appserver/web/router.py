"""
The router: route patterns compiled once into a segment trie.

A pattern is an absolute path such as C{/items/<int:item>/edit}. It is split
on C{/} into segments; each segment is either literal text (matched exactly,
so characters like C{.} or C{*} mean themselves), one converter
(C{<name>}, C{<int:name>}, C{<float:name>}, C{<uuid:name>}, C{<path:name>}),
or literal text mixed with converters (C{<name>.txt}), compiled to one
anchored regular expression with the literal parts escaped.

Lookup walks the trie one request segment at a time: a dict lookup for
literal segments, then the segment's converters from most to least specific
(mixed, then C{uuid}, C{int}, C{float}, C{str}), then C{<path:...>} (which
takes the rest of the path and must end a pattern). Patterns without
converters are also kept in one dict keyed by their segments, so the common
case costs one hash. Either way the cost does not grow with the number of
routes. A value that does not convert simply does not match (a 404), and
so does a segment that is not UTF-8, for every converter, C{path} included.

Two routes conflict when their patterns have the same shape (the same
literal segments and converter types, whatever the parameter names) and
share a method; L{RouteConflict} is raised when the second is added.
"""

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Router", "Endpoint", "Match", "RouteConflict", "RouteError", "CONVERTERS"]


class RouteError(ValueError):
    """
    A route pattern is malformed.
    """


class RouteConflict(RouteError):
    """
    Two routes have the same shape and share a method.
    """


def _convertInt(text):
    return int(text)


def _convertFloat(text):
    return float(text)


def _convertUUID(text):
    return uuid.UUID(text)


@dataclass(frozen=True)
class _Converter:
    name: str
    regex: str
    convert: Callable[[str], Any]
    rank: int


CONVERTERS = {
    converter.name: converter
    for converter in [
        _Converter("uuid", r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", _convertUUID, 1),
        _Converter("int", r"-?[0-9]+", _convertInt, 2),
        _Converter("float", r"-?[0-9]+(?:\.[0-9]+)?", _convertFloat, 3),
        _Converter("str", r".+", str, 4),
    ]
}
"""
The converters of one path segment, by name. C{path} is handled apart.
"""

_PARAMETER = re.compile(r"<(?:([a-zA-Z_][a-zA-Z0-9_]*):)?([a-zA-Z_][a-zA-Z0-9_]*)>")
_MIXED_RANK = 0


@dataclass(frozen=True)
class Endpoint:
    """
    What a route leads to.

    @ivar handler: called as C{handler(request, **parameters)}.
    @ivar pattern: the full pattern, for messages.
    @ivar names: the parameter names in path order.
    @ivar pathIndex: the index of the first segment taken by a
        C{<path:...>} parameter, or L{None}.
    """

    handler: Callable[..., Any]
    pattern: str
    names: tuple[str, ...] = ()
    pathIndex: int | None = None


@dataclass(frozen=True)
class Match:
    """
    The result of L{Router.lookup}.

    @ivar endpoint: the L{Endpoint} for the method, or L{None} if the path is
        known but not with this method (then C{allowed} lists the methods).
    @ivar parameters: the converted path parameters by name.
    @ivar allowed: the methods the path accepts, sorted bytes.
    """

    endpoint: Endpoint | None
    parameters: dict[str, Any]
    allowed: tuple[bytes, ...]


class _SegmentMatcher:
    """
    A segment with converters: one anchored regex, converted group by group.
    """

    def __init__(self, parts):
        self.converters = [CONVERTERS[kind] for kind, value in parts if kind != "text"]
        if len(parts) == 1:
            self.rank = self.converters[0].rank
        else:
            self.rank = _MIXED_RANK
        regex = "".join(
            re.escape(value) if kind == "text" else f"({CONVERTERS[kind].regex})"
            for kind, value in parts
        )
        self._match = re.compile(regex + r"\Z", re.DOTALL).match

    def values(self, text):
        """
        The converted values of C{text}, or L{None} if it does not match.
        """
        found = self._match(text)
        if found is None:
            return None
        try:
            return [c.convert(g) for c, g in zip(self.converters, found.groups(), strict=True)]
        except ValueError:
            return None


class _Node:
    """
    One level of the trie.
    """

    __slots__ = ("literals", "dynamic", "dynamicByShape", "rest", "endpoints")

    def __init__(self):
        self.literals = {}
        self.dynamic = []
        self.dynamicByShape = {}
        self.rest = None
        self.endpoints = None


@dataclass
class _Parsed:
    shape: list[tuple[str, Any]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    pathIndex: int | None = None


def _parseSegment(segment, pattern):
    parts, names, position = [], [], 0
    for found in _PARAMETER.finditer(segment):
        if found.start() > position:
            parts.append(("text", segment[position:found.start()]))
        kind = found.group(1) or "str"
        if kind not in CONVERTERS and kind != "path":
            raise RouteError(f"Unknown converter {kind!r} in route {pattern!r}.")
        parts.append((kind, found.group(2)))
        names.append(found.group(2))
        position = found.end()
    if position < len(segment):
        parts.append(("text", segment[position:]))
    if any(c in value for kind, value in parts if kind == "text" for c in "<>"):
        raise RouteError(f"Malformed parameter in route {pattern!r}.")
    return parts, names


def parsePattern(pattern: str) -> _Parsed:
    """
    Split a pattern into its shape: a list of C{("literal", bytes)},
    C{("dynamic", parts)} and C{("path", None)} items, plus the parameter
    names in order.

    @raise RouteError: for a pattern that is not absolute, a malformed or
        repeated parameter, or a C{<path:...>} that does not end the pattern.
    """
    if not pattern.startswith("/"):
        raise RouteError(f"Route {pattern!r} must start with '/'.")
    parsed = _Parsed()
    segments = pattern[1:].split("/")
    for index, segment in enumerate(segments):
        parts, names = _parseSegment(segment, pattern)
        parsed.names.extend(names)
        if not names:
            parsed.shape.append(("literal", segment.encode("utf-8")))
        elif any(kind == "path" for kind, value in parts):
            if len(parts) != 1 or index != len(segments) - 1:
                raise RouteError(
                    f"<path:...> must be a whole segment at the end of route {pattern!r}."
                )
            parsed.pathIndex = index
            parsed.shape.append(("path", None))
        else:
            parsed.shape.append(("dynamic", tuple(parts)))
    if len(set(parsed.names)) != len(parsed.names):
        raise RouteError(f"Route {pattern!r} repeats a parameter name.")
    return parsed


def _shapeKey(parts):
    return tuple(kind if kind != "text" else "text:" + value for kind, value in parts)


class Router:
    """
    Routes (pattern, methods, handler) compiled into a trie, plus resources
    mounted on a first path segment.

    @ivar routes: the C{(pattern, methods, handler)} triples added, in order.
    @ivar mounts: first path segment (bytes) to mounted resource.

    Methods are upper-case bytes such as C{b"GET"}. Lookups take the request
    path as a list of already unquoted byte segments (as in
    C{request.postpath} for a resource at the root).
    """

    def __init__(self) -> None:
        self._root = _Node()
        self._literalRoutes: dict[tuple[bytes, ...], dict[bytes, Match]] = {}
        self.routes: list[tuple[str, Iterable[str | bytes], Callable[..., Any]]] = []
        self.mounts: dict[bytes, Any] = {}

    def mount(self, segment: str | bytes, resource: Any) -> None:
        """
        Serve the L{IResource} C{resource} under the first path segment
        C{segment} (such as C{"static"}) when no route matches.
        """
        if isinstance(segment, str):
            segment = segment.encode("utf-8")
        self.mounts[segment] = resource

    def add(self, pattern: str, methods: Iterable[str | bytes],
            handler: Callable[..., Any]) -> None:
        """
        Add a route.

        @param pattern: an absolute pattern, see the module docstring.
        @param methods: the method names (str or bytes) it answers.
        @param handler: called as C{handler(request, **parameters)}.
        @raise RouteError: if the pattern is malformed.
        @raise RouteConflict: if a route of the same shape has one of the
            methods already.
        """
        parsed = parsePattern(pattern)
        upper = [(m.encode("ascii") if isinstance(m, str) else m).upper() for m in methods]
        node = self._insert(parsed.shape)
        endpoints = node.endpoints if node.endpoints is not None else {}
        for method in upper:
            if method in endpoints:
                raise RouteConflict(
                    f"Route {method.decode()} {pattern!r} conflicts with "
                    f"{endpoints[method].pattern!r}."
                )
        endpoint = Endpoint(handler, pattern, tuple(parsed.names), parsed.pathIndex)
        for method in upper:
            endpoints[method] = endpoint
        node.endpoints = endpoints
        if all(kind == "literal" for kind, value in parsed.shape):
            key = tuple(value for kind, value in parsed.shape)
            matches = self._literalRoutes.setdefault(key, {})
            for method in upper:
                matches[method] = Match(endpoint, {}, ())
        self.routes.append((pattern, tuple(upper), handler))

    def _insert(self, shape):
        node = self._root
        for kind, value in shape:
            if kind == "literal":
                child = node.literals.get(value)
                if child is None:
                    child = node.literals[value] = _Node()
                node = child
            elif kind == "path":
                if node.rest is None:
                    node.rest = _Node()
                node = node.rest
            else:
                node = self._insertDynamic(node, value)
        return node

    def _insertDynamic(self, node, parts):
        key = _shapeKey(parts)
        child = node.dynamicByShape.get(key)
        if child is None:
            child = _Node()
            node.dynamicByShape[key] = child
            node.dynamic.append((_SegmentMatcher(parts), child))
            node.dynamic.sort(key=lambda pair: pair[0].rank)
        return child

    def lookup(self, method: bytes, segments: Sequence[bytes]) -> Match | None:
        """
        Find the route for C{method} and the path C{segments}.

        @param method: the request method, upper-case bytes.
        @param segments: the unquoted path segments, a list of bytes.
        @return: a L{Match}, or L{None} if no route has this path.
        """
        matches = self._literalRoutes.get(tuple(segments))
        if matches is not None:
            match = matches.get(method)
            if match is not None:
                return match
        return self._lookupDynamic(method, segments)

    def _lookupDynamic(self, method, segments):
        found = []
        values = []
        if not _search(self._root, segments, 0, method, values, found):
            if not found:
                return None
            return Match(None, {}, _allowed(set().union(*found)))
        endpoint = found[-1].get(method)
        return Match(endpoint, dict(zip(endpoint.names, values, strict=True)), ())

    def allowed(self, segments: Sequence[bytes]) -> tuple[bytes, ...]:
        """
        The methods some route accepts for the path C{segments}, or an empty
        tuple.
        """
        match = self.lookup(b"\0", segments)
        return match.allowed if match is not None else ()


def _allowed(endpoints):
    return tuple(sorted(endpoints))


def _search(node, segments, index, method, values, found):
    """
    Depth-first search; on success the endpoints are appended to C{found}
    and the converted values are in C{values}. Nodes that end the path but
    lack C{method} are appended to C{found} too, for the 405 answer.
    """
    if index == len(segments):
        if node.endpoints is None:
            return False
        found.append(node.endpoints)
        return method in node.endpoints
    segment = segments[index]
    child = node.literals.get(segment)
    if child is not None and _search(child, segments, index + 1, method, values, found):
        return True
    if node.dynamic:
        if _searchDynamic(node, segments, index, method, values, found):
            return True
    if node.rest is not None and node.rest.endpoints is not None:
        rest = _text(b"/".join(segments[index:]))
        if rest:
            found.append(node.rest.endpoints)
            if method in node.rest.endpoints:
                values.append(rest)
                return True
    return False


def _text(data):
    """
    C{data} decoded as UTF-8, or L{None} if it is not UTF-8: such a value
    matches no converter (a 404), rather than reaching a controller as
    text it cannot encode again.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _searchDynamic(node, segments, index, method, values, found):
    text = _text(segments[index])
    if not text:
        return False
    for matcher, child in node.dynamic:
        converted = matcher.values(text)
        if converted is None:
            continue
        mark = len(values)
        values.extend(converted)
        if _search(child, segments, index + 1, method, values, found):
            return True
        del values[mark:]
    return False
