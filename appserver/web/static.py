"""
Static files: a L{File} that never lists directories.

Path segments reach it unquoted, one at a time; C{..}, C{.} and segments
holding a slash (an encoded C{%2f}) are refused by L{FilePath.child}, so
nothing outside the directory is served; these, missing files and
directories without an index file are all 404.
"""

from twisted.web import resource
from twisted.web.static import File

__all__ = ["StaticFiles"]


class StaticFiles(File):
    """
    Serve the files under a directory; directories only through their
    C{index.html}.
    """

    def directoryListing(self):
        """
        No listings: a directory without an index file is not found.
        """
        return resource.NoResource()

    def createSimilarFile(self, path):
        """
        Children are L{StaticFiles} too, so listings stay off below.
        """
        similar = StaticFiles(path, self.defaultType, self.ignoredExts, self.registry)
        similar.processors = self.processors
        similar.indexNames = self.indexNames[:]
        similar.childNotFound = self.childNotFound
        return similar
