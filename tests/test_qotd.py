"""
Tests for the QOTD example: quoters, fortune files, protocol, tap module.
"""

import os

from twisted.internet import defer
from twisted.internet.testing import MemoryReactor, StringTransport
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from qotd import quoters
from qotd.protocol import MAX_QUOTE_LENGTH, QOTDFactory
from qotd.quoters import FortuneQuoter, IQuoter, StaticQuoter, parseFortunes
from qotd.tap import DEFAULT_QUOTE, Options, makeService
from services.ports import ListeningService
from tests.support import assertPersists, parseOptions, tempDir


class FortuneParsingTests(SynchronousTestCase):
    """
    Fortune files: quotes separated by a line holding only C{%}.
    """

    def test_empty(self):
        """An empty file holds no quotes."""
        self.assertEqual(parseFortunes(b""), [])

    def test_noSeparator(self):
        """A file without C{%} is one quote."""
        self.assertEqual(parseFortunes(b"One.\nTwo lines.\n"), ["One.\nTwo lines."])

    def test_separators(self):
        """Quotes are split on C{%} lines, and a trailing C{%} adds nothing."""
        self.assertEqual(parseFortunes(b"a\n%\nb\nc\n%\n"), ["a", "b\nc"])

    def test_percentInsideLine(self):
        """A C{%} that is not alone on its line is part of the quote."""
        self.assertEqual(parseFortunes(b"100% sure\n%\n"), ["100% sure"])

    def test_crlf(self):
        """CRLF files split the same way."""
        self.assertEqual(parseFortunes(b"a\r\n%\r\nb\r\n"), ["a", "b"])

    def test_notUTF8(self):
        """Bytes that are not UTF-8 are replaced, not fatal."""
        self.assertEqual(parseFortunes(b"caf\xe9\n%\n"), ["caf\ufffd"])

    def test_businessObjectFreeOfTwisted(self):
        """The quoters module imports nothing from Twisted."""
        with open(quoters.__file__) as f:
            self.assertNotIn("twisted", f.read().split('"""', 2)[2])


class QuoterTests(SynchronousTestCase):
    """
    L{StaticQuoter} and L{FortuneQuoter} provide L{IQuoter}.
    """

    def test_static(self):
        """A static quoter always returns its quote."""
        quoter = StaticQuoter("Hi")
        self.assertTrue(verifyObject(IQuoter, quoter))
        self.assertEqual(quoter.getQuote(), "Hi")

    def test_fortuneSeveralFiles(self):
        """A fortune quoter picks among the quotes of all its files."""
        directory = tempDir(self)
        names = []
        for number, body in enumerate([b"a\n%\nb\n", b"c\n"]):
            names.append(os.path.join(directory, f"{number}.txt"))
            with open(names[-1], "wb") as f:
                f.write(body)
        quoter = FortuneQuoter(names, choice=lambda quotes: quotes[-1])
        self.assertTrue(verifyObject(IQuoter, quoter))
        self.assertEqual(quoter.getQuote(), "c")
        self.assertEqual(sorted(quoter.load()), ["a", "b", "c"])

    def test_fortunePicklesFileNamesOnly(self):
        """A pickled fortune quoter keeps its file names, not the quotes."""
        quoter = FortuneQuoter(["x.txt"])
        quoter._quotes = ["cached"]
        self.assertEqual(quoter.__getstate__(), {"filenames": ["x.txt"]})


class SlowQuoter:
    def __init__(self):
        self.pending = defer.Deferred()

    def getQuote(self):
        return self.pending


class FailingQuoter:
    def __init__(self):
        self.calls = 0

    def getQuote(self):
        self.calls += 1
        raise RuntimeError("no quotes today")


