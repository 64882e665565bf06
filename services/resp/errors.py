"""
The two kinds of error RESP knows: a peer that broke the protocol, and an
error reply (a value a command answers with).
"""

__all__ = ["ProtocolError", "ReplyError", "SHOWN_BYTES"]

SHOWN_BYTES = 64
"""The most offending bytes a L{ProtocolError} keeps (enough to see them)."""


class ProtocolError(Exception):
    """
    The peer sent bytes that are not RESP.

    C{args[0]} is the message: for a request, Redis's own text (such as
    C{Protocol error: invalid bulk length}), which the session server sends
    back as an error reply before closing the connection.

    @ivar data: the offending bytes (at most L{SHOWN_BYTES} of them), or
        C{b""} when the parser cannot tell (the C{hiredis} reader).
    @ivar offset: where C{data} starts, in bytes from the start of the
        stream the parser was fed, or L{None} when the parser cannot tell.
    """

    def __init__(self, message: str, data: bytes | bytearray = b"",
                 offset: int | None = None) -> None:
        Exception.__init__(self, message)
        self.data = bytes(data[:SHOWN_BYTES])
        self.offset = offset


class ReplyError(Exception):
    """
    An error reply: C{args[0]} is its full text with its code, such as
    C{ERR syntax error} or C{WRONGPASS ...}. Command handlers return one to
    have it sent; the reply parsers return one for each error reply read.
    """
