"""
twistd drop-in for appserver: declarations only, nothing heavy is imported.
"""

from twisted.application.service import ServiceMaker

qotd = ServiceMaker(
    "Quote of the Day",
    "qotd.tap",
    "A Quote of the Day server (RFC 865), the modern TwistedQuotes.",
    "qotd",
)

sessionServer = ServiceMaker(
    "Session server",
    "appserver.tap.sessionserver",
    "A session server speaking the Redis protocol (and Albatross's), durable and bounded.",
    "session-server",
)

webApp = ServiceMaker(
    "Web application server",
    "appserver.tap.webapp",
    "Serve a web application: controllers, templates, static files, WSGI; or the demo.",
    "web-app",
)
