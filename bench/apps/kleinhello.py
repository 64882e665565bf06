"""
Klein's hello world, the Klein peer, served by klein.tac.
"""

from klein import Klein

app = Klein()


@app.route("/hello")
def hello(request):
    """
    The hello world route.
    """
    return "Hello, world!"

