"""
Helpers shared by the session stores.
"""

import hashlib
import math
from collections.abc import Callable
from typing import Any

from twisted.internet import task
from twisted.logger import Logger

from appserver.sessions.signing import isSessionId

_log = Logger()

DEFAULT_PREFIX = b"session:"
# Under a store's prefix, what follows this names a user's index, not a session.
USERS = b"user:"


def milliseconds(timeout: float) -> int:
    """
    A timeout in seconds as whole milliseconds, at least one.
    """
    return max(1, math.ceil(timeout * 1000))


def userKey(userId: str) -> str:
    """
    The name of C{userId}'s index: a SHA-256 of it in hex, so that any
    user id makes a safe key or file name of fixed length.
    """
    return hashlib.sha256(userId.encode("utf-8")).hexdigest()


def userIndexKey(prefix: bytes, userId: str) -> bytes:
    """
    The key of C{userId}'s set of session ids under C{prefix} (the memory
    and Redis stores name it alike, so they share it over RESP).
    """
    return prefix + USERS + userKey(userId).encode("ascii")


def checkId(sessionId: str) -> str:
    """
    Return C{sessionId}, refusing anything that is not a session id (it
    becomes a key or a file name).
    """
    if not isSessionId(sessionId):
        raise ValueError(f"{sessionId!r} is not a session id")
    return sessionId


def startSweeping(sweep: Callable[[], object], interval: float, clock: Any,
                  where: str) -> task.LoopingCall:
    """
    Call C{sweep} every C{interval} seconds of C{clock}, logging a failure
    (which ends the sweeping) with C{where}.

    @return: the L{task.LoopingCall}, for L{stopSweeping}.
    """
    sweeper = task.LoopingCall(sweep)
    sweeper.clock = clock
    sweeper.start(interval, now=False).addErrback(
        lambda f: _log.failure("Sweeping sessions in {where}", f, where=where))
    return sweeper


def stopSweeping(sweeper: task.LoopingCall | None) -> None:
    """
    Stop a sweeper from L{startSweeping}, if there is one still running.
    """
    if sweeper is not None and sweeper.running:
        sweeper.stop()
