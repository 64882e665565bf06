"""
The C{--sessions} spec: C{memory}, C{file:DIR} or C{redis://...}.
"""

from typing import Any

from appserver.sessions.resp import parseRedisURL
from appserver.sessions.stores.files import FileSessionStore
from appserver.sessions.stores.memory import MemorySessionStore
from appserver.sessions.stores.redis import RedisSessionStore

SPEC_HELP = "memory, file:DIRECTORY or redis://[:password@]host[:port][/db]"


def checkStoreSpec(spec: object) -> str:
    """
    Validate a C{--sessions} value and return it (an option coerce
    function).

    @raise ValueError: with one sentence naming the value, if it is not a
        store spec.
    """
    text = str(spec).strip()
    if text == "memory":
        return text
    if text.startswith("file:"):
        if not text[len("file:"):]:
            raise ValueError(f"{text!r} names no directory (use file:DIRECTORY)")
        return text
    if text.startswith("redis://"):
        parseRedisURL(text)
        return text
    raise ValueError(f"{text!r} is not a session store (use {SPEC_HELP})")


checkStoreSpec.coerceDoc = f"One of {SPEC_HELP}."  # type: ignore[attr-defined]


def storeFromSpec(spec: str, clock: Any = None, reactor: Any = None,
                  maxMemory: int = 0) -> MemorySessionStore | FileSessionStore | RedisSessionStore:
    """
    The L{ISessionStore} a C{--sessions} spec names; nothing is opened yet.

    @param clock: the clock of expiry (memory and file stores).
    @param reactor: the reactor to connect with (redis).
    @param maxMemory: the memory store's bound in bytes (0: none).
    @raise ValueError: with one sentence, if C{spec} is not a store spec.
    """
    text = checkStoreSpec(spec)
    if text == "memory":
        return MemorySessionStore(clock=clock, maxMemory=maxMemory)
    if text.startswith("file:"):
        return FileSessionStore(text[len("file:"):], clock=clock)
    return RedisSessionStore.fromURL(text, reactor=reactor)
