"""
C{twistd session-server}: a session server speaking the Redis protocol.

Clients use any Redis client (redis-cli, redis-py, ...) on C{--port}
(default C{tcp:34343:interface=127.0.0.1}). With C{--albatross-port}, a
second listener speaks Albatross's session protocol over the same store;
that protocol has no authentication, so a bare port number binds to
loopback only.

The tree's root is a L{CommandService}: a start that fails (a port in use,
a journal that cannot be opened or is corrupt) ends twistd with one
sentence, in the foreground or daemonized.
"""

from twisted.python import usage

from appserver.config import LayeredOptions, byteSize, choice
from appserver.errors import CommandService
from services.ports import parsePort
from services.sessionserver.journal import FSYNC_POLICIES
from services.sessionserver.service import DEFAULT_PORT, SessionServerService
from services.sessionserver.store import POLICIES

__all__ = ["Options", "makeService", "parseLoopbackPort"]


def parseLoopbackPort(value: object) -> str:
    """
    Like L{parsePort}, but a bare number listens on 127.0.0.1 only.
    """
    text = str(value).strip()
    if text.isdigit():
        parsePort(text)
        return f"tcp:{int(text)}:interface=127.0.0.1"
    return parsePort(text)


parseLoopbackPort.coerceDoc = (  # type: ignore[attr-defined]
    "A port number (loopback only) or a Twisted endpoint description.")


class Options(LayeredOptions):
    """
    Options of C{twistd session-server}.
    """

    command = "session-server"
    synopsis = "[options]"
    longdesc = (
        "Serve sessions over the Redis protocol (RESP2, HELLO 3), with expiry, "
        "bounded memory and an optional append-only journal. The Albatross "
        "protocol (--albatross-port) has no authentication: it binds to "
        "loopback unless given a full endpoint description."
    )
    optRepeatable = [
        ["port", "p", [DEFAULT_PORT],
         "Port number or endpoint description to serve RESP on.", parsePort],
        ["albatross-port", None, [],
         "Serve Albatross's session protocol too (no authentication; a bare "
         "number means loopback only).", parseLoopbackPort],
    ]
    optParameters = [
        ["requirepass", None, None, "The password clients must AUTH with."],
        ["password-file", None, None, "A file holding the password (first line)."],
        ["maxmemory", None, 0, "The most memory keys may use (0: no bound).", byteSize],
        ["maxmemory-policy", None, "volatile-lru", "What to evict when full.",
         choice(*POLICIES)],
        ["journal", None, None, "Append-only journal file (none: memory only)."],
        ["fsync", None, "everysec", "When to fsync the journal.",
         choice(*FSYNC_POLICIES)],
    ]

    def postOptions(self) -> None:
        """
        Read the password file and check the options fit together.
        """
        if self["requirepass"] is not None and self["password-file"] is not None:
            raise usage.UsageError("Give either --requirepass or --password-file, not both.")
        if self["password-file"] is not None:
            self["requirepass"] = _readPassword(self["password-file"])
        if self["requirepass"] == "":
            raise usage.UsageError("The password must not be empty.")

    def password(self) -> bytes | None:
        """
        The password as bytes, or L{None}.
        """
        if self["requirepass"] is None:
            return None
        return self["requirepass"].encode("utf-8")


def _readPassword(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().rstrip("\r\n")
    except OSError as e:
        raise usage.UsageError(f"Cannot read password file {path}: {e.strerror}.") from None


def makeService(options: Options) -> CommandService:
    """
    Assemble a L{SessionServerService} from parsed L{Options}, under a
    L{CommandService} root named C{session-server}.
    """
    root = CommandService()
    root.setName("session-server")
    SessionServerService(
        ports=options["port"], albatrossPorts=options["albatross-port"],
        password=options.password(), maxmemory=options["maxmemory"],
        policy=options["maxmemory-policy"], journalPath=options["journal"],
        fsync=options["fsync"]).setServiceParent(root)
    return root
