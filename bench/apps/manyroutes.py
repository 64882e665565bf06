"""
Generated web-app apps with many routes, for C{twistd web-app --app
manyroutes:routes1000} against C{manyroutes:routes10}.

Each app has C{count} controllers-worth of routes in one controller:
C{/section<N>/items} and C{/section<N>/items/<int:item>}, so half of the
patterns take a typed parameter, as a real application's do. The benchmark
requests C{/section<count - 1>/items/42}, a route registered near the end,
which a router that scans its routes in order reaches last.
"""

from appserver.web import Controller, route


def _handlers(section):
    def listItems(self, request):
        return {"section": section, "items": []}

    def showItem(self, request, item):
        return {"section": section, "item": item}

    return (route(f"/section{section}/items")(listItems),
            route(f"/section{section}/items/<int:item>")(showItem))


def makeController(count):
    """
    A controller class with C{count} routes (C{count} even).
    """
    methods = {}
    for section in range(count // 2):
        methods[f"list{section}"], methods[f"show{section}"] = _handlers(section)
    return type(f"Routes{count}", (Controller,), methods)


def lastPath(count):
    """
    The path the benchmark requests in the app with C{count} routes.
    """
    return f"/section{count // 2 - 1}/items/42"


routes10 = makeController(10)
routes1000 = makeController(1000)
