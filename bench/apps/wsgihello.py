"""
A minimal WSGI application, served both the way C{twistd web --wsgi
wsgihello.application} serves it (wsgi.tac) and by C{twistd web-app --wsgi
wsgihello:application}.
"""

BODY = b"Hello, world!"
HEADERS = [("Content-Type", "text/plain; charset=utf-8"),
           ("Content-Length", str(len(BODY)))]


def application(environ, startResponse):
    """
    Answer every request with L{BODY}.
    """
    startResponse("200 OK", HEADERS)
    return [BODY]
