"""
The quotes demo: an HTML page with a form, and a JSON API, over the quotes
of the app's database (C{self.db}).

The form is protected against cross-site request forgery by a token
(L{appserver.sessions.csrf}): signed and kept in a cookie for a visitor
without a session, so that anonymous page views store nothing, and kept in
the session once there is one (the form's flash message makes one). The
JSON API needs no token: it accepts only requests with
C{Content-Type: application/json}, which a plain HTML form on another site
cannot send (forms send only urlencoded, multipart or plain text bodies),
and a cross-site script that sets that type needs a CORS preflight, which
this app never grants.
"""

import random
from typing import Any

from twisted.web.server import Request

from appserver.sessions import checkCsrfToken, csrfToken, getSession, tokenFromRequest
from appserver.web import (
    BadRequest, Controller, Created, Forbidden, NoContent, NotFound, SeeOther,
    ServiceUnavailable, formField, jsonBody, route,
)
from appserver.web.demo.store import QuoteStore

MAX_LENGTH = 1000
FLASH = "demo.flash"
EMPTY = "No quotes yet: add the first one below."


def validQuote(text: object, author: object) -> tuple[str, str]:
    """
    Clean up a submitted quote: its text and author (the author may be
    missing or empty).

    @raise ValueError: saying what is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("A quote needs a non-empty 'text'.")
    if author is not None and not isinstance(author, str):
        raise ValueError("'author' must be a string.")
    text, author = text.strip(), (author or "").strip()
    if len(text) > MAX_LENGTH or len(author) > MAX_LENGTH:
        raise ValueError(f"Quotes and authors are at most {MAX_LENGTH} characters.")
    return text, author


def mediaType(request: Request) -> str:
    """
    The media type of the request's body, lowercased, without parameters.
    """
    header = request.getHeader(b"content-type") or b""
    return header.split(b";")[0].strip().lower().decode("latin-1")


def quoteFromJSON(request: Request) -> tuple[str, str]:
    """
    The quote a JSON API request sends, as C{(text, author)}.

    @raise BadRequest: with a JSON C{{"error": ...}} body, for another
        content type, a malformed body or a bad quote.
    """
    if mediaType(request) != "application/json":
        raise BadRequest({"error": "Send the quote with Content-Type: application/json."})
    try:
        data = jsonBody(request)
    except BadRequest as e:
        raise BadRequest({"error": e.body}) from None
    if not isinstance(data, dict):
        raise BadRequest({"error": "Send a JSON object with 'text' and 'author'."})
    try:
        return validQuote(data.get("text"), data.get("author"))
    except ValueError as e:
        raise BadRequest({"error": str(e)}) from None


class Quotes(Controller):
    """
    The home page, the form that adds a quote, and the JSON API.

    @ivar db: the app's database (a L{services.db.DatabaseService}),
        given by the web-app service tree; the demo's migration made its
        table.
    """

    db = None

    def store(self) -> QuoteStore:
        """
        The L{QuoteStore} over C{self.db}.

        @raise ServiceUnavailable: when the app was loaded without a database.
        """
        if self.db is None:
            raise ServiceUnavailable("The quotes demo has no database.")
        return QuoteStore(self.db)

    @route("/")
    async def home(self, request: Request) -> Any:
        quotes = await self.store().list()
        session = await getSession(request)
        return self.template(
            "home.xml",
            featured=random.choice(quotes) if quotes else None,
            empty=None if quotes else EMPTY,
            quotes=quotes,
            count=len(quotes),
            flash=session.pop(FLASH, None),
            csrf=csrfToken(request, session),
        )

    @route("/quotes", methods=["POST"])
    async def addFromForm(self, request: Request) -> Any:
        session = await getSession(request)
        if not checkCsrfToken(request, session, tokenFromRequest(request)):
            raise Forbidden("This form has expired or came from another site; "
                            "reload the page and try again.")
        try:
            text, author = validQuote(formField(request, "text"), formField(request, "author"))
        except ValueError as e:
            session[FLASH] = str(e)
        else:
            await self.store().add(text, author)
            session[FLASH] = "Quote added."
        return SeeOther("/")

    @route("/api/quotes")
    async def listQuotes(self, request: Request) -> Any:
        return await self.store().list()

    @route("/api/quotes", methods=["POST"])
    async def addQuote(self, request: Request) -> Any:
        text, author = quoteFromJSON(request)
        quoteId = await self.store().add(text, author)
        return Created({"id": quoteId, "text": text, "author": author},
                       location=f"/api/quotes/{quoteId}")

    @route("/api/quotes/<int:quoteId>")
    async def getQuote(self, request: Request, quoteId: int) -> Any:
        quote = await self.store().get(quoteId)
        if quote is None:
            raise NotFound({"error": f"No quote {quoteId}."})
        return quote

    @route("/api/quotes/<int:quoteId>", methods=["DELETE"])
    async def deleteQuote(self, request: Request, quoteId: int) -> Any:
        if not await self.store().delete(quoteId):
            raise NotFound({"error": f"No quote {quoteId}."})
        return NoContent()
