"""
Tests for L{services.reloader}: event handling with a fake notifier and a
Clock, polling, and real inotify on a temporary directory.
"""

import os

from twisted.internet import defer, reactor, task
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase, TestCase

from services import reloader
from services.reloader import (IN_ATTRIB, IN_CLOSE_WRITE, IN_CREATE, IN_DELETE,
                               IN_DELETE_SELF, IN_ISDIR, IN_MOVED_FROM, IN_MOVED_TO,
                               WATCH_MASK, ChangeFailed, ReloaderService, isIgnored)
from tests.support import assertPersists, captureLog, tempDir

IN_OPEN = 0x00000020
IN_ACCESS = 0x00000001


class Recorder:
    """
    A picklable C{onChange} that records its calls and returns C{result}.
    """

    def __init__(self, result=None):
        self.calls = []
        self.result = result

    def onChange(self, paths):
        self.calls.append(paths)
        return self.result


class FakeNotifier:
    """
    Stands in for L{twisted.internet.inotify.INotify}: records watches and
    lets the test deliver events.
    """

    def __init__(self, clock):
        self.clock = clock
        self.watches = {}
        self.reading = False
        self.lost = False

    def startReading(self):
        self.reading = True

    def watch(self, path, mask, autoAdd=False, callbacks=None, recursive=False):
        if not path.exists():
            raise OSError(f"no such directory {path.path}")
        self.watches[path.path] = (mask, callbacks, recursive)

    def loseConnection(self):
        self.lost = True

    def deliver(self, path, mask):
        """
        Deliver an event as INotify does: bytes path, to the callbacks.
        """
        [(_, callbacks, _)] = list(self.watches.values())[:1]
        for callback in callbacks:
            callback(None, FilePath(path).asBytesMode(), mask)


class MaskTests(SynchronousTestCase):
    """
    Our event bits are the kernel's, as Twisted names them.
    """

    def test_constants(self):
        """
        Each constant equals Twisted's.
        """
        from twisted.internet import inotify

        for name in ("IN_ATTRIB", "IN_CLOSE_WRITE", "IN_MOVED_FROM", "IN_MOVED_TO",
                     "IN_CREATE", "IN_DELETE", "IN_DELETE_SELF", "IN_ISDIR"):
            self.assertEqual(getattr(reloader, name), getattr(inotify, name), name)


class IgnoredTests(SynchronousTestCase):
    """
    Editor and tool droppings are ignored.
    """

    def test_ignored(self):
        """
        Swap files, backups, locks, byte-code and tool directories are noise.
        """
        for path in ("controllers/.home.py.swp", "a.py.swx", "a.py~", ".#a.py", "#a.py#",
                     "controllers/4913", "controllers/__pycache__/x.cpython-311.pyc",
                     ".git/index", "a.py___jb_tmp___", "app.sqlite3-wal", "x.pyc"):
            self.assertTrue(isIgnored(path), path)

    def test_kept(self):
        """
        Source, templates and configuration count.
        """
        for path in ("controllers/home.py", "templates/page.xml", "app.yaml",
                     "static/#hash.css", "4913.txt", "#"):
            self.assertFalse(isIgnored(path), path)


