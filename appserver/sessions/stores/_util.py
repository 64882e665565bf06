"""
Helpers shared by the session stores.
"""

import math

from appserver.sessions.signing import isSessionId

DEFAULT_PREFIX = b"session:"


def milliseconds(timeout):
    """
    A timeout in seconds as whole milliseconds, at least one.
    """
    return max(1, math.ceil(timeout * 1000))


def checkId(sessionId):
    """
    Return C{sessionId}, refusing anything that is not a session id (it
    becomes a key or a file name).
    """
    if not isSessionId(sessionId):
        raise ValueError(f"{sessionId!r} is not a session id")
    return sessionId
