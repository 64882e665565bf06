# The bare twisted.web peer: twistd -n -y bench/apps/bare.tac (see peers.py).
from bare import Hello
from peers import peerApplication

application = peerApplication(Hello(), "bare")
