"""
The bare twisted.web peer: a leaf resource returning a fixed body.

Served by bare.tac, or as C{twistd web --class bare.Hello} with this folder
on the path.
"""

from twisted.web.resource import Resource

BODY = b"Hello, world!"


class Hello(Resource):
    """
    A leaf resource answering every GET with L{BODY}.
    """

    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return BODY