class ProtocolTests(SynchronousTestCase):
    """
    The QOTD protocol writes one quote and CRLF, then closes.
    """

    def connect(self, quoter):
        protocol = QOTDFactory(quoter).buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        return transport

    def test_quoteAndClose(self):
        """On connection the quote is written with CRLF, then the connection closes."""
        transport = self.connect(StaticQuoter("Carpe diem."))
        self.assertEqual(transport.value(), b"Carpe diem.\r\n")
        self.assertTrue(transport.disconnecting)

    def test_utf8(self):
        """Quotes are sent as UTF-8."""
        self.assertEqual(self.connect(StaticQuoter("Ça va")).value(), "Ça va\r\n".encode())

    def test_longQuoteIsCut(self):
        """A quote longer than RFC 865's 512 characters is cut to 512."""
        transport = self.connect(StaticQuoter("x" * 600))
        self.assertEqual(transport.value(), b"x" * MAX_QUOTE_LENGTH + b"\r\n")

    def test_deferredQuote(self):
        """A quoter may return a Deferred; the connection waits for it."""
        quoter = SlowQuoter()
        transport = self.connect(quoter)
        self.assertEqual(transport.value(), b"")
        self.assertFalse(transport.disconnecting)
        quoter.pending.callback("Later.")
        self.assertEqual(transport.value(), b"Later.\r\n")
        self.assertTrue(transport.disconnecting)

    def test_failingQuoter(self):
        """A failing quoter is logged and the connection closed, nothing sent."""
        transport = self.connect(FailingQuoter())
        self.assertEqual(transport.value(), b"")
        self.assertTrue(transport.disconnecting)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


class OptionsTests(SynchronousTestCase):
    """
    C{twistd qotd} options, as in the original TwistedQuotes.
    """

    def parse(self, *argv):
        return parseOptions(Options, argv)

    def fortuneFile(self, body):
        path = os.path.join(tempDir(self), "quotes.txt")
        with open(path, "wb") as f:
            f.write(body)
        return path

    def test_defaults(self):
        """Port 8007 and the apple quote by default."""
        options = self.parse()
        self.assertEqual(options["port"], ["tcp:8007"])
        self.assertEqual(options["static"], DEFAULT_QUOTE)
        self.assertEqual(options.quoter().getQuote(), DEFAULT_QUOTE)

    def test_shortOptions(self):
        """-p, -s and -f work like their long forms; -f repeats."""
        one, two = self.fortuneFile(b"one\n"), self.fortuneFile(b"two\n")
        options = self.parse("-p", "9000", "-s", "Hi", "-f", one, "-f", two)
        self.assertEqual(options["port"], ["tcp:9000"])
        self.assertEqual(options["static"], "Hi")
        self.assertEqual(options["file"], [one, two])
        self.assertIsInstance(options.quoter(), FortuneQuoter)

    def test_missingFile(self):
        """A missing quote file is a usage error naming it."""
        path = os.path.join(tempDir(self), "nope.txt")
        error = self.assertRaises(usage.UsageError, self.parse, "--file", path)
        self.assertIn(path, str(error))

    def test_emptyFile(self):
        """Quote files without any quote are refused."""
        path = self.fortuneFile(b"%\n%\n")
        error = self.assertRaises(usage.UsageError, self.parse, "--file", path)
        self.assertIn("no quotes", str(error))

    def test_badPort(self):
        """A bad port is a usage error naming the value."""
        error = self.assertRaises(usage.UsageError, self.parse, "--port", "http:80")
        self.assertIn("http:80", str(error))


class MakeServiceTests(SynchronousTestCase):
    """
    L{makeService} assembles a named tree and binds nothing.
    """

    def test_tree(self):
        """One listening service per port under a service named qotd."""
        options = parseOptions(Options, ["-p", "9001", "-p", "unix:/tmp/q.sock", "-s", "Hi"])
        tree = makeService(options)
        self.assertEqual(tree.name, "qotd")
        children = list(tree)
        self.assertEqual([c.description for c in children], ["tcp:9001", "unix:/tmp/q.sock"])
        for child in children:
            self.assertIsInstance(child, ListeningService)
            self.assertIsNone(child.port)
            self.assertEqual(child.factory.quoter.getQuote(), "Hi")

    def test_startsOnMemoryReactor(self):
        """Started with a reactor, each child listens on its port."""
        options = parseOptions(Options, ["-p", "9001"])
        tree = makeService(options)
        reactor = MemoryReactor()
        for child in tree:
            child._reactor = reactor
        tree.privilegedStartService()
        tree.startService()
        self.assertEqual([entry[0] for entry in reactor.tcpServers], [9001])

    def test_persists(self):
        """The tree survives pickle and AOT source round trips."""
        options = parseOptions(Options, ["-p", "9001", "-s", "Saved"])

        def check(restored):
            child = list(restored)[0]
            self.assertEqual(child.description, "tcp:9001")
            self.assertEqual(child.factory.quoter.getQuote(), "Saved")

        assertPersists(self, makeService(options), check)
