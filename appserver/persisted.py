"""
An application whose saves are private.

Saved applications hold configuration and session data (secrets, the
memory store's sessions): L{PrivatePersistent} is the application's
L{sob.IPersistable} that writes them (twistd's C{-shutdown.tap}/C{.tas}
included) with mode 0600 whatever the umask. The services' own persistence
contract is L{services.persistence}.
"""

from typing import Any

from twisted.persisted import sob

from services.persistence import createPrivately

__all__ = ["PrivatePersistent", "makePrivate"]


class PrivatePersistent(sob.Persistent):
    """
    An application's L{sob.IPersistable} whose saves, twistd's shutdown
    save included, are files of mode 0600.
    """

    def _saveTemp(self, filename, dumpFunc):
        # sob.Persistent.save writes here, then renames over the final name.
        with createPrivately(filename) as f:
            dumpFunc(self.original, f)


def makePrivate(application: Any) -> None:
    """
    Make C{application} save itself with L{PrivatePersistent}, keeping its
    name and style.
    """
    current = sob.IPersistable(application)
    if not isinstance(current, PrivatePersistent):
        private = PrivatePersistent(application, current.name)
        private.setStyle(current.style)
        application.setComponent(sob.IPersistable, private)
