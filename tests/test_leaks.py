"""
Tests for what C{twistd web-app} keeps out of the directories it serves and
which files a run creates: its tree and its option checks, in memory.
"""

import os
import stat

from twisted.internet.task import Clock
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from appserver.sessions import makeSessionsService
from appserver.sessions.signing import newSessionId
from appserver.sessions.stores.files import FileSessionStore
from appserver.tap import webapp
from tests.support import assertPersists, parseOptions, tempDir
from tests.test_appdir import makeApp


def parse(argv, environ=None):
    return parseOptions(webapp.Options, argv, environ)


class WorkingDirectoryTestCase(SynchronousTestCase):
    """
    Run each test from a fresh working directory, where the default
    database and secret would go.
    """

    def setUp(self):
        self.cwd = tempDir(self)
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.cwd)


class TreeTests(WorkingDirectoryTestCase):
    """
    Runs without an app build no database and no session cookies.
    """

    def names(self, argv):
        return [child.name for child in webapp.makeService(parse(argv))]

    def test_staticWithQotd(self):
        """QOTD reads the demo's quotes, so it keeps the database."""
        self.assertEqual(self.names(["--static", tempDir(self), "--qotd-port", "0"]),
                         ["db", "web", "qotd"])

    def test_staticWithSessionPort(self):
        """--session-port keeps the session store, which signs no cookies."""
        service = webapp.makeService(parse(["--static", self.cwd, "--session-port", "0"]))
        self.assertEqual([child.name for child in service], ["sessions", "web"])
        self.assertFalse(service.getServiceNamed("sessions").signing)

    def test_appSigns(self):
        """With an app the sessions service signs cookies."""
        service = webapp.makeService(parse([]))
        self.assertTrue(service.getServiceNamed("sessions").signing)


class UnsignedSessionsTests(WorkingDirectoryTestCase):
    """
    A sessions service that signs no cookies needs no secret.
    """

    def test_noSecretMade(self):
        """Starting it writes no generated secret."""
        service = makeSessionsService("memory", signing=False)
        service.startService()
        self.addCleanup(service.stopService)
        self.assertEqual(os.listdir(self.cwd), [])
        self.assertIsNone(service.manager.signer)

    def test_signingMakesSecret(self):
        """Signing (the default) generates the secret at start."""
        service = makeSessionsService("memory")
        service.startService()
        self.addCleanup(service.stopService)
        self.assertEqual(os.listdir(self.cwd), [".appserver-secret"])


class StaticOptionsTests(WorkingDirectoryTestCase):
    """
    --static-dotfiles and --static-follow-symlinks reach every static directory.
    """

    def test_defaults(self):
        """Both are off by default, for --static and the app's static/."""
        service = webapp.makeService(parse(["--app", makeApp(self), "--static",
                                            tempDir(self)]))
        fallback = service.getServiceNamed("app").resource.fallback
        self.assertEqual((fallback.dotfiles, fallback.followSymlinks), (False, False))
        self.assertEqual(service.getServiceNamed("app").staticOptions,
                         {"dotfiles": False, "followSymlinks": False})

    def test_commandLine(self):
        """Each flag turns its choice on."""
        service = webapp.makeService(parse(["--app", makeApp(self), "--static", tempDir(self),
                                            "--static-dotfiles", "--static-follow-symlinks"]))
        fallback = service.getServiceNamed("app").resource.fallback
        self.assertEqual((fallback.dotfiles, fallback.followSymlinks), (True, True))
        self.assertEqual(service.getServiceNamed("app").staticOptions,
                         {"dotfiles": True, "followSymlinks": True})

    def test_persists(self):
        """A --static tree keeps its choices through pickle and AOT source."""
        service = webapp.makeService(parse(["--static", tempDir(self), "--static-dotfiles"]))

        def check(restored):
            files = restored.getServiceNamed("web").resource.resource
            self.assertEqual((files.dotfiles, files.followSymlinks), (True, False))
        assertPersists(self, service, check)

    def test_appYaml(self):
        """app.yaml and the environment set them too."""
        root = makeApp(self, **{"app.yaml": "static-dotfiles: true\n"})
        options = parse(["--app", root], {"APPSERVER_STATIC_FOLLOW_SYMLINKS": "yes"})
        self.assertTrue(options["static-dotfiles"])
        self.assertTrue(options["static-follow-symlinks"])


