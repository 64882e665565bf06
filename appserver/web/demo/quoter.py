"""
The demo's quotes over Quote of the Day (C{twistd web-app --qotd-port}): a
quoter that reads them from the database, so a quote added on the web page
is served on the QOTD port too, and the QOTD service serving it.

The framework does not import the C{qotd} example: the service is made by
the installed C{qotd} plugin, found through Twisted's plugin system as
twistd finds it, and given L{DatabaseQuoter} (see L{qotd.tap}), the way any
installed plugin can be composed into another command's tree.
"""

from collections.abc import Iterable
from typing import Any

from twisted.application.service import IService, IServiceMaker
from twisted.internet.defer import Deferred
from twisted.plugin import getPlugins
from zope.interface import Interface, implementer

from appserver.web.demo.store import QuoteStore
from services.db import DatabaseService

__all__ = ["IQuoter", "DatabaseQuoter", "formatQuote", "QOTD_COMMAND", "qotdMaker",
           "qotdService"]

QOTD_COMMAND = "qotd"
"""
The tap name of the plugin serving Quote of the Day.
"""


class IQuoter(Interface):
    """
    What the QOTD plugin asks of a quoter (its own C{IQuoter}, which the
    framework does not import): an object that returns quotes.
    """

    def getQuote():
        """
        Return a quote as a L{str}, or a Deferred firing with one.
        """


def formatQuote(quote: dict[str, Any] | None) -> str:
    """
    A demo quote as one line of text: C{"text — author"}, or the text alone
    when it has no author, or C{""} for no quote at all.
    """
    if quote is None:
        return ""
    if quote["author"]:
        return f"{quote['text']} \N{EM DASH} {quote['author']}"
    return quote["text"]


@implementer(IQuoter)
class DatabaseQuoter:
    """
    Return a random quote of the demo's table, without blocking the reactor:
    L{getQuote} returns a Deferred (the query runs in the database pool).

    Only the database service is kept, so the quoter pickles with the
    service tree and works again once that service has started.

    @ivar db: the L{services.db.DatabaseService} holding the quotes.
    """

    def __init__(self, db: DatabaseService) -> None:
        self.db = db

    def getQuote(self) -> Deferred[str]:
        """
        A Deferred firing with a random quote (see L{formatQuote}), or
        failing if the database cannot be reached.
        """
        return QuoteStore(self.db).random().addCallback(formatQuote)


def qotdMaker() -> Any:
    """
    The installed C{qotd} command's L{IServiceMaker}, found through
    Twisted's plugin system, or L{None} when no plugin provides it or the
    module its drop-in names cannot be imported (a drop-in left behind).
    """
    for maker in getPlugins(IServiceMaker):
        if maker.tapname == QOTD_COMMAND:
            return maker if _loads(maker) else None
    return None


def _loads(maker):
    """
    Whether C{maker}'s options load: a L{ServiceMaker} imports the module
    its drop-in names here, and reports a missing one as an L{ImportError}
    or, through L{twisted.python.reflect.namedAny}, a L{ValueError}.
    """
    try:
        return maker.options is not None
    except (ImportError, ValueError):
        return False


def qotdService(db: DatabaseService, ports: Iterable[str]) -> IService:
    """
    A service named C{qotd} serving the demo's quotes from C{db} on every
    endpoint in C{ports}, made by the installed C{qotd} plugin as a part of
    the calling command's tree.

    The plugin's options read no environment variable or config file of
    their own: the calling command's layers already gave the ports.

    @raise ValueError: if no C{qotd} plugin is installed.
    """
    maker = qotdMaker()
    if maker is None:
        raise ValueError(f"no {QOTD_COMMAND} plugin is installed")
    options = maker.options(quoter=DatabaseQuoter(db))
    options.environ = {}
    options.parseOptions([argument for port in ports for argument in ("--port", port)])
    return maker.makeService(options)
