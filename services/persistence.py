"""
The persistence contract every service of ours keeps.

twistd saves whole applications: C{twistd -f x.tap} pickles the tree at
shutdown, C{twistd -s x.tas} writes it as AOT source. Configuration is state;
reactors, ports, threads and file descriptors are volatile and left out.

Twisted's AOT writer remembers objects by C{id()} without keeping them alive.
A C{__getstate__} that returns a fresh dict would let that dict be freed while
the writer is still running, its id reused by the next fresh dict, and a
false back-reference written. L{PersistentService} therefore keeps the last
state it handed out alive for as long as the service itself lives.

A second trap: on Python 3.11+, an object whose C{__dict__} is empty has a
state of L{None}, which the AOT reader cannot load back. Give every object in
a service tree (factories included) at least one attribute.

Saved applications hold configuration and session data (secrets, the
memory store's sessions), so their files are private: L{createPrivately}
opens any such file with mode 0600 whatever the umask.
"""

import os
import weakref

from twisted.application import service

__all__ = ["keepAlive", "PersistentService", "PersistentMultiService", "createPrivately"]

_handedOut = weakref.WeakKeyDictionary()


def keepAlive(owner, state):
    """
    Keep C{state} alive as long as C{owner}, and return it.

    Use it in every C{__getstate__} that builds a new dict.
    """
    _handedOut[owner] = state
    return state


class PersistentService(service.Service):
    """
    A service whose pickled state leaves out its volatile attributes.

    @cvar _volatile: names of attributes made at run time (reactor, ports,
        pools), never pickled; C{__setstate__} of a subclass recreates them.
    """

    _volatile = ()

    def __getstate__(self):
        state = service.Service.__getstate__(self)
        for name in self._volatile:
            state.pop(name, None)
        return keepAlive(self, state)


class PersistentMultiService(service.MultiService):
    """
    A L{service.MultiService} that is safe to write as AOT source.
    """

    def __getstate__(self):
        return keepAlive(self, service.MultiService.__getstate__(self))


def createPrivately(path):
    """
    Open a new file at C{path} for writing bytes, with mode 0600 whatever
    the umask. Whatever was at C{path} (a stale file, a link) is removed
    first, never written through.
    """
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")