class EventTests(SynchronousTestCase):
    """
    With a fake notifier and a Clock: masks, debounce, ignored files,
    subdirectories.
    """

    def setUp(self):
        self.root = tempDir(self)
        os.mkdir(os.path.join(self.root, "controllers"))
        self.clock = task.Clock()
        self.notifiers = []
        self.recorder = Recorder()
        self.service = ReloaderService(self.root, self.recorder.onChange, delay=0.1,
                                       clock=self.clock, notifierFactory=self.makeNotifier)
        self.service.startService()
        self.addCleanup(self.service.stopService)

    def makeNotifier(self, clock):
        self.assertIs(clock, self.clock)
        self.notifiers.append(FakeNotifier(clock))
        return self.notifiers[-1]

    def deliver(self, relative, mask):
        self.notifiers[-1].deliver(os.path.join(self.root, relative), mask)

    def test_watchesRecursively(self):
        """
        The root is watched recursively with our mask.
        """
        notifier = self.notifiers[-1]
        self.assertTrue(notifier.reading)
        mask, callbacks, recursive = notifier.watches[self.root]
        self.assertEqual((mask, recursive), (WATCH_MASK, True))
        self.assertEqual(self.service.mode, "inotify")

    def test_debounce(self):
        """
        A burst of events gives one call, C{delay} after the last event.
        """
        self.deliver("controllers/home.py", IN_CREATE)
        self.clock.advance(0.05)
        self.deliver("controllers/home.py", IN_CLOSE_WRITE)
        self.clock.advance(0.05)
        self.deliver("app.yaml", IN_MOVED_TO)
        self.clock.advance(0.09)
        self.assertEqual(self.recorder.calls, [])
        self.clock.advance(0.01)
        self.assertEqual(self.recorder.calls, [frozenset({"controllers/home.py", "app.yaml"})])
        self.clock.advance(1)
        self.assertEqual(len(self.recorder.calls), 1)

    def test_masks(self):
        """
        Events are tested with C{&}: combined bits count, opens and reads do not.
        """
        for mask in (IN_CLOSE_WRITE, IN_MOVED_TO, IN_MOVED_FROM, IN_CREATE, IN_DELETE,
                     IN_ATTRIB, IN_CLOSE_WRITE | IN_OPEN):
            self.deliver("a.py", mask)
            self.clock.advance(0.1)
            self.assertEqual(self.recorder.calls.pop(), frozenset({"a.py"}), hex(mask))
        self.deliver("a.py", IN_OPEN)
        self.deliver("a.py", IN_ACCESS)
        self.clock.advance(1)
        self.assertEqual(self.recorder.calls, [])

    def test_ignoredFiles(self):
        """
        Ignored files alone cause no call, and are left out of one.
        """
        self.deliver("controllers/.home.py.swp", IN_CLOSE_WRITE)
        self.deliver("controllers/4913", IN_CREATE)
        self.clock.advance(1)
        self.assertEqual(self.recorder.calls, [])
        self.deliver("controllers/home.py~", IN_MOVED_TO)
        self.deliver("controllers/home.py", IN_MOVED_TO)
        self.clock.advance(1)
        self.assertEqual(self.recorder.calls, [frozenset({"controllers/home.py"})])

    def test_newSubdirectory(self):
        """
        A new subdirectory is watched, and the files already in it count.
        """
        new = os.path.join(self.root, "controllers", "admin")
        os.mkdir(new)
        with open(os.path.join(new, "users.py"), "w") as f:
            f.write("")
        self.deliver("controllers/admin", IN_CREATE | IN_ISDIR)
        mask, _, recursive = self.notifiers[-1].watches[new]
        self.assertEqual((mask, recursive), (WATCH_MASK, True))
        self.clock.advance(0.1)
        self.assertEqual(self.recorder.calls,
                         [frozenset({"controllers/admin", "controllers/admin/users.py"})])

    def test_subdirectoryMovedIn(self):
        """
        A directory moved into the tree is watched too.
        """
        new = os.path.join(self.root, "templates")
        os.mkdir(new)
        self.deliver("templates", IN_MOVED_TO | IN_ISDIR)
        self.assertIn(new, self.notifiers[-1].watches)

    def test_subdirectoryGone(self):
        """
        A new subdirectory that vanished before it could be watched is
        reported, not fatal.
        """
        self.deliver("gone", IN_CREATE | IN_ISDIR)
        self.clock.advance(0.1)
        self.assertEqual(self.recorder.calls, [frozenset({"gone"})])

    def test_subdirectoryDeleted(self):
        """
        When a watched subdirectory is deleted (Twisted's INotify then closes
        itself), the tree is watched again by a new notifier.
        """
        self.deliver("controllers", IN_DELETE_SELF)
        self.clock.advance(0)
        self.assertEqual(len(self.notifiers), 2)
        self.assertTrue(self.notifiers[0].lost)
        self.assertIn(self.root, self.notifiers[1].watches)

    def test_rootDeleted(self):
        """
        When the watched directory itself goes, the service polls for it.
        """
        self.deliver("", IN_DELETE_SELF)
        self.assertEqual(self.service.mode, "polling")
        self.assertTrue(self.notifiers[0].lost)
        self.flushLoggedErrors()

    def test_oneCallAtATime(self):
        """
        Changes made while a call runs are reported after it ends.
        """
        pending = defer.Deferred()
        self.recorder.result = pending
        self.deliver("a.py", IN_CLOSE_WRITE)
        self.clock.advance(0.1)
        self.deliver("b.py", IN_CLOSE_WRITE)
        self.clock.advance(1)
        self.assertEqual(self.recorder.calls, [frozenset({"a.py"})])
        self.recorder.result = None
        pending.callback("ok")
        self.clock.advance(0.1)
        self.assertEqual(self.recorder.calls[1], frozenset({"b.py"}))

    def test_figures(self):
        """
        The last call's time, duration, paths and result are kept.
        """
        self.recorder.result = "reloaded"
        self.deliver("a.py", IN_CLOSE_WRITE)
        self.clock.advance(0.1)
        self.assertEqual(self.service.lastResult, "reloaded")
        status = self.service.figures()
        self.assertEqual(status["lastReload"], 0.1)
        self.assertEqual(status["lastDuration"], 0)
        self.assertEqual(status["lastPaths"], ["a.py"])
        self.assertEqual((status["lastError"], status["reloadCount"]), (None, 1))

    def test_error(self):
        """
        A failing call is logged and its message kept; watching goes on.
        """
        self.recorder.result = defer.fail(SyntaxError("invalid syntax (home.py, line 3)"))
        self.deliver("a.py", IN_CLOSE_WRITE)
        self.clock.advance(0.1)
        self.assertEqual(len(self.flushLoggedErrors(SyntaxError)), 1)
        self.assertEqual(self.service.lastError, "invalid syntax (home.py, line 3)")
        self.recorder.result = "fine"
        self.deliver("a.py", IN_CLOSE_WRITE)
        self.clock.advance(0.1)
        self.assertIsNone(self.service.lastError)
        self.assertEqual(self.service.reloadCount, 2)

    def test_reportedErrorLoggedOnce(self):
        """
        A L{ChangeFailed}, which C{onChange} has logged itself, is recorded
        but not logged again.
        """
        events = captureLog(self)
        self.recorder.result = defer.fail(ChangeFailed("c.py, line 1: invalid syntax"))
        self.deliver("a.py", IN_CLOSE_WRITE)
        self.clock.advance(0.1)
        self.assertEqual(self.flushLoggedErrors(), [])
        self.assertEqual([e for e in events if e["log_level"].name in ("error", "critical")],
                         [])
        self.assertEqual(self.service.lastError, "c.py, line 1: invalid syntax")

    def test_stop(self):
        """
        Stopping drops the pending change and closes the notifier.
        """
        self.deliver("a.py", IN_CLOSE_WRITE)
        self.service.stopService()
        self.clock.advance(1)
        self.assertEqual(self.recorder.calls, [])
        self.assertTrue(self.notifiers[-1].lost)
        self.assertIsNone(self.service.mode)

    def test_persists(self):
        """
        A running service pickles with its path, callback and delay, and
        without its notifier or figures.
        """
        def check(restored):
            self.assertEqual((restored.path, restored.delay), (self.root, 0.1))
            self.assertIsInstance(restored.onChange.__self__, Recorder)
            self.assertIsNone(restored._notifier)
            self.assertIsNone(restored.mode)

        assertPersists(self, self.service, check)


