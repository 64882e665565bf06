"""
The C{sessions} service of a web-app tree: it owns the session store and
loads the cookie secrets when it starts.

L{SessionsService} takes the store and the manager it runs;
L{makeSessionsService} is the wiring a tap calls: it makes the store a
C{--sessions} spec names, the manager over it and, for C{--session-port},
the listener serving the memory store over the session server's protocol.
"""

import os
from collections.abc import Iterable
from typing import Any

from twisted.logger import Logger
from zope.interface import implementer

from appserver.sessions.manager import (
    DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, SessionManager, SessionStoreUnavailable,
)
from appserver.sessions.signing import Signer, loadOrCreateSecret, readSecretFile
from appserver.sessions.stores import MemorySessionStore, RedisSessionStore, storeFromSpec
from services.errors import StartupError
from services.figures import IServiceFigures
from services.persistence import PersistentMultiService
from services.ports import ListeningService
from services.sessionserver.commands import Server
from services.sessionserver.protocol import RedisFactory

__all__ = ["SessionsService", "makeSessionsService", "storeListener", "DEFAULT_SECRET_PATH"]

DEFAULT_SECRET_PATH = ".appserver-secret"


@implementer(IServiceFigures)
class SessionsService(PersistentMultiService):
    """
    Own a session store and the L{SessionManager} over it; picklable. See
    L{makeSessionsService} for making both from a spec.

    The store is opened when the service starts (a file store makes its
    directory, a Redis store connects) and closed when it stops. Secrets
    are loaded at start too, so that a secret file replaced between runs
    takes effect and a C{.tap} holds no secret read from a file: first the
    C{secrets} values, then the C{secretFiles}, signing with the first;
    with none at all, the installation's generated secret at C{secretPath}
    (made on first use, mode 0600).

    With the memory store, the store's contents pickle with the service,
    so sessions survive a C{twistd -f} run's shutdown file; its children
    (such as a L{storeListener}) start and stop with it, after the store
    opens and before it closes.

    @ivar spec: the C{--sessions} spec the store was made from.
    @ivar store: the L{ISessionStore}.
    @ivar manager: the L{SessionManager} to attach to requests.
    @ivar signing: whether cookies are signed here; a service that only
        serves its store on C{port} (no app reads a cookie) loads and
        generates no secret.
    """

    log = Logger()
    signing = True

    def __init__(self, store: Any, manager: SessionManager, spec: str = "memory",
                 secrets: Iterable[str] = (), secretFiles: Iterable[str] = (),
                 secretPath: str = DEFAULT_SECRET_PATH, signing: bool = True) -> None:
        PersistentMultiService.__init__(self)
        self.setName("sessions")
        self.spec = spec
        self.signing = signing
        self.secrets = list(secrets)
        self.secretFiles = [os.path.abspath(path) for path in secretFiles]
        self.secretPath = os.path.abspath(secretPath)
        self.store = store
        self.manager = manager

    def loadSecrets(self) -> list[bytes]:
        """
        The secrets to sign with, newest first, as bytes.

        @raise ValueError: with one sentence, if a secret file cannot be
            read or the generated secret cannot be made.
        """
        loaded = [s.encode("utf-8") for s in self.secrets]
        loaded += [readSecretFile(path) for path in self.secretFiles]
        if loaded:
            return loaded
        secret, created = loadOrCreateSecret(self.secretPath)
        if created:
            self.log.info("Generated a session secret at {path}", path=self.secretPath)
        else:
            self.log.info("Using the generated session secret at {path}", path=self.secretPath)
        return [secret]

    def privilegedStartService(self) -> None:
        """
        Load the secrets (when signing) before C{twistd --uid} drops root:
        a secret file may be readable by root only, and the generated
        secret made where only root can write.
        """
        if self.signing:
            self.manager.signer = Signer(self.loadSecrets())
        PersistentMultiService.privilegedStartService(self)

    def startService(self) -> None:
        """
        Load the secrets (when signing) unless L{privilegedStartService}
        did, open the store, then start serving it if asked.
        """
        if self.signing and self.manager.signer is None:
            self.manager.signer = Signer(self.loadSecrets())
        self._checkStore()
        self.store.open()
        PersistentMultiService.startService(self)

    def _checkStore(self):
        """
        Check that a Redis store can be used, blocking (the reactor is not
        serving yet), so that an unreachable server, a wrong password or
        database stops the start in one sentence rather than failing every
        request.

        @raise StartupError: saying what is wrong.
        """
        if isinstance(self.store, RedisSessionStore):
            try:
                self.store.checkNow()
            except SessionStoreUnavailable as e:
                raise StartupError(str(e)) from None

    def stopService(self) -> Any:
        """
        Stop serving the store, then close it.
        """
        d = PersistentMultiService.stopService(self)
        return d.addCallback(lambda _: self.store.close())

    def figures(self):
        """
        The store's spec and what the store reports (see
        L{MemorySessionStore.figures}; C{sessions} is L{None} for a store
        that reports nothing).
        """
        store = IServiceFigures(self.store, None)
        figures = dict(store.figures()) if store is not None else {"sessions": None}
        figures["store"] = self.spec
        return figures


def storeListener(store: MemorySessionStore, port: str, password: bytes | None = None,
                  reactor: Any = None) -> ListeningService:
    """
    A service serving the memory C{store} over the session server's
    protocol (RESP) on C{port}, so that other processes share its sessions
    with C{--sessions redis://...}; it should listen on loopback or a
    private network only.

    @param password: the password clients must give (L{str} or bytes), or
        L{None}.
    @raise ValueError: if C{store} is not a L{MemorySessionStore}.
    """
    if not isinstance(store, MemorySessionStore):
        raise ValueError("a session port serves the memory store only (use --sessions memory)")
    if isinstance(password, str):
        password = password.encode("utf-8")
    return ListeningService(port, RedisFactory(Server(store.store, password)), reactor)


def makeSessionsService(spec="memory", secrets=(), secretFiles=(),
                        secretPath=DEFAULT_SECRET_PATH, idleTimeout=DEFAULT_IDLE_TIMEOUT,
                        absoluteTimeout=DEFAULT_ABSOLUTE_TIMEOUT, cookieName="sid",
                        cookieMaxAge=None, port=None, portPassword=None, reactor=None,
                        signing=True, maxMemory=0, maxPerUser=0):
    """
    A L{SessionsService} over the store C{spec} names (see
    L{storeFromSpec}; C{maxMemory} bounds the memory store, which then
    evicts the least recently used sessions, and other stores ignore it),
    with a L{SessionManager} of these timeouts and cookie settings and,
    when C{port} is given, a L{storeListener} requiring C{portPassword};
    C{maxPerUser} (0: no limit) bounds each user's concurrent sessions.
    Nothing is opened or bound here.

    @raise ValueError: if C{port} is given for a store other than memory.
    """
    store = storeFromSpec(spec, clock=reactor, reactor=reactor, maxMemory=maxMemory)
    manager = SessionManager(store, idleTimeout=idleTimeout, absoluteTimeout=absoluteTimeout,
                             cookieName=cookieName, cookieMaxAge=cookieMaxAge, clock=reactor,
                             maxPerUser=maxPerUser)
    sessions = SessionsService(store, manager, spec, secrets=secrets, secretFiles=secretFiles,
                               secretPath=secretPath, signing=signing)
    if port is not None:
        storeListener(store, port, portPassword, reactor).setServiceParent(sessions)
    return sessions
