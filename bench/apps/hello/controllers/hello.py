"""
The web-app benchmark controller: the issue's hello world and a JSON route.
"""

from appserver.web import Controller, route


class Hello(Controller):
    """
    C{/hello} as text and C{/json} as a small JSON object.
    """

    @route("/hello")
    def hello(self, request):
        return "Hello, world!"

    @route("/json")
    def json(self, request):
        return {"message": "Hello, world!"}
