"""
Klein's hello world, the Klein peer.

Served as C{twistd web --class kleinhello.Root} with this folder on the
path, so it runs in the same twisted.web Site as the bare peer.
"""

from klein import Klein
from klein.resource import KleinResource

app = Klein()


@app.route("/hello")
def hello(request):
    """
    The hello world route.
    """
    return "Hello, world!"


class Root(KleinResource):
    """
    The Klein app's resource, constructible without arguments for
    C{twistd web --class}.
    """

    def __init__(self):
        super().__init__(app)
