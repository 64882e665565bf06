"""
The persistence contract every service of ours keeps.

twistd saves whole applications: C{twistd -f x.tap} pickles the tree at
shutdown, C{twistd -s x.tas} writes it as AOT source. Configuration is state;
reactors, ports, threads and file descriptors are volatile and left out.

L{PersistentObject} says this once for every class of ours: a subclass lists
the attributes it makes at run time in C{_volatile} and makes them in
C{_volatileInit} (called by its constructor, and again when it is loaded),
and finds the reactor with C{_getReactor()}: the one given to its
constructor (a L{task.Clock} or L{MemoryReactor} in tests), else the global
reactor, imported on first use and never pickled. L{PersistentService} and
L{PersistentMultiService} are the same for services.

Twisted's AOT writer remembers objects by C{id()} without keeping them alive.
A C{__getstate__} that returns a fresh dict would let that dict be freed while
the writer is still running, its id reused by the next fresh dict, and a
false back-reference written. L{PersistentObject} therefore keeps the last
state it handed out alive for as long as the object itself lives (see
L{keepAlive}, for a C{__getstate__} of another kind).

A second trap: on Python 3.11+, an object whose C{__dict__} is empty has a
state of L{None}, which the AOT reader cannot load back. Give every object in
a service tree (factories included) at least one attribute.

Saved applications hold configuration and session data (secrets, the
memory store's sessions), so their files are private: L{createPrivately}
opens any such file with mode 0600 whatever the umask.
"""

import os
import weakref
from typing import Any, BinaryIO, ClassVar, TypeVar

from twisted.application import service

__all__ = [
    "keepAlive", "PersistentObject", "PersistentService", "PersistentMultiService",
    "createPrivately",
]

_State = TypeVar("_State")

_handedOut: "weakref.WeakKeyDictionary[object, Any]" = weakref.WeakKeyDictionary()


def keepAlive(owner: object, state: _State) -> _State:
    """
    Keep C{state} alive as long as C{owner}, and return it.

    Use it in every C{__getstate__} that builds a new dict.
    """
    _handedOut[owner] = state
    return state


class PersistentObject:
    """
    An object whose pickle holds its configuration, not what it makes at
    run time; see the module docstring.

    @cvar _volatile: the names of the attributes made at run time (ports,
        pools, timers, connections): never pickled, L{None} after loading
        until C{_volatileInit} or first use makes them again.
    @ivar _reactor: the reactor (or clock) given to the constructor, else
        L{None} until L{_getReactor} looks the global one up; never pickled.
    """

    _volatile: ClassVar[tuple[str, ...]] = ()
    _reactor: Any = None

    def __getstate__(self) -> dict[str, Any]:
        """
        The state to pickle: the attributes less C{_reactor} and the
        C{_volatile} ones, kept alive with this object (see L{keepAlive}).
        """
        inherited = getattr(super(), "__getstate__", None)
        state = inherited() if inherited is not None else None
        state = dict(vars(self) if state is None else state)
        for name in ("_reactor",) + tuple(self._volatile):
            state.pop(name, None)
        return keepAlive(self, state)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """
        Load C{state}, then make the run-time attributes again.
        """
        self.__dict__.update(state)
        self._volatileInit()

    def _volatileInit(self) -> None:
        """
        Make the run-time attributes of a new or just loaded object: every
        C{_volatile} one is L{None}; a subclass that starts some at another
        value sets them after calling this.
        """
        for name in self._volatile:
            setattr(self, name, None)

    def _getReactor(self) -> Any:
        """
        The reactor given to the constructor, else the global reactor,
        imported now (never when this module is).
        """
        if self._reactor is None:
            from twisted.internet import reactor

            self._reactor = reactor
        return self._reactor


class PersistentService(PersistentObject, service.Service):
    """
    A L{PersistentObject} that is a L{service.Service}.
    """


class PersistentMultiService(PersistentObject, service.MultiService):
    """
    A L{PersistentObject} that is a L{service.MultiService}.
    """


def createPrivately(path: str) -> BinaryIO:
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

