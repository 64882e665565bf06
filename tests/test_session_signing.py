"""
Tests for appserver.sessions.signing: ids, signed cookie values, secrets.
"""

import os
import stat

from hypothesis import given, strategies as st
from twisted.trial.unittest import SynchronousTestCase

from appserver.sessions.signing import (
    Signer, isSessionId, loadOrCreateSecret, newSessionId, readSecretFile, secretValue,
)
from tests.support import tempDir

SECRET = b"s" * 32
OTHER = b"o" * 32


class SessionIdTests(SynchronousTestCase):
    def test_shape(self):
        """A session id is 128 bits as 32 lower-case hex digits."""
        sessionId = newSessionId()
        self.assertEqual(len(sessionId), 32)
        self.assertTrue(isSessionId(sessionId))
        int(sessionId, 16)

    def test_unique(self):
        """Ids do not repeat."""
        self.assertEqual(len({newSessionId() for _ in range(1000)}), 1000)

    def test_notIds(self):
        """Wrong lengths, upper case, path parts and non-strings are not ids."""
        for value in ["", "a" * 31, "a" * 33, "A" * 32, "../" + "a" * 29, "a" * 32 + "\n",
                      b"a" * 32, None]:
            self.assertFalse(isSessionId(value), value)


class SignerTests(SynchronousTestCase):
    def test_roundTrip(self):
        """A signed id unsigns to itself, from str or bytes."""
        signer = Signer([SECRET])
        sessionId = newSessionId()
        value = signer.sign(sessionId)
        self.assertTrue(value.startswith(sessionId + "."))
        self.assertEqual(signer.unsign(value), sessionId)
        self.assertEqual(signer.unsign(value.encode("ascii")), sessionId)

    def test_forged(self):
        """A value signed under another secret is refused."""
        sessionId = newSessionId()
        self.assertIsNone(Signer([SECRET]).unsign(Signer([OTHER]).sign(sessionId)))

    def test_swappedId(self):
        """A valid signature does not vouch for another id."""
        signer = Signer([SECRET])
        signature = signer.sign(newSessionId()).split(".")[1]
        self.assertIsNone(signer.unsign(newSessionId() + "." + signature))

    def test_malformed(self):
        """Malformed values are refused without an exception."""
        signer = Signer([SECRET])
        good = signer.sign(newSessionId())
        for value in ["", ".", "abc", good + "x", good[:-1], good.replace(".", ""),
                      "x" + good[1:], good.upper(), b"\xff\xfe", None, 42]:
            self.assertIsNone(signer.unsign(value), value)

    def test_rotation(self):
        """Values are signed with the first secret and accepted under any."""
        old = Signer([OTHER]).sign(newSessionId())
        rotated = Signer([SECRET, OTHER])
        self.assertIsNotNone(rotated.unsign(old))
        new = rotated.sign(newSessionId())
        self.assertIsNotNone(Signer([SECRET]).unsign(new))
        self.assertIsNone(Signer([OTHER]).unsign(new))

    def test_strSecrets(self):
        """Secrets may be given as str."""
        sessionId = newSessionId()
        self.assertEqual(Signer(["s" * 32]).unsign(Signer([SECRET]).sign(sessionId)), sessionId)

    def test_noSecrets(self):
        """A signer needs a secret."""
        self.assertRaises(ValueError, Signer, [])

    def test_verifiedCache(self):
        """The last values verified are accepted again without their HMAC (so even
        after their secret is gone), the older ones forgotten; forged ones never
        enter the cache."""
        signer = Signer([SECRET], cacheSize=4)
        forged = Signer([OTHER]).sign(newSessionId())
        self.assertIsNone(signer.unsign(forged))
        values = [signer.sign(newSessionId()) for _ in range(10)]
        for value in values:
            self.assertIsNotNone(signer.unsign(value))
        signer.secrets = (b"x" * 32,)
        remembered = [value for value in values if signer.unsign(value) is not None]
        self.assertEqual(remembered, values[6:])
        self.assertIsNone(signer.unsign(forged))

    def test_verifiedCacheBound(self):
        """A full cache forgets its oldest half (and one more) before remembering a value."""
        signer = Signer([SECRET], cacheSize=4)
        values = [signer.sign(newSessionId()) for _ in range(5)]
        for value in values:
            signer.unsign(value)
        signer.secrets = (b"x" * 32,)
        self.assertEqual([value for value in values if signer.unsign(value) is not None],
                         values[3:])

    @given(st.text())
    def test_randomText(self, value):
        """No text makes unsign raise."""
        self.assertIsNone(Signer([SECRET]).unsign(value))


class SecretTests(SynchronousTestCase):
    def test_secretValue(self):
        """Option secrets shorter than 16 characters are refused."""
        self.assertEqual(secretValue(" " + "x" * 16 + "\n"), "x" * 16)
        with self.assertRaises(ValueError) as e:
            secretValue("short")
        self.assertIn("at least 16", str(e.exception))

    def test_readSecretFile(self):
        """A secret file's content is the secret, without surrounding whitespace."""
        path = os.path.join(tempDir(self), "secret")
        with open(path, "wb") as f:
            f.write(b"  " + SECRET + b"\n")
        self.assertEqual(readSecretFile(path), SECRET)

    def test_readSecretFileProblems(self):
        """A missing or too short secret file is one ValueError naming it."""
        path = os.path.join(tempDir(self), "secret")
        with self.assertRaises(ValueError) as e:
            readSecretFile(path)
        self.assertIn(path, str(e.exception))
        with open(path, "wb") as f:
            f.write(b"tiny\n")
        with self.assertRaises(ValueError) as e:
            readSecretFile(path)
        self.assertIn("fewer than 16", str(e.exception))

    def test_generated(self):
        """The generated secret is made once, mode 0600, and read back after."""
        path = os.path.join(tempDir(self), ".appserver-secret")
        secret, created = loadOrCreateSecret(path)
        self.assertTrue(created)
        self.assertGreaterEqual(len(secret), 32)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertEqual(loadOrCreateSecret(path), (secret, False))

    def test_generatedUnderPermissiveUmask(self):
        """The generated secret is 0600 even under umask 000."""
        self.addCleanup(os.umask, os.umask(0))
        path = os.path.join(tempDir(self), ".appserver-secret")
        loadOrCreateSecret(path)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)

    def test_generatedUnwritable(self):
        """A secret that cannot be created is one ValueError naming the path."""
        path = os.path.join(tempDir(self), "missing", "secret")
        with self.assertRaises(ValueError) as e:
            loadOrCreateSecret(path)
        self.assertIn(path, str(e.exception))
