"""
The quotes demo: HTML pages and a JSON API over one L{QuoteStore}.
"""

from appserver.web import (
    BadRequest, Controller, Created, NoContent, NotFound, SeeOther, formField, jsonBody,
    route,
)
from appserver.web.demo.store import QuoteStore

MAX_LENGTH = 1000


def validQuote(text, author):
    """
    Clean up a submitted quote, or raise L{BadRequest} saying what is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise BadRequest({"error": "A quote needs a non-empty 'text'."})
    if author is not None and not isinstance(author, str):
        raise BadRequest({"error": "'author' must be a string."})
    text, author = text.strip(), (author or "").strip() or "Anonymous"
    if len(text) > MAX_LENGTH or len(author) > MAX_LENGTH:
        raise BadRequest({"error": f"Quotes and authors are at most {MAX_LENGTH} characters."})
    return text, author


class Quotes(Controller):
    """
    The home page and the form that adds a quote.
    """

    def __init__(self):
        self.quotes = QuoteStore()

    @route("/")
    async def home(self, request):
        quote = await self.quotes.random()
        quotes = await self.quotes.all()
        return self.template(
            "home.xml",
            text=quote["text"] if quote else "No quotes yet.",
            author=quote["author"] if quote else "",
            quotes=quotes,
            count=len(quotes),
        )

    @route("/quotes", methods=["POST"])
    async def addFromForm(self, request):
        text, author = validQuote(formField(request, "text"), formField(request, "author"))
        await self.quotes.add(text, author)
        return SeeOther("/")

    @route("/api/quotes")
    async def listQuotes(self, request):
        return await self.quotes.all()

    @route("/api/quotes", methods=["POST"])
    async def addQuote(self, request):
        data = jsonBody(request)
        if not isinstance(data, dict):
            raise BadRequest({"error": "Send a JSON object with 'text' and 'author'."})
        text, author = validQuote(data.get("text"), data.get("author"))
        quote = await self.quotes.add(text, author)
        return Created(quote, location=f"/api/quotes/{quote['id']}")

    @route("/api/quotes/<int:quoteId>")
    async def getQuote(self, request, quoteId):
        quote = await self.quotes.get(quoteId)
        if quote is None:
            raise NotFound({"error": f"No quote {quoteId}."})
        return quote

    @route("/api/quotes/<int:quoteId>", methods=["DELETE"])
    async def deleteQuote(self, request, quoteId):
        if not await self.quotes.delete(quoteId):
            raise NotFound({"error": f"No quote {quoteId}."})
        return NoContent()
