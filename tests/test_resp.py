"""
Tests for L{services.resp}: the request parser (every limit and protocol
error Redis has), the reply serializer, the command encoder and the reply
parsers (pure and C{hiredis}), with property-based round trips and fuzzing.
"""

from hypothesis import given, settings, strategies as st
from twisted.trial.unittest import SynchronousTestCase

from services.resp import requests as resp
from services.resp import (
    HiredisReplyParser, ProtocolError, ReplyError, ReplyParser, Status, encode, encodeCommand,
    makeReplyParser, replies,
)
from services.resp.replies import MAX_DEPTH, hiredis
from services.resp.requests import RequestParser as Parser


def parseAll(data, parser=None):
    """
    Feed C{data} to a parser and return every command it yields.
    """
    parser = parser or Parser()
    parser.feed(data)
    commands = []
    while (command := parser.next()) is not None:
        commands.append(command)
    return commands


class MultibulkTests(SynchronousTestCase):
    """
    RESP multibulk requests.
    """

    def test_oneCommand(self):
        """A complete multibulk request gives its arguments as bytes."""
        self.assertEqual(parseAll(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"),
                         [[b"SET", b"k", b""]])

    def test_pipelined(self):
        """Several requests in one chunk come out in order."""
        self.assertEqual(parseAll(b"*1\r\n$4\r\nPING\r\n" * 3), [[b"PING"]] * 3)

    def test_byteByByte(self):
        """A request fed one byte at a time comes out once, when complete."""
        parser = Parser()
        data = b"*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n"
        out = []
        for i in range(len(data)):
            out += parseAll(data[i:i + 1], parser)
        self.assertEqual(out, [[b"GET", b"hello"]])
        self.assertEqual(parser.consumed, len(data))
        self.assertEqual(parser.pending(), 0)

    def test_binarySafe(self):
        """Bulk strings may hold CR, LF and NUL bytes."""
        self.assertEqual(parseAll(b"*1\r\n$5\r\na\r\n\x00b\r\n"), [[b"a\r\n\x00b"]])

    def test_emptyAndNegativeCounts(self):
        """C{*0} and C{*-1} are skipped, as Redis does."""
        self.assertEqual(parseAll(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"), [[b"PING"]])

    def test_invalidMultibulkLength(self):
        """A count that is not a number is a protocol error."""
        for data in [b"*abc\r\n", b"*1x\r\n", b"* 1\r\n", b"*01\r\n", b"*\r\n"]:
            with self.assertRaises(ProtocolError) as e:
                parseAll(data)
            self.assertEqual(e.exception.args[0], "Protocol error: invalid multibulk length")

    def test_multibulkCountLimit(self):
        """Up to 1024*1024 arguments are accepted, one more is refused."""
        parser = Parser()
        parser.feed(b"*1048576\r\n")
        self.assertIsNone(parser.next())
        with self.assertRaises(ProtocolError) as e:
            parseAll(b"*1048577\r\n")
        self.assertEqual(e.exception.args[0], "Protocol error: invalid multibulk length")

    def test_tooBigCountString(self):
        """A count line over 64 KiB without CR is refused."""
        with self.assertRaises(ProtocolError) as e:
            parseAll(b"*" + b"1" * resp.INLINE_MAX)
        self.assertEqual(e.exception.args[0], "Protocol error: too big mbulk count string")

    def test_tooBigBulkCountString(self):
        """A bulk length line over 64 KiB without CR is refused."""
        with self.assertRaises(ProtocolError) as e:
            parseAll(b"*1\r\n$" + b"1" * resp.INLINE_MAX)
        self.assertEqual(e.exception.args[0], "Protocol error: too big bulk count string")

    def test_expectedDollar(self):
        """An argument that is not a bulk string is refused, naming the byte."""
        with self.assertRaises(ProtocolError) as e:
            parseAll(b"*1\r\n+PING\r\n")
        self.assertEqual(e.exception.args[0], "Protocol error: expected '$', got '+'")

    def test_invalidBulkLength(self):
        """Negative, non-numeric and over-512MB bulk lengths are refused."""
        for length in [b"-1", b"abc", b"536870913", b""]:
            with self.assertRaises(ProtocolError) as e:
                parseAll(b"*1\r\n$" + length + b"\r\n")
            self.assertEqual(e.exception.args[0], "Protocol error: invalid bulk length")

    def test_bulkLimitAccepted(self):
        """A bulk of exactly 512 MB is accepted (and waited for)."""
        parser = Parser()
        parser.feed(b"*1\r\n$536870912\r\n")
        self.assertIsNone(parser.next())

    def test_unauthenticatedLimits(self):
        """Unauthenticated clients may send at most 10 arguments of 16384 bytes."""
        parser = Parser(authenticated=False)
        parser.feed(b"*10\r\n$16384\r\n")
        self.assertIsNone(parser.next())
        with self.assertRaises(ProtocolError) as e:
            parseAll(b"*11\r\n", Parser(authenticated=False))
        self.assertEqual(e.exception.args[0], "Protocol error: unauthenticated multibulk length")
        with self.assertRaises(ProtocolError) as e:
            parseAll(b"*1\r\n$16385\r\n", Parser(authenticated=False))
        self.assertEqual(e.exception.args[0], "Protocol error: unauthenticated bulk length")

    def test_authenticationLiftsLimits(self):
        """Once authenticated is set, the following requests may be larger."""
        parser = Parser(authenticated=False)
        parser.feed(b"*1\r\n$4\r\nAUTH\r\n*11\r\n")
        self.assertEqual(parser.next(), [b"AUTH"])
        parser.authenticated = True
        self.assertIsNone(parser.next())

    def test_trailingBytesNotChecked(self):
        """Like Redis, the two bytes after a bulk are skipped unchecked."""
        self.assertEqual(parseAll(b"*1\r\n$4\r\nPINGxx"), [[b"PING"]])

    def test_bufferCompacted(self):
        """Bytes of returned commands are dropped, even with a partial tail."""
        parser = Parser()
        parseAll(b"*1\r\n$4\r\nPING\r\n" * 100 + b"*1\r\n$4\r\nPI", parser)
        self.assertEqual(len(parser._buffer), len(b"*1\r\n$4\r\nPI"))


class InlineTests(SynchronousTestCase):
    """
    Inline commands, as typed in telnet.
    """

    def test_simple(self):
        """Words separated by spaces, ending in CRLF or LF."""
        self.assertEqual(parseAll(b"SET a  b\r\nGET a\n"), [[b"SET", b"a", b"b"], [b"GET", b"a"]])

    def test_emptyLinesSkipped(self):
        """Blank lines produce no command."""
        self.assertEqual(parseAll(b"\r\n   \r\n\nPING\r\n"), [[b"PING"]])

    def test_quotes(self):
        """Double quotes take escapes, single quotes take only \\'."""
        self.assertEqual(parseAll(b'set "a b" "\\x41\\n\\"" \'it\\\'s\'\r\n'),
                         [[b"set", b"a b", b"A\n\"", b"it's"]])

    def test_unbalancedQuotes(self):
        """An unclosed quote, or a quote not followed by a space, is refused."""
        for line in [b'set a "b\r\n', b"set 'a\r\n", b'set "a"b\r\n']:
            with self.assertRaises(ProtocolError) as e:
                parseAll(line)
            self.assertEqual(e.exception.args[0], "Protocol error: unbalanced quotes in request")

    def test_tooBig(self):
        """An inline request over 64 KiB without a newline is refused."""
        parser = Parser()
        parser.feed(b"x" * resp.INLINE_MAX)
        self.assertIsNone(parser.next())
        with self.assertRaises(ProtocolError) as e:
            parseAll(b"x", parser)
        self.assertEqual(e.exception.args[0], "Protocol error: too big inline request")

    def test_splitArgs(self):
        """splitArgs returns None for unbalanced quotes and [] for blanks."""
        self.assertIsNone(resp.splitArgs(b'"abc'))
        self.assertEqual(resp.splitArgs(b"  \t "), [])
        self.assertEqual(resp.splitArgs(b'"\\xZZ"'), [b"xZZ"])


class FuzzTests(SynchronousTestCase):
    """
    Random input never breaks the parser.
    """

    @settings(max_examples=500, deadline=None)
    @given(st.lists(st.binary(max_size=64), max_size=8), st.booleans())
    def test_randomBytes(self, chunks, authenticated):
        """Any bytes give commands of bytes or a ProtocolError, nothing else."""
        parser = Parser(authenticated=authenticated)
        try:
            for chunk in chunks:
                for command in parseAll(chunk, parser):
                    self.assertTrue(command)
                    self.assertTrue(all(type(arg) is bytes for arg in command))
        except ProtocolError as e:
            self.assertTrue(e.args[0].startswith("Protocol error: "))
            assertShowsStream(self, e, b"".join(chunks))

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.lists(st.binary(max_size=20), min_size=1, max_size=5), max_size=5),
           st.integers(min_value=1, max_value=7))
    def test_roundTrip(self, commands, step):
        """Encoded commands, split anywhere, parse back to themselves."""
        data = b"".join(encodeCommand(command) for command in commands)
        parser = Parser()
        out = []
        for i in range(0, len(data), step):
            out += parseAll(data[i:i + step], parser)
        self.assertEqual(out, commands)


    @settings(max_examples=500, deadline=None)
    @given(st.lists(st.one_of(
        st.lists(st.binary(max_size=12), min_size=1, max_size=12).map(encodeCommand),
        st.sampled_from([b"*2\r\n$1\r\na\r\n", b"$3\r\n", b"\r\n", b"*0\r\n", b"*-1\r\n",
                         b"PING\r\n", b"*1\r\n$4\r\nPI\r\n\r\n", b"*1\r\n:1\r\n",
                         b"*12\r\n", b"$01\r\n", b"*1\r\n$2\r\na\rb\r\n"]),
    ), max_size=8), st.booleans())
    def test_wholeReadsAsByteByByte(self, pieces, authenticated):
        """Fed at once or byte by byte, a stream gives the same commands and error."""
        data = b"".join(pieces)
        self.assertEqual(outcome([data], authenticated),
                         outcome([data[i:i + 1] for i in range(len(data))], authenticated))


def assertShowsStream(case, error, stream):
    """
    Check that C{error} shows bytes of C{stream}, at its offset.
    """
    case.assertTrue(error.data)
    case.assertEqual(stream[error.offset:error.offset + len(error.data)], error.data)


def outcome(chunks, authenticated):
    """
    The commands parsed from C{chunks}, and the protocol error that ended
    them if any.
    """
    parser, out = Parser(authenticated=authenticated), []
    try:
        for chunk in chunks:
            parser.feed(chunk)
            command = parser.next()
            while command is not None:
                out.append(command)
                command = parser.next()
    except ProtocolError as e:
        return out, e.args[0]
    return out, None


class EncodeTests(SynchronousTestCase):
    """
    Reply serialization in RESP2 and RESP3.
    """

    def test_scalars(self):
        """Bulk, integer, simple string, error and null."""
        self.assertEqual(encode(b"ab"), b"$2\r\nab\r\n")
        self.assertEqual(encode(-3), b":-3\r\n")
        self.assertEqual(encode(Status("OK")), b"+OK\r\n")
        self.assertEqual(encode(ReplyError("ERR bad\r\nthing")), b"-ERR bad  thing\r\n")
        self.assertEqual(encode(None), b"$-1\r\n")
        self.assertEqual(encode(None, resp3=True), b"_\r\n")
        self.assertEqual(encode("é"), b"$2\r\n\xc3\xa9\r\n")

    def test_arraysAndMaps(self):
        """Lists are arrays; dicts are maps in RESP3 and flat arrays in RESP2."""
        self.assertEqual(encode([b"a", 1, None]), b"*3\r\n$1\r\na\r\n:1\r\n$-1\r\n")
        self.assertEqual(encode({b"k": 1}), b"*2\r\n$1\r\nk\r\n:1\r\n")
        self.assertEqual(encode({b"k": 1}, resp3=True), b"%1\r\n$1\r\nk\r\n:1\r\n")

    def test_sets(self):
        """Sets are sets in RESP3 and arrays in RESP2."""
        self.assertEqual(encode({b"a"}, resp3=True), b"~1\r\n$1\r\na\r\n")
        self.assertEqual(encode(frozenset([b"a"])), b"*1\r\n$1\r\na\r\n")

    def test_doubles(self):
        """Floats are doubles in RESP3 and bulk strings in RESP2."""
        self.assertEqual(encode(1.5, resp3=True), b",1.5\r\n")
        self.assertEqual(encode(1.5), b"$3\r\n1.5\r\n")

    def test_unknownType(self):
        """Anything else is a programming error."""
        self.assertRaises(TypeError, encode, object())


class RequestErrorTests(SynchronousTestCase):
    """
    A request parser's L{ProtocolError} carries the offending bytes and
    where they start in the stream.
    """

    def test_offendingByte(self):
        """After a good request, a bad argument type is shown at its offset."""
        with self.assertRaises(ProtocolError) as e:
            parseAll(b"*1\r\n$4\r\nPING\r\n*1\r\n+PING\r\n")
        self.assertEqual((e.exception.data, e.exception.offset), (b"+", 18))

    def test_offendingLine(self):
        """A bad length is shown as its whole line, across reads."""
        parser = Parser()
        parseAll(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n", parser)
        with self.assertRaises(ProtocolError) as e:
            parseAll(b"$abc\r\n", parser)
        self.assertEqual((e.exception.data, e.exception.offset), (b"$abc", 27))

    def test_inline(self):
        """Unbalanced quotes are shown as the inline line."""
        with self.assertRaises(ProtocolError) as e:
            parseAll(b'PING\r\nset "a\r\n')
        self.assertEqual((e.exception.data, e.exception.offset), (b'set "a\r', 6))

    def test_shownBytesBounded(self):
        """A line too big shows only its first bytes."""
        with self.assertRaises(ProtocolError) as e:
            parseAll(b"x" * (resp.INLINE_MAX + 1))
        self.assertEqual((e.exception.data, e.exception.offset), (b"x" * 64, 0))


class ReplyParserTests(SynchronousTestCase):
    """
    The pure reply parser.
    """

    parserType = ReplyParser

    def test_types(self):
        """Every RESP2 reply type is decoded."""
        data = (b"+OK\r\n-ERR bad\r\n:42\r\n$3\r\nabc\r\n$-1\r\n$0\r\n\r\n"
                b"*2\r\n$1\r\na\r\n*1\r\n:1\r\n*-1\r\n*0\r\n")
        replies = self.parserType().feed(data)
        self.assertEqual(replies[0], b"OK")
        self.assertIsInstance(replies[1], ReplyError)
        self.assertEqual(str(replies[1]), "ERR bad")
        self.assertEqual(replies[2:], [42, b"abc", None, b"", [b"a", [1]], None, []])

    def test_resp3Types(self):
        """Every RESP3 type Redis 7 sends is decoded, boolean false included."""
        data = (b"_\r\n,1.5\r\n,-inf\r\n#f\r\n#t\r\n%2\r\n+a\r\n:1\r\n$1\r\nb\r\n_\r\n"
                b"~2\r\n:1\r\n:2\r\n(123456789012345678901234567890\r\n=7\r\ntxt:abc\r\n"
                b">2\r\n+message\r\n:1\r\n:7\r\n")
        self.assertEqual(self.parserType().feed(data), [
            None, 1.5, float("-inf"), False, True, {b"a": 1, b"b": None}, [1, 2],
            b"123456789012345678901234567890", b"abc", [b"message", 1], 7])

    def test_replyErrorClass(self):
        """Error replies are made of the class the parser is given."""

        class CustomError(ReplyError):
            pass

        [reply] = self.parserType(CustomError).feed(b"-ERR bad\r\n")
        self.assertIsInstance(reply, CustomError)

    def test_byteByByte(self):
        """Replies split anywhere are put back together."""
        data = b"$5\r\nhe\r\no\r\n*2\r\n:7\r\n$2\r\nxy\r\n"
        parser = self.parserType()
        replies = []
        for i in range(len(data)):
            replies += parser.feed(data[i:i + 1])
        self.assertEqual(replies, [b"he\r\no", [7, b"xy"]])

    def test_garbage(self):
        """Bytes that are not RESP are a ProtocolError."""
        for data in [b"?x\r\n", b":abc\r\n", b"$3\r\nabcde\r\n", b"#x\r\n", b",x\r\n",
                     b"$-2\r\n", b"*-2\r\n", b"=3\r\nabc\r\n", b"%1\r\n*1\r\n:1\r\n:2\r\n"]:
            self.assertRaises(ProtocolError, self.parserType().feed, data)

    def test_deepNesting(self):
        """Arrays nested past any sensible depth are a ProtocolError, not a crash."""
        self.assertRaises(ProtocolError, self.parserType().feed, b"*1\r\n" * 5000 + b":1\r\n")

    def test_fallbackWithoutHiredis(self):
        """Without hiredis, makeReplyParser gives the pure parser."""
        self.patch(replies, "hiredis", None)
        self.assertIsInstance(makeReplyParser(), ReplyParser)

    def test_encode(self):
        """Commands go out as arrays of bulk strings."""
        self.assertEqual(encodeCommand([b"SET", "k", 5]),
                         b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n5\r\n")
        self.assertRaises(TypeError, encodeCommand, [1.5])


class PureReplyErrorTests(SynchronousTestCase):
    """
    The pure reply parser's L{ProtocolError} carries the offending bytes and
    their offset in the stream.
    """

    def test_offset(self):
        """The offset counts the bytes of earlier feeds and replies."""
        parser = ReplyParser()
        parser.feed(b"+OK\r\n:1")
        with self.assertRaises(ProtocolError) as e:
            parser.feed(b"\r\n:x\r\n")
        self.assertEqual((e.exception.data, e.exception.offset), (b":x", 9))

    def test_depthLimit(self):
        """MAX_DEPTH nested arrays are read; one more is refused."""
        depth = MAX_DEPTH - 1
        self.assertEqual(ReplyParser().feed(b"*1\r\n" * depth + b"*0\r\n"),
                         [eval("[" * depth + "[]" + "]" * depth)])
        with self.assertRaises(ProtocolError) as e:
            ReplyParser().feed(b"*1\r\n" * (MAX_DEPTH + 1) + b":1\r\n")
        self.assertEqual(e.exception.offset, 4 * MAX_DEPTH)


class HiredisReplyParserTests(ReplyParserTests):
    """
    The hiredis reader gives what the pure parser gives.
    """

    parserType = HiredisReplyParser
    if hiredis is None:
        skip = "hiredis is not installed"

    def test_chosen(self):
        """makeReplyParser takes hiredis when it is installed."""
        self.assertIsInstance(makeReplyParser(), HiredisReplyParser)

    def test_deepNesting(self):
        """hiredis reads deep nesting itself (it has no recursion to overflow)."""
        self.assertEqual(HiredisReplyParser().feed(b"*1\r\n" * 100 + b"*0\r\n"),
                         [eval("[" * 100 + "[]" + "]" * 100)])


# Values the server's encode() takes, as the reply parsers give them back.
_texts = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
                 max_size=12)
_scalars = st.one_of(
    st.binary(max_size=16), st.integers(min_value=-2**63, max_value=2**63 - 1), st.none(),
    _texts.map(Status), _texts.map(lambda text: ReplyError("ERR " + text)),
    st.floats(allow_nan=False), st.text(max_size=8))
_values = st.recursive(_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.frozensets(st.binary(max_size=6), max_size=3),
    st.dictionaries(st.binary(max_size=6), children, max_size=3)), max_leaves=12)


def decoded(value, resp3):
    """
    What a reply parser gives for C{encode(value, resp3)}, with error
    replies as C{("error", text)} so that they compare equal.
    """
    if isinstance(value, ReplyError):
        return ("error", value.args[0])
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, float) and not resp3:
        return repr(value).encode()
    if isinstance(value, (list, frozenset)):
        return [decoded(item, resp3) for item in value]
    if isinstance(value, dict):
        pairs = [(decoded(k, resp3), decoded(v, resp3)) for k, v in value.items()]
        return dict(pairs) if resp3 else [item for pair in pairs for item in pair]
    return value


