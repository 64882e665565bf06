"""
The Redis serialization protocol (RESP2 and RESP3), without I/O, for both
ends: the session server reads requests with L{RequestParser} and writes
replies with L{encode}; the web sessions' Redis client writes requests with
L{encodeCommand} and reads replies with L{makeReplyParser}. Every parser
reports bytes that are not RESP as one L{ProtocolError}.
"""

from services.resp.encoding import OK, Status, encode, encodeCommand, parseDecimal
from services.resp.errors import ProtocolError, ReplyError
from services.resp.replies import HiredisReplyParser, ReplyParser, makeReplyParser
from services.resp.requests import RequestParser, splitArgs

__all__ = [
    "OK", "Status", "encode", "encodeCommand", "parseDecimal", "ProtocolError", "ReplyError",
    "HiredisReplyParser", "ReplyParser", "makeReplyParser", "RequestParser", "splitArgs",
]
