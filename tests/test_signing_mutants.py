"""
Tests for L{appserver.sessions.signing} that pin behaviours mutation
testing found no test noticing (docs/mutation.md).
"""

import base64
import hashlib
import hmac
import os

from twisted.trial.unittest import SynchronousTestCase

from appserver.sessions.signing import (
    MINIMUM_SECRET_LENGTH, Signer, loadOrCreateSecret, readSecretFile,
)
from tests.support import tempDir

SECRET = b"s" * 32
SESSION_ID = "0123456789abcdef0123456789abcdef"


class KnownAnswerTests(SynchronousTestCase):
    """
    Cookie values are exactly what the documented construction gives, so a
    change to it (which would log every user out) is noticed.
    """

    def test_knownAnswer(self):
        """The signature is HMAC-SHA256 of the purpose and the id, base64url unpadded."""
        self.assertEqual(Signer([SECRET]).sign(SESSION_ID),
                         SESSION_ID + ".EU10fhjNT5DmEZFMra1K2lHmJQJDTLYIEcmUBSYkjog")

    def test_purposeBound(self):
        """A bare HMAC of the id under the same secret, without the purpose, is refused."""
        bare = hmac.new(SECRET, SESSION_ID.encode("ascii"), hashlib.sha256).digest()
        signature = base64.urlsafe_b64encode(bare).rstrip(b"=").decode("ascii")
        self.assertIsNone(Signer([SECRET]).unsign(f"{SESSION_ID}.{signature}"))

    def test_strSecretSameAsBytes(self):
        """A str secret signs as its UTF-8 bytes."""
        self.assertEqual(Signer(["s" * 32]).sign(SESSION_ID), Signer([SECRET]).sign(SESSION_ID))

    def test_bytesValue(self):
        """A cookie value given as bytes is read as the same value in text."""
        value = Signer([SECRET]).sign(SESSION_ID)
        self.assertEqual(Signer([SECRET]).unsign(value.encode("ascii")), SESSION_ID)

    def test_anySecretAccepted(self):
        """A value signed with the last of several secrets is accepted, not only the first's."""
        old = Signer([b"o" * 32]).sign(SESSION_ID)
        self.assertEqual(Signer([SECRET, b"p" * 32, b"o" * 32]).unsign(old), SESSION_ID)

    def test_firstOfSeveralSecrets(self):
        """A signer with several secrets accepts what it signs itself, with the first."""
        rotated = Signer([SECRET, b"o" * 32])
        self.assertEqual(rotated.unsign(rotated.sign(SESSION_ID)), SESSION_ID)

    def test_nonASCIIId(self):
        """A value whose id is not ASCII is refused, even with a well-formed signature."""
        self.assertIsNone(Signer([SECRET]).unsign("\u00e9" * 32 + "." + "A" * 43))

    def test_noSecretsMessage(self):
        """A signer without secrets says what it needs."""
        error = self.assertRaises(ValueError, Signer, [])
        self.assertEqual(str(error), "at least one session secret is required")


class SecretFileTests(SynchronousTestCase):
    """
    Secret files: their shortest length, their errors and generated secrets.
    """

    def test_shortestSecret(self):
        """A secret file of exactly the minimum length is accepted."""
        path = os.path.join(tempDir(self), "secret")
        with open(path, "wb") as f:
            f.write(b"x" * MINIMUM_SECRET_LENGTH + b"\n")
        self.assertEqual(readSecretFile(path), b"x" * MINIMUM_SECRET_LENGTH)

    def test_missingFileMessage(self):
        """A secret file that cannot be read is named with the system's reason."""
        path = os.path.join(tempDir(self), "absent")
        error = self.assertRaises(ValueError, readSecretFile, path)
        self.assertEqual(str(error),
                         f"cannot read session secret file {path}: No such file or directory")

    def test_uncreatableFileMessage(self):
        """A secret file that cannot be created is named with the system's reason."""
        path = os.path.join(tempDir(self), "absent", "secret")
        error = self.assertRaises(ValueError, loadOrCreateSecret, path)
        self.assertEqual(str(error),
                         f"cannot create session secret file {path}: No such file or directory")

    def test_generatedSecretIs256Bits(self):
        """A generated secret is 256 random bits, base64url: 43 characters."""
        path = os.path.join(tempDir(self), "secret")
        secret, created = loadOrCreateSecret(path)
        self.assertTrue(created)
        self.assertEqual(len(secret), 43)
        self.assertEqual(len(base64.urlsafe_b64decode(secret + b"=")), 32)
