"""
Tests for C{appserver-sessions}, the operator's way to list and end users'
sessions (OWASP ASVS 5.0 7.4.5): its options, what it does to a store, and
the real command against a file store and a Redis-protocol server.
"""

import io
import sys

from twisted.internet import defer, task
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase, TestCase

from appserver.sessions.admin import Options, act
from appserver.sessions.session import encodeRecord
from appserver.sessions.signing import newSessionId
from appserver.sessions.stores import FileSessionStore, RedisSessionStore
from appserver.sessions.users import idHash
from tests.support import SOURCE, run, tempDir
from tests.test_session_stores import startRedisServer

COMMAND = [sys.executable, "-m", "appserver.sessions.admin"]


def parse(*argv):
    options = Options()
    options.parseOptions(list(argv))
    return options


class OptionsTests(SynchronousTestCase):
    def test_valid(self):
        """A store, a command and its target parse."""
        options = parse("--sessions", "file:/tmp/s", "revoke", "--user", "a", "--user", "b")
        self.assertEqual((options["sessions"], options.subCommand, options.subOptions["users"]),
                         ("file:/tmp/s", "revoke", ["a", "b"]))
        self.assertTrue(parse("--sessions", "redis://h/0", "revoke", "--all").subOptions["all"])
        self.assertEqual(parse("--sessions", "file:d", "list", "--user", "a").subOptions["user"],
                         "a")

    def test_errors(self):
        """Each mistake is one sentence saying what to give."""
        cases = [
            ([], "Say which store: --sessions file:DIRECTORY or --sessions redis://host:port/db."),
            (["--sessions", "nowhere", "revoke", "--all"], "Bad --sessions: 'nowhere' is not"),
            (["--sessions", "memory", "revoke", "--all"], "--sessions memory lives inside"),
            (["--sessions", "file:d"], "Say what to do: list or revoke."),
            (["--sessions", "file:d", "revoke"], "Say whose sessions to end: --user NAME"),
            (["--sessions", "file:d", "revoke", "--all", "--user", "a"],
             "--all ends everyone's sessions; drop --user."),
            (["--sessions", "file:d", "list"], "Say whose sessions to list: list --user NAME."),
        ]
        for argv, start in cases:
            with self.assertRaises(usage.UsageError) as e:
                parse(*argv)
            self.assertTrue(str(e.exception).startswith(start), (argv, str(e.exception)))


class ActTests(TestCase):
    """
    The commands over a file store in a temporary directory.
    """

    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(1_700_000_000)
        self.directory = tempDir(self)
        self.store = FileSessionStore(self.directory, clock=self.clock)
        self.store.open()
        self.addCleanup(self.store.close)

    def loggedIn(self, user):
        sessionId = newSessionId()
        login = {"user": user, "seen": 1_700_000_000, "address": "10.1.2.3", "agent": "curl/8"}
        self.store.save(sessionId, encodeRecord(1_700_000_000, {}, login), 600)
        self.store.addToUser(user, sessionId, 600)
        return sessionId

    def act(self, *argv):
        out = io.StringIO()
        self.successResultOf(defer.ensureDeferred(
            act(parse("--sessions", f"file:{self.directory}", *argv), self.store, out)))
        return out.getvalue()

    def live(self, sessionId):
        return self.successResultOf(self.store.load(sessionId, 600)) is not None

    def test_list(self):
        """list shows each session's hash, times, address and agent, never its id."""
        sessionId = self.loggedIn("alice")
        output = self.act("list", "--user", "alice")
        self.assertEqual(output, f"{idHash(sessionId)}  created 2023-11-14 22:13:20  "
                                 "last seen 2023-11-14 22:13:20  10.1.2.3  curl/8\n")
        self.assertNotIn(sessionId, output)

    def test_revokeUsers(self):
        """revoke --user ends those users' sessions only."""
        alice, bob, carol = self.loggedIn("alice"), self.loggedIn("bob"), self.loggedIn("carol")
        self.loggedIn("alice")
        output = self.act("revoke", "--user", "alice", "--user", "bob")
        self.assertEqual(output, "Ended 2 sessions of alice.\nEnded 1 sessions of bob.\n")
        self.assertEqual([self.live(s) for s in (alice, bob, carol)], [False, False, True])

    def test_revokeAll(self):
        """revoke --all ends every session, anonymous ones too."""
        users = [self.loggedIn("alice"), self.loggedIn("bob")]
        anonymous = newSessionId()
        self.store.save(anonymous, encodeRecord(1_700_000_000, {"a": 1}), 600)
        self.assertEqual(self.act("revoke", "--all"), "Ended 3 sessions.\n")
        self.assertEqual([self.live(s) for s in users + [anonymous]], [False] * 3)


class CommandTests(TestCase):
    """
    The real command, in a child process.
    """

    timeout = 60

    def test_usage(self):
        """A usage error is one sentence and the synopsis, with exit code 2."""
        code, output = run(COMMAND + ["--sessions", "file:x", "revoke"], SOURCE)
        self.assertEqual(code, 2)
        self.assertTrue(output.startswith("appserver-sessions: Say whose sessions to end"))
        self.assertIn("Usage: appserver-sessions --sessions SPEC", output)
        self.assertNotIn("Traceback", output)

    def test_unreachable(self):
        """A store that cannot be reached is one sentence, with exit code 1."""
        code, output = run(COMMAND + ["--sessions", "redis://127.0.0.1:1/0", "revoke", "--all"],
                           SOURCE)
        self.assertEqual((code, output.strip()),
                         (1, "appserver-sessions: The session store redis://127.0.0.1:1/0 "
                             "cannot be reached: [Errno 111] Connection refused."))

    def test_fileStore(self):
        """Against a file store, revoke --user ends that user's sessions."""
        directory = tempDir(self)
        store = FileSessionStore(directory)
        ids = [newSessionId() for _ in range(2)]
        for sessionId, user in zip(ids, ["alice", "bob"], strict=True):
            login = {"user": user, "seen": 1, "address": None, "agent": ""}
            store.save(sessionId, encodeRecord(2e9, {}, login), 600)
            store.addToUser(user, sessionId, 600)
        code, output = run(COMMAND + ["--sessions", f"file:{directory}", "revoke", "--user",
                                      "alice"], SOURCE)
        self.assertEqual((code, output), (0, "Ended 1 sessions of alice.\n"))
        loaded = [self.successResultOf(store.peek(s)) is not None for s in ids]
        self.assertEqual(loaded, [False, True])

    @defer.inlineCallbacks
    def test_redis(self):
        """Against a Redis server, list and revoke work over the network."""
        from twisted.internet import reactor

        url = f"redis://127.0.0.1:{startRedisServer(self)}/0"
        store = RedisSessionStore.fromURL(url, reactor=reactor)
        store.open()
        self.addCleanup(store.close)
        sessionId = newSessionId()
        login = {"user": "alice", "seen": 2e9, "address": "::1", "agent": "x"}
        yield store.save(sessionId, encodeRecord(2e9, {}, login), 600)
        yield store.addToUser("alice", sessionId, 600)
        code, output = run(COMMAND + ["--sessions", url, "list", "--user", "alice"], SOURCE)
        self.assertEqual((code, output.split()[0]), (0, idHash(sessionId)))
        code, output = run(COMMAND + ["--sessions", url, "revoke", "--all"], SOURCE)
        self.assertEqual((code, output), (0, "Ended 1 sessions.\n"))
        self.assertIsNone((yield store.peek(sessionId)))
        self.assertEqual((yield store.sessionsOfUser("alice")), [])
