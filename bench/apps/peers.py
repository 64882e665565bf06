"""
Serving the peer apps the way C{twistd web} does, without its access log.

C{twistd web} writes an access log line per request to twistd's log, which
costs about as much CPU as the bare request itself; C{twistd web-app} has
no access log unless asked. So the peers run through the C{.tac} files here
(C{twistd -n -y bench/apps/bare.tac}), which build what C{twistd web
--class}/C{--wsgi} builds (a C{Site} on the root resource; for WSGI, a
C{WSGIResource} on a default C{ThreadPool} started with the reactor) with
the access log left out. The port comes from C{BENCH_PORT}.
"""

import os

from twisted.application import service, strports
from twisted.python.threadpool import ThreadPool
from twisted.web.server import Site
from twisted.web.wsgi import WSGIResource


class QuietSite(Site):
    """
    A L{Site} that writes no access log.
    """

    def log(self, request):
        """
        Write nothing.
        """


def peerApplication(root, name="peer"):
    """
    An application serving C{root} on loopback port C{BENCH_PORT}.
    """
    application = service.Application(name)
    endpoint = f"tcp:{int(os.environ['BENCH_PORT'])}:interface=127.0.0.1"
    strports.service(endpoint, QuietSite(root)).setServiceParent(application)
    return application


def wsgiRoot(wsgiApplication):
    """
    A L{WSGIResource} for C{wsgiApplication} on a thread pool, as C{twistd
    web --wsgi} builds it.
    """
    from twisted.internet import reactor

    pool = ThreadPool()
    reactor.callWhenRunning(pool.start)
    reactor.addSystemEventTrigger("after", "shutdown", pool.stop)
    return WSGIResource(reactor, pool, wsgiApplication)