def comparable(reply):
    """
    A parsed reply with its error replies as C{("error", text)}.
    """
    if isinstance(reply, ReplyError):
        return ("error", reply.args[0])
    if isinstance(reply, list):
        return [comparable(item) for item in reply]
    if isinstance(reply, dict):
        return {key: comparable(item) for key, item in reply.items()}
    return reply


def feedInPieces(parser, data, step):
    """
    Feed C{data} to C{parser} C{step} bytes at a time; every reply given.
    """
    out = []
    for i in range(0, len(data), step):
        out += parser.feed(data[i:i + step])
    return out


_PARSER_TYPES = [ReplyParser] + ([] if hiredis is None else [HiredisReplyParser])


class ReplyPropertyTests(SynchronousTestCase):
    """
    Encoding then parsing gives the value back, and random bytes never
    break a reply parser, for the pure parser and for C{hiredis} (when it
    is installed).
    """

    @settings(max_examples=500, deadline=None)
    @given(st.sampled_from(_PARSER_TYPES), st.lists(_values, min_size=1, max_size=4),
           st.booleans(), st.integers(min_value=1, max_value=9))
    def test_roundTrip(self, parserType, values, resp3, step):
        """Replies encoded in RESP2 or RESP3, split anywhere, parse back."""
        data = b"".join(encode(value, resp3) for value in values)
        replies = feedInPieces(parserType(), data, step)
        self.assertEqual([comparable(reply) for reply in replies],
                         [decoded(value, resp3) for value in values])

    @settings(max_examples=1000, deadline=None)
    @given(st.sampled_from(_PARSER_TYPES), st.lists(st.one_of(
        st.binary(max_size=24),
        st.sampled_from([b"*2\r\n", b"%1\r\n", b"~1\r\n", b">1\r\n", b"$3\r\n", b"=5\r\n",
                         b"_\r\n", b"#t\r\n", b",1e3\r\n", b"(12\r\n", b":-1\r\n", b"+OK\r\n",
                         b"-ERR x\r\n", b"\r\n", b"*-1\r\n", b"$-1\r\n", b"txt:"])),
        max_size=10), st.integers(min_value=1, max_value=9))
    def test_randomBytes(self, parserType, pieces, step):
        """Any bytes give replies or a ProtocolError, never another exception."""
        try:
            feedInPieces(parserType(), b"".join(pieces), step)
        except ProtocolError as e:
            if parserType is ReplyParser:
                assertShowsStream(self, e, b"".join(pieces))
