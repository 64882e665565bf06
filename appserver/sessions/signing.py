"""
Session ids and the signed cookie values that carry them.

An id is 128 bits from the operating system's CSPRNG, written as 32
lower-case hex digits. A cookie value is C{<id>.<signature>}, the signature
being HMAC-SHA256 of the id under a secret, base64url without padding.
Several secrets may be configured so that they can be rotated: values are
signed with the first and accepted under any of them.
"""

import base64
import hmac
import os
import re
import secrets as _secrets
from collections.abc import Iterable

__all__ = [
    "newSessionId", "isSessionId", "Signer", "secretValue", "readSecretFile",
    "loadOrCreateSecret", "MINIMUM_SECRET_LENGTH",
]

MINIMUM_SECRET_LENGTH = 16

VERIFIED_CACHE_SIZE = 10000
"""How many verified cookie values a L{Signer} remembers."""

_ID = re.compile(r"[0-9a-f]{32}\Z")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{43}\Z")
_PURPOSE = b"appserver session cookie\0"


def newSessionId() -> str:
    """
    A new session id: 128 random bits as 32 hex digits.
    """
    return _secrets.token_hex(16)


def isSessionId(value: object) -> bool:
    """
    Whether C{value} is a well-formed session id (as L{newSessionId} makes).
    """
    return isinstance(value, str) and _ID.match(value) is not None


def _toBytes(secret):
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


class Signer:
    """
    Sign session ids with the first of several secrets, accept any of them.

    @ivar secrets: the secrets as bytes, newest (signing) first.
    @ivar cacheSize: how many verified cookie values to remember.
    """

    def __init__(self, secrets: Iterable[str | bytes],
                 cacheSize: int = VERIFIED_CACHE_SIZE) -> None:
        self.secrets = tuple(_toBytes(s) for s in secrets)
        if not self.secrets:
            raise ValueError("at least one session secret is required")
        self._verified: dict[str | bytes, str] = {}
        self.cacheSize = cacheSize

    def _mac(self, secret, sessionId):
        digest = hmac.digest(secret, _PURPOSE + sessionId.encode("ascii"), "sha256")
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def sign(self, sessionId: str) -> str:
        """
        The cookie value for C{sessionId}.
        """
        return f"{sessionId}.{self._mac(self.secrets[0], sessionId)}"

    def unsign(self, value: str | bytes | None) -> str | None:
        """
        The session id carried by the cookie value C{value}, or L{None} if it
        is malformed or its signature matches none of the secrets.

        Every secret is tried, and compared in constant time, so the time
        taken does not tell which part of a forged signature was right.
        Values found valid are remembered (up to C{cacheSize} of them), so
        that a browser's later requests skip the HMAC: only a value equal to
        one already verified is found there.
        """
        if isinstance(value, bytes):
            value = value.decode("ascii", "replace")
        if not isinstance(value, str):
            return None
        sessionId = self._verified.get(value)
        if sessionId is None:
            sessionId = self._verify(value)
            if sessionId is not None:
                self._remember(value, sessionId)
        return sessionId

    def _verify(self, value):
        sessionId, dot, signature = value.partition(".")
        if not (dot and isSessionId(sessionId) and _SIGNATURE.match(signature)):
            return None
        valid = False
        for secret in self.secrets:
            valid |= hmac.compare_digest(self._mac(secret, sessionId), signature)
        return sessionId if valid else None

    def _remember(self, value, sessionId):
        if len(self._verified) >= self.cacheSize:
            # Forget the oldest half: a bounded cache with no per-hit cost.
            for old in list(self._verified)[: self.cacheSize // 2 + 1]:
                del self._verified[old]
        self._verified[value] = sessionId


def secretValue(value: object) -> str:
    """
    Coerce a C{--secret} option value, refusing secrets too short to resist
    guessing.
    """
    text = str(value).strip()
    if len(text) < MINIMUM_SECRET_LENGTH:
        raise ValueError(
            f"a session secret must be at least {MINIMUM_SECRET_LENGTH} characters long"
        )
    return text


secretValue.coerceDoc = f"At least {MINIMUM_SECRET_LENGTH} characters."  # type: ignore[attr-defined]


def readSecretFile(path: str) -> bytes:
    """
    Read one secret from the file at C{path} (surrounding whitespace is
    ignored).

    @raise ValueError: with one sentence, if the file cannot be read or
        holds a secret that is too short.
    """
    try:
        with open(path, "rb") as f:
            secret = f.read().strip()
    except OSError as e:
        raise ValueError(f"cannot read session secret file {path}: {e.strerror or e}") from None
    if len(secret) < MINIMUM_SECRET_LENGTH:
        raise ValueError(
            f"session secret file {path} holds fewer than {MINIMUM_SECRET_LENGTH} characters"
        )
    return secret


def loadOrCreateSecret(path: str) -> tuple[bytes, bool]:
    """
    Read the installation's generated secret from C{path}, creating the file
    (mode 0600, never replacing an existing one) with a new 256-bit secret
    if there is none.

    @return: C{(secret, created)}, C{created} being true if the file was
        written now.
    @raise ValueError: if the file cannot be created or read.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return readSecretFile(path), False
    except OSError as e:
        raise ValueError(f"cannot create session secret file {path}: {e.strerror or e}") from None
    secret = _secrets.token_urlsafe(32).encode("ascii")
    with os.fdopen(fd, "wb") as f:
        f.write(secret + b"\n")
    return secret, True
