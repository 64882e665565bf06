"""
The error a service raises when it cannot start.

The root of a command's service tree turns it into the sentence the
operator reads, and ends the process with it.
"""

__all__ = ["StartupError"]


class StartupError(SystemExit, Exception):
    """
    A service cannot start; the message is one sentence for the operator.

    It is an L{Exception}, so twistd's start-up handling (which removes the
    pidfile and answers a daemon's parent) catches it, and a L{SystemExit},
    so that the interpreter then ends with exit code 1 printing the message
    alone instead of a traceback.
    """
