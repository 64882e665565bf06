"""
Regenerate Twisted's plugin cache (C{dropin.cache}) for this environment.

Twisted rewrites C{twisted/plugins/dropin.cache} whenever a drop-in looks
newer than the cache. Run by a user who cannot write there, every C{twistd}
call then logs "Unable to write to plugin cache"; after an upgrade that keeps
old file times, the cache can name commands that are gone. Running this
module right after installing or upgrading, as the user who owns the
environment (C{python -m appserver.plugincache}), removes the old caches and
writes fresh ones, so neither happens. C{make run} and C{make test} do it.
"""

import os
import sys
from collections.abc import Iterable

from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins
from twisted.plugins import __path__ as pluginDirectories

__all__ = ["regenerate", "main"]


def regenerate(directories: Iterable[str] | None = None) -> list[str]:
    """
    Remove the C{dropin.cache} of each writable plugin directory and let
    Twisted write it again.

    @return: the tap names found, sorted.
    """
    for directory in directories if directories is not None else pluginDirectories:
        cache = os.path.join(directory, "dropin.cache")
        if os.path.exists(cache) and os.access(directory, os.W_OK):
            os.unlink(cache)
    import twisted.plugins

    return sorted({maker.tapname for maker in getPlugins(IServiceMaker, twisted.plugins)})


def main() -> int:
    """
    Regenerate the caches and print the tap commands found.
    """
    names = regenerate()
    print("Plugin cache regenerated; tap commands: " + ", ".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