class ServedDirectoryTests(WorkingDirectoryTestCase):
    """
    A served directory never holds the database, a secret or session files.
    """

    def refusal(self, argv):
        with self.assertRaises(usage.UsageError) as caught:
            parse(argv)
        message = str(caught.exception)
        self.assertEqual(len(message.strip().splitlines()), 1, message)
        return message

    def test_defaultsInStaticDirectory(self):
        """--static . with an app: the default database and secret would be served."""
        message = self.refusal(["--app", makeApp(self), "--static", "."])
        self.assertIn(os.path.join(os.path.realpath(self.cwd), "appserver.sqlite3"), message)
        self.assertIn(".appserver-secret", message)
        self.assertIn("--static", message)
        self.assertIn("--db", message)
        self.assertIn("--secret-file", message)

    def test_staticAloneInWorkingDirectory(self):
        """--static . alone uses neither database nor secret, so it is fine."""
        self.assertEqual(parse(["--static", "."])["static"], self.cwd)

    def test_elsewhere(self):
        """With the database and secret outside, --static . with an app is fine."""
        elsewhere = tempDir(self)
        parse(["--app", makeApp(self), "--static", ".",
               "--db", f"sqlite:///{elsewhere}/app.db", "--secret", "x" * 16])
        parse(["--app", makeApp(self), "--static", ".", "--db", "sqlite://:memory:",
               "--secret-file", os.path.join(elsewhere, "secret")])

    def test_databaseForQotd(self):
        """QOTD uses the database, so it may not lie in the served directory."""
        message = self.refusal(["--static", ".", "--qotd-port", "0",
                                "--db", "sqlite:///data/q.sqlite3"])
        self.assertIn("q.sqlite3", message)

    def test_secretFile(self):
        """A --secret-file in a served directory is refused."""
        os.mkdir("www")
        message = self.refusal(["--static", "www", "--secret-file", "www/secret",
                                "--db", "sqlite://:memory:", "--app", makeApp(self)])
        self.assertIn("www/secret", message)

    def test_sessionFiles(self):
        """The file session store's directory in a served directory is refused."""
        message = self.refusal(["--static", ".", "--sessions", "file:sessions",
                                "--db", "sqlite://:memory:", "--secret", "x" * 16,
                                "--app", makeApp(self)])
        self.assertIn("sessions", message)

    def test_appStaticFolder(self):
        """The app's static/ folder is a served directory too."""
        root = makeApp(self)
        message = self.refusal(["--app", root, "--db",
                                f"sqlite:///{root}/static/app.sqlite3"])
        self.assertIn(os.path.join(root, "static"), message)

    def test_linkedStaticDirectory(self):
        """A served directory reached through a link is resolved."""
        os.symlink(".", "here")
        self.refusal(["--app", makeApp(self), "--static", "here"])

    def test_configFile(self):
        """The --config file (or APPSERVER_CONFIG's) in a served directory is refused."""
        os.mkdir("www")
        with open(os.path.join("www", "web.yaml"), "w") as f:
            f.write("timeout: 30\n")
        for argv, environ in [(["--config", "www/web.yaml", "--static", "www"], None),
                              (["--static", "www"], {"APPSERVER_CONFIG": "www/web.yaml"})]:
            with self.assertRaises(usage.UsageError) as caught:
                parse(argv, environ)
            message = str(caught.exception)
            self.assertIn(os.path.join(self.cwd, "www", "web.yaml"), message)
            self.assertIn("--config", message)
        parse(["--config", "www/web.yaml", "--static", tempDir(self)])

    def test_appConfig(self):
        """Serving the app directory itself (--app . --static .) would serve its app.yaml."""
        root = makeApp(self)
        os.chdir(root)
        message = self.refusal(["--app", ".", "--static", ".", "--db", "sqlite://:memory:",
                                "--secret", "x" * 16])
        self.assertIn(os.path.join(os.path.realpath(root), "app.yaml"), message)
        self.assertIn("--app", message)


class FileStoreModeTests(SynchronousTestCase):
    """
    The file session store keeps its sessions private whatever the umask.
    """

    def test_permissiveUmask(self):
        """Under umask 000 the directory is 0700 and each session file 0600."""
        self.addCleanup(os.umask, os.umask(0))
        directory = os.path.join(tempDir(self), "sessions")
        store = FileSessionStore(directory, clock=Clock())
        store.open()
        self.addCleanup(store.close)
        sessionId = newSessionId()
        store.save(sessionId, b"{}", 60)
        self.assertEqual(stat.S_IMODE(os.stat(directory).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(directory, sessionId)).st_mode),
                         0o600)
