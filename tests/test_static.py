"""
Tests for L{appserver.web.static}: what a static directory never serves.
"""

import os
import pickle

from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from appserver.web.resource import AppResource
from appserver.web.router import Router
from appserver.web.static import StaticFiles, isInside
from tests.support import captureLog, tempDir
from tests.websupport import request


def staticTree(testCase):
    """
    A served directory with dotfiles, links in and out of it, and a file
    outside it, as C{(outside, root)} L{FilePath}s.
    """
    outside = FilePath(tempDir(testCase))
    outside.child("private.txt").setContent(b"private")
    outside.child("elsewhere").makedirs()
    outside.child("elsewhere").child("index.html").setContent(b"private index")
    root = outside.child("www")
    root.makedirs()
    root.child("page.txt").setContent(b"page")
    root.child(".env").setContent(b"SECRET=1")
    root.child(".git").makedirs()
    root.child(".git").child("config").setContent(b"[core]")
    root.child("sub").makedirs()
    root.child("sub").child(".hidden").setContent(b"hidden")
    root.child("sub").child("index.html").setContent(b"sub index")
    os.symlink(outside.child("private.txt").path, root.child("out.txt").path)
    os.symlink(outside.child("elsewhere").path, root.child("outdir").path)
    os.symlink(root.child("page.txt").path, root.child("in.txt").path)
    os.symlink("sub", root.child("insub").path)
    root.child("linked").makedirs()
    os.symlink(outside.child("elsewhere").child("index.html").path,
               root.child("linked").child("index.html").path)
    return outside, root


class HiddenTests(SynchronousTestCase):
    """
    Dotfiles and links out of the root are not found unless allowed.
    """

    def setUp(self):
        self.outside, self.root = staticTree(self)

    def codes(self, resource, *paths):
        return {path: request(resource, path=path).code for path in paths}

    def assertBodies(self, resource, expected):
        """Each path of C{expected} answers 200 with its body."""
        self.assertEqual({path: request(resource, path=path).body for path in expected},
                         expected)
        self.assertEqual(self.codes(resource, *expected), dict.fromkeys(expected, 200))

    def test_plainFiles(self):
        """Ordinary files, index files and links inside the root are served."""
        self.assertBodies(StaticFiles(self.root.path), {
            b"/page.txt": b"page", b"/sub/": b"sub index", b"/in.txt": b"page",
            b"/insub/index.html": b"sub index"})

    def test_dotfiles(self):
        """No path segment starting with a dot is served, at any depth."""
        paths = [b"/.env", b"/.git/config", b"/sub/.hidden", b"/%2eenv", b"/.git/"]
        self.assertEqual(self.codes(StaticFiles(self.root.path), *paths),
                         dict.fromkeys(paths, 404))

    def test_wellKnown(self):
        """The top-level .well-known is public (RFC 8615); dotfiles in it and deeper ones are not."""
        wellKnown = self.root.child(".well-known")
        wellKnown.child("acme-challenge").makedirs()
        wellKnown.child("acme-challenge").child("token").setContent(b"proof")
        wellKnown.child(".secret").setContent(b"secret")
        self.root.child("sub").child(".well-known").makedirs()
        self.root.child("sub").child(".well-known").child("x").setContent(b"x")
        resource = StaticFiles(self.root.path)
        self.assertBodies(resource, {b"/.well-known/acme-challenge/token": b"proof"})
        paths = [b"/.well-known/.secret", b"/sub/.well-known/x"]
        self.assertEqual(self.codes(resource, *paths), dict.fromkeys(paths, 404))

    def test_dotfilesAllowed(self):
        """With dotfiles=True they are served; .. still is not."""
        resource = StaticFiles(self.root.path, dotfiles=True)
        self.assertBodies(resource, {b"/.env": b"SECRET=1", b"/sub/.hidden": b"hidden",
                                     b"/.git/config": b"[core]"})
        self.assertEqual(request(resource, path=b"/sub/../../private.txt").code, 404)

    def test_symlinksOut(self):
        """Links leading out of the root, to files, directories or index files, are 404."""
        paths = [b"/out.txt", b"/outdir/index.html", b"/outdir/", b"/linked/"]
        self.assertEqual(self.codes(StaticFiles(self.root.path), *paths),
                         dict.fromkeys(paths, 404))

    def test_symlinksOutAllowed(self):
        """With followSymlinks=True links out of the root are followed."""
        self.assertBodies(StaticFiles(self.root.path, followSymlinks=True), {
            b"/out.txt": b"private", b"/outdir/": b"private index",
            b"/linked/": b"private index"})

    def test_rootIsLink(self):
        """A root reached through a link still serves what lies inside its target."""
        link = self.outside.child("www-link")
        os.symlink(self.root.path, link.path)
        resource = StaticFiles(link.path)
        self.assertEqual(request(resource, path=b"/page.txt").body, b"page")
        self.assertEqual(request(resource, path=b"/out.txt").code, 404)

    def test_persists(self):
        """The choices survive a pickle round trip and reach children."""
        resource = pickle.loads(pickle.dumps(
            StaticFiles(self.root.path, dotfiles=True, followSymlinks=True)))
        self.assertEqual((resource.dotfiles, resource.followSymlinks), (True, True))
        self.assertBodies(resource, {b"/sub/.hidden": b"hidden",
                                     b"/outdir/": b"private index"})


class BadSegmentTests(SynchronousTestCase):
    """
    Segments the file system cannot name are not found, never a 500.
    """

    PATHS = [b"/x%00", b"/page.txt%00", b"/sub/x%00", b"/x%00/y", b"/%00", b"/x%ff"]

    def setUp(self):
        self.outside, self.root = staticTree(self)
        self.events = captureLog(self)

    def assertNotFound(self, resource, prefix=b""):
        for path in self.PATHS:
            answer = request(resource, path=prefix + path)
            self.assertEqual(answer.code, 404, path)
        self.assertEqual([e for e in self.events if e.get("log_failure")], [])

    def test_nul(self):
        """A NUL byte (or non-UTF-8) in a segment of --static's directory is 404, not logged."""
        self.assertNotFound(StaticFiles(self.root.path))

    def test_nulMounted(self):
        """A NUL byte under an app's /static/ is 404."""
        router = Router()
        router.mount("static", StaticFiles(self.root.path))
        self.assertNotFound(AppResource(router), b"/static")


class IsInsideTests(SynchronousTestCase):
    """
    Whether a path lies in a directory, links resolved.
    """

    def test_inside(self):
        """A directory holds itself, its files and deeper files, even not yet made."""
        outside, root = staticTree(self)
        self.assertTrue(isInside(root.path, root.path))
        self.assertTrue(isInside(root.child("page.txt").path, root.path))
        self.assertTrue(isInside(root.child("new").child("x.db").path, root.path))

    def test_outside(self):
        """Siblings, parents and names sharing a prefix are outside."""
        outside, root = staticTree(self)
        self.assertFalse(isInside(outside.path, root.path))
        self.assertFalse(isInside(outside.child("www2").path, root.path))
        self.assertFalse(isInside(outside.child("private.txt").path, root.path))

    def test_links(self):
        """Links are resolved on both sides."""
        outside, root = staticTree(self)
        self.assertFalse(isInside(root.child("out.txt").path, root.path))
        link = outside.child("www-link")
        os.symlink(root.path, link.path)
        self.assertTrue(isInside(root.child("page.txt").path, link.path))
