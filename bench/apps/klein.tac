# Klein's hello world: twistd -n -y bench/apps/klein.tac (see peers.py).
from kleinhello import app
from peers import peerApplication

application = peerApplication(app.resource(), "klein")
