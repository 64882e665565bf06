# The minimal WSGI app as twistd web --wsgi serves it:
# twistd -n -y bench/apps/wsgi.tac (see peers.py).
from peers import peerApplication, wsgiRoot
from wsgihello import application as wsgiApplication

application = peerApplication(wsgiRoot(wsgiApplication), "wsgi")