class PollingTests(SynchronousTestCase):
    """
    Without inotify the service polls modification times on the Clock.
    """

    def setUp(self):
        self.root = tempDir(self)
        self.write("app.yaml", "a: 1")
        self.clock = task.Clock()
        self.recorder = Recorder()
        self.service = ReloaderService(self.root, self.recorder.onChange, delay=0.1,
                                       pollInterval=0.5, clock=self.clock,
                                       notifierFactory=self.noINotify)
        self.service.startService()
        self.addCleanup(self.service.stopService)

    def noINotify(self, clock):
        raise ImportError("no inotify here")

    def write(self, relative, text):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_mode(self):
        """
        The fallback is reported.
        """
        self.assertEqual(self.service.mode, "polling")

    def test_changes(self):
        """
        New, changed and deleted files are found by the next scan and
        reported after the quiet delay; ignored files are not.
        """
        self.write("controllers/home.py", "x = 1")
        self.write("controllers/home.py.swp", "")
        os.utime(self.write("app.yaml", "a: 2"), ns=(1, 1))
        self.clock.advance(0.5)
        self.assertEqual(self.recorder.calls, [])
        self.clock.advance(0.1)
        self.assertEqual(self.recorder.calls, [frozenset({"controllers/home.py", "app.yaml"})])
        os.remove(os.path.join(self.root, "app.yaml"))
        self.clock.pump([0.4, 0.1])
        self.assertEqual(self.recorder.calls[-1], frozenset({"app.yaml"}))

    def test_quiet(self):
        """
        Nothing changed, nothing reported.
        """
        self.clock.advance(5)
        self.assertEqual(self.recorder.calls, [])

    def test_stop(self):
        """
        Stopping stops the scans.
        """
        self.service.stopService()
        self.assertEqual(self.clock.getDelayedCalls(), [])


