"""
Quote of the Day: the modern TwistedQuotes, a model tap plugin.

- L{qotd.quoters}: the business object (no Twisted imports),
- L{qotd.protocol}: the RFC 865 protocol and its factory,
- L{qotd.tap}: the C{twistd qotd} command (C{Options} and C{makeService}).
"""
