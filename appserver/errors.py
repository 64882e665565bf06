"""
Errors that stop a command at start-up.
"""

__all__ = ["StartupError"]


class StartupError(Exception):
    """
    A service cannot start; the message is one sentence for the operator.

    Keep it short and put the reason first: a daemonized twistd passes only
    the first 100 bytes of it back to the shell that started it.
    """