class RealINotifyTests(TestCase):
    """
    With real inotify and the real reactor on a temporary directory.
    """

    timeout = 20

    def setUp(self):
        self.root = tempDir(self)
        os.mkdir(os.path.join(self.root, "controllers"))
        self.calls = defer.DeferredQueue()
        self.service = ReloaderService(self.root, self.calls.put, delay=0.05)
        self.service.startService()
        self.addCleanup(self.service.stopService)
        self.assertEqual(self.service.mode, "inotify")

    def write(self, relative, text):
        with open(os.path.join(self.root, relative), "w") as f:
            f.write(text)

    @defer.inlineCallbacks
    def test_writeInPlace(self):
        """
        Writing a file gives one call naming it.
        """
        self.write("controllers/home.py", "x = 1\n")
        paths = yield self.calls.get()
        self.assertEqual(paths, frozenset({"controllers/home.py"}))

    @defer.inlineCallbacks
    def test_writeThenRename(self):
        """
        An editor's save (write a temporary file, rename it over the old
        one) is one call naming the file.
        """
        self.write("controllers/.home.py.swp", "")
        self.write("controllers/home.py.tmp~", "x = 2\n")
        os.rename(os.path.join(self.root, "controllers/home.py.tmp~"),
                  os.path.join(self.root, "controllers/home.py"))
        paths = yield self.calls.get()
        self.assertEqual(paths, frozenset({"controllers/home.py"}))

    @defer.inlineCallbacks
    def test_newSubdirectory(self):
        """
        Files in a subdirectory made after start are seen, and deleting a
        subdirectory does not stop the watching.
        """
        os.mkdir(os.path.join(self.root, "templates"))
        yield self.calls.get()
        self.write("templates/page.xml", "<html/>")
        paths = yield self.calls.get()
        self.assertIn("templates/page.xml", paths)
        os.remove(os.path.join(self.root, "templates/page.xml"))
        os.rmdir(os.path.join(self.root, "templates"))
        yield self.calls.get()
        yield task.deferLater(reactor, 0.05, lambda: None)
        self.write("controllers/home.py", "x = 3\n")
        paths = yield self.calls.get()
        self.assertEqual(paths, frozenset({"controllers/home.py"}))
