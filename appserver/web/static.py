"""
Static files: a L{File} that never lists directories and, unless told
otherwise, never serves dotfiles nor follows a link out of its directory.

Path segments reach it unquoted, one at a time; C{..}, C{.} and segments
holding a slash (an encoded C{%2f}) are refused by L{FilePath.child}, so
nothing outside the directory is served; these, missing files, directories
without an index file, segments starting with a dot (C{.env}, C{.git};
but the top-level C{.well-known}, public by RFC 8615), links whose target
lies outside the served directory, and segments the file system cannot
name (a NUL byte, bytes that are not UTF-8) are all 404.
"""

import os
from collections.abc import Iterable

from twisted.web import resource
from twisted.web.static import File

__all__ = ["StaticFiles", "isInside", "checkNotServed"]


def isInside(path: str, directory: str) -> bool:
    """
    Whether C{path} (which need not exist) is C{directory} or lies below
    it, once both are resolved through their symbolic links.
    """
    path, directory = os.path.realpath(path), os.path.realpath(directory)
    return os.path.commonpath([path, directory]) == directory


def checkNotServed(directories: Iterable[tuple[str, str]],
                   files: Iterable[tuple[str, str, str]]) -> None:
    """
    Refuse files of data or secrets that a served directory would hold.

    @param directories: C{(directory, how)} pairs: a directory served and
        what serves it (C{"--static"}).
    @param files: C{(what, path, option)} triples: a file or directory of
        data or secrets (which need not exist yet), what it is (C{"the
        database"}) and the option that puts it elsewhere.
    @raise ValueError: with one sentence naming the first served directory
        that holds any of C{files}, those files and their options.
    """
    for directory, how in directories:
        held = [(what, path, option) for what, path, option in files
                if isInside(path, directory)]
        if held:
            listed = " and ".join(f"{what} {os.path.realpath(path)}" for what, path, _ in held)
            options = " and ".join(dict.fromkeys(option for _, _, option in held))
            raise ValueError(
                f"{os.path.realpath(directory)} is served ({how}), so it must not hold "
                f"{listed}: give {options} {'a path' if len(held) == 1 else 'paths'} "
                "outside it")


def _unnameable(segment):
    if b"\0" in segment:
        return True
    try:
        segment.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


class StaticFiles(File):
    """
    Serve the files under a directory; directories only through their
    C{index.html}.

    @ivar dotfiles: whether names starting with a dot are served.
    @ivar followSymlinks: whether links leading out of C{root} are followed
        (links within it always are).
    @ivar root: the served directory, which links must stay in; L{None}
        for the directory itself.
    """

    dotfiles = False
    followSymlinks = False
    root = None

    def __init__(self, path, *args, dotfiles=False, followSymlinks=False, root=None,
                 **kwargs):
        File.__init__(self, path, *args, **kwargs)
        self.dotfiles = dotfiles
        self.followSymlinks = followSymlinks
        self.root = root

    def getChild(self, path, request):
        """
        The child named C{path}, or not found if it is a dotfile, a link out
        of the served directory or a name no file can have.
        """
        if _unnameable(path) or self._hidden(path):
            return self.childNotFound
        child = File.getChild(self, path, request)
        if isinstance(child, StaticFiles) and self._escapes(child):
            return self.childNotFound
        return child

    def _hidden(self, segment):
        """
        Whether C{segment} names a dotfile we must not serve; the served
        directory's own C{.well-known} (RFC 8615: public by definition, as
        ACME challenges need) is not hidden.
        """
        if self.dotfiles or not segment.startswith(b"."):
            return False
        return not (segment == b".well-known" and self.root is None)

    def _escapes(self, child):
        """
        Whether C{child} is a link we must not follow out of the root (only
        links are resolved: a path below an accepted one stays inside).
        """
        if self.followSymlinks or not child.islink():
            return False
        return not isInside(child.path, self.root or self.path)

    def directoryListing(self):
        """
        No listings: a directory without an index file is not found.
        """
        return resource.NoResource()

    def createSimilarFile(self, path):
        """
        Children are L{StaticFiles} too, with the same choices and root.
        """
        similar = StaticFiles(path, self.defaultType, self.ignoredExts, self.registry,
                              dotfiles=self.dotfiles, followSymlinks=self.followSymlinks,
                              root=self.root or self.path)
        similar.processors = self.processors
        similar.indexNames = self.indexNames[:]
        similar.childNotFound = self.childNotFound
        return similar
