"""
Tests for L{appserver.sessions.signing} that pin behaviours mutation
testing found no test noticing (docs/mutation.md).
"""

import base64
import hashlib
import hmac

from twisted.trial.unittest import SynchronousTestCase

from appserver.sessions.signing import Signer

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
