"""
C{twistd qotd}: serve quotes from the command line.

Like every tap module, this one exposes C{Options} (what the user can type)
and C{makeService} (which assembles services from the options without
binding or starting anything). The command's root is a L{CommandService},
so that a start that fails (a port in use) ends twistd with one sentence.

Another command may compose this plugin into its own tree, finding it the
way twistd does (C{getPlugins(IServiceMaker)}, tap name C{qotd}) rather than
importing it: it makes the options with its own quoter, C{Options(quoter=
...)}, parses C{--port} with them and calls C{makeService}, which then makes
a part of that command's tree rather than a root. C{twistd web-app
--qotd-port} serves its demo's quotes so.
"""

from appserver.config import LayeredOptions
from appserver.errors import CommandService
from qotd.protocol import QOTDFactory
from qotd.quoters import FortuneQuoter, StaticQuoter
from services.persistence import PersistentMultiService
from services.ports import ListeningService, parsePort
from twisted.python import usage

__all__ = ["Options", "makeService", "makeQOTDService"]

DEFAULT_QUOTE = "An apple a day keeps the doctor away."


class Options(LayeredOptions):
    """
    Options of C{twistd qotd}.
    """

    command = "qotd"
    synopsis = "[options]"
    longdesc = (
        "Serve a Quote of the Day (RFC 865): each connection gets one quote. "
        "With --file, a random quote from the fortune files; otherwise the "
        "--static quote."
    )
    optRepeatable = [
        ["port", "p", ["8007"], "Port number or endpoint description to listen on.",
         parsePort],
        ["file", "f", [], "A fortune-format file of quotes."],
    ]
    optParameters = [
        ["static", "s", DEFAULT_QUOTE, "The quote to serve when no --file is given."],
    ]

    def __init__(self, quoter=None):
        """
        @param quoter: an L{qotd.quoters.IQuoter} (any object with its
            C{getQuote}) to serve instead of C{--file} or C{--static}: how a
            command that composes this plugin gives its own quotes (see the
            module docstring). L{None} for C{twistd qotd} itself.
        """
        LayeredOptions.__init__(self)
        self.givenQuoter = quoter

    def postOptions(self):
        """
        Check that every fortune file can be read and that they hold quotes.
        """
        if self["file"]:
            quoter = FortuneQuoter(self["file"])
            try:
                quotes = quoter.load()
            except OSError as e:
                raise usage.UsageError(
                    f"Cannot read quote file {e.filename}: {e.strerror}."
                ) from None
            if not quotes:
                raise usage.UsageError(
                    f"The quote files {', '.join(self['file'])} hold no quotes."
                )

    def quoter(self):
        """
        The quoter these options describe: the one given, else the fortune
        files', else the static quote.
        """
        if self.givenQuoter is not None:
            return self.givenQuoter
        if self["file"]:
            return FortuneQuoter(self["file"])
        return StaticQuoter(self["static"])


def makeQOTDService(quoter, ports, kind=PersistentMultiService):
    """
    A service named C{qotd} serving C{quoter} on every endpoint in C{ports}.

    @param kind: the multi-service class to make it of; a command's root is
        a L{CommandService}, a part of another command's tree is not.
    """
    qotd = kind()
    qotd.setName("qotd")
    factory = QOTDFactory(quoter)
    for description in ports:
        ListeningService(description, factory).setServiceParent(qotd)
    return qotd


def makeService(options):
    """
    Assemble the QOTD service tree from parsed L{Options}: the root of
    C{twistd qotd}, or, for options given another command's quoter, a part
    of that command's tree.
    """
    kind = CommandService if options.givenQuoter is None else PersistentMultiService
    return makeQOTDService(options.quoter(), options["port"], kind)
