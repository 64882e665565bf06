"""
The session server's value types besides strings (C{bytes}): L{Hash} and
L{Set}, each carrying its estimated memory C{cost}, with what the store and
its journal need of them (their records, remembering and putting back
items for an undo), and L{WrongType}, raised when a key holds another type.
"""

from collections.abc import Iterable
from typing import Any

from services.resp import ReplyError

__all__ = ["WrongType", "Hash", "Set", "ITEM_OVERHEAD", "RECORD_ITEMS", "recordChunks",
           "typeName", "copyValue"]

ITEM_OVERHEAD = 60
"""Estimated bytes a hash field or set member costs besides its bytes."""


class WrongType(ReplyError):
    """
    A command read or changed a key holding another type of value; the
    reply is Redis's C{WRONGTYPE} error.
    """

    def __init__(self) -> None:
        ReplyError.__init__(self, "WRONGTYPE Operation against a key holding the wrong "
                                  "kind of value")


class Hash(dict):
    """
    A hash value: field to value, with its estimated C{cost} in bytes.

    @cvar verbs: the journal records adding and removing fields.
    """

    __slots__ = ("cost",)
    verbs = (b"HSET", b"HDEL")

    def __init__(self) -> None:
        dict.__init__(self)
        self.cost = 0

    def growth(self, items: list[tuple[bytes, bytes]]) -> int:
        """
        About how many bytes setting the C{(field, value)} pairs C{items}
        adds to L{cost}.
        """
        grown = 0
        for field, value in items:
            old = self.get(field)
            grown += len(value) + (ITEM_OVERHEAD + len(field) if old is None else -len(old))
        return grown

    def put(self, items: list[tuple[bytes, bytes]]) -> int:
        """
        Set the C{(field, value)} pairs C{items}; return how many fields
        are new.
        """
        added = 0
        for field, value in items:
            old = self.get(field)
            if old is None:
                added += 1
                self.cost += ITEM_OVERHEAD + len(field) + len(value)
            else:
                self.cost += len(value) - len(old)
            self[field] = value
        return added

    def drop(self, fields: list[bytes]) -> list[bytes]:
        """
        Remove C{fields}; return those that were there.
        """
        removed = []
        for field in fields:
            value = self.pop(field, None)
            if value is not None:
                self.cost -= ITEM_OVERHEAD + len(field) + len(value)
                removed.append(field)
        return removed

    def remember(self, fields: list[bytes]) -> list[tuple[bytes, bytes | None]]:
        """
        C{(field, value or None)} for C{fields}, for L{restore}.
        """
        return [(field, self.get(field)) for field in fields]

    def putBack(self, remembered: list[tuple[bytes, bytes | None]]) -> None:
        """
        Put the fields L{remember} gave back as they were, latest first.
        """
        for field, value in reversed(remembered):
            if value is None:
                self.drop([field])
            else:
                self.put([(field, value)])

    @staticmethod
    def flatten(items: list[tuple[bytes, bytes]]) -> list[bytes]:
        """
        C{items} as the arguments of a C{HSET} record.
        """
        return [part for item in items for part in item]

    def records(self, key: bytes) -> list[tuple[bytes, ...]]:
        """
        The C{HSET} records giving this hash at C{key}.
        """
        return recordChunks(self.verbs[0], key, [part for item in self.items() for part in item])


class Set(set):
    """
    A set value: its members, with its estimated C{cost} in bytes.

    @cvar verbs: the journal records adding and removing members.
    """

    __slots__ = ("cost",)
    verbs = (b"SADD", b"SREM")

    def __init__(self, members: Iterable[bytes] = ()) -> None:
        # Unpickling passes the members.
        set.__init__(self, members)
        self.cost = sum(ITEM_OVERHEAD + len(member) for member in self)

    def growth(self, items: list[tuple[bytes, None]]) -> int:
        """
        About how many bytes adding the members of C{(member, None)}
        pairs C{items} adds to L{cost}.
        """
        return sum(ITEM_OVERHEAD + len(member) for member, _ in items if member not in self)

    def put(self, items: list[tuple[bytes, None]]) -> int:
        """
        Add the members of C{(member, None)} pairs C{items}; return how
        many are new.
        """
        before = len(self)
        for member, _ in items:
            if member not in self:
                self.add(member)
                self.cost += ITEM_OVERHEAD + len(member)
        return len(self) - before

    def drop(self, members: list[bytes]) -> list[bytes]:
        """
        Remove C{members}; return those that were there.
        """
        removed = []
        for member in members:
            if member in self:
                self.remove(member)
                self.cost -= ITEM_OVERHEAD + len(member)
                removed.append(member)
        return removed

    def remember(self, members: list[bytes]) -> list[tuple[bytes, bool]]:
        """
        C{(member, whether present)} for C{members}, for L{restore}.
        """
        return [(member, member in self) for member in members]

    def putBack(self, remembered: list[tuple[bytes, bool]]) -> None:
        """
        Put the members L{remember} gave back as they were, latest first.
        """
        for member, present in reversed(remembered):
            if present:
                self.put([(member, None)])
            else:
                self.drop([member])

    @staticmethod
    def flatten(items: list[tuple[bytes, None]]) -> list[bytes]:
        """
        C{items} as the arguments of a C{SADD} record.
        """
        return [member for member, _ in items]

    def records(self, key: bytes) -> list[tuple[bytes, ...]]:
        """
        The C{SADD} records giving this set at C{key}.
        """
        return recordChunks(self.verbs[0], key, list(self))


RECORD_ITEMS = 512
"""The most arguments after the key in one record of a change to a hash or
set (as a command or written by a compaction)."""


def recordChunks(verb: bytes, key: bytes, parts: list[bytes]) -> list[tuple[bytes, ...]]:
    """
    The records C{(verb, key, *parts)} in pieces of at most
    L{RECORD_ITEMS} parts (an even number: a hash's pairs stay whole).
    """
    step = RECORD_ITEMS
    return [(verb, key, *parts[i:i + step]) for i in range(0, len(parts), step)]


_TYPES = {bytes: b"string", Hash: b"hash", Set: b"set"}


def typeName(value: Any) -> bytes:
    """
    The TYPE of a value: C{string}, C{hash} or C{set}.
    """
    return _TYPES[value.__class__]


def copyValue(value: Any) -> Any:
    """
    A copy of a value that later changes to C{value} leave as it is.
    """
    if value.__class__ is bytes:
        return value
    copy = value.__class__()
    copy.update(value)
    copy.cost = value.cost
    return copy
