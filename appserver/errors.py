"""
Errors that stop a command at start-up, and the root service that reports
them.

A service that cannot start raises L{services.errors.StartupError} with
one sentence for the operator: the reason, naming the offending value.
L{CommandService}, the root of a command's service tree, is the one place
that turns whatever its children raise while starting into that sentence,
and ends the process with it:

 - the children already started are stopped again, so that no pool thread
   keeps the process alive (C{twist}, which has no C{privilegedStartService}
   phase, would otherwise run on, listening on nothing);
 - the process exits with code 1 printing the sentence, no traceback,
   under C{twistd -n}, daemonized C{twistd} and C{twist}; the traceback of
   an error that is not worded for the operator goes to the log at debug
   level;
 - a daemonized C{twistd}'s parent, which reads only 100 bytes of the
   reason from its status pipe, is shown the whole sentence too: see
   L{CommandService}.
"""

import os
from typing import Any

from twisted.logger import Logger, LogLevel
from twisted.python.failure import Failure

from services.db.errors import DatabaseUnavailable
from services.errors import StartupError
from services.db.migrations import MigrationError
from services.persistence import PersistentMultiService
from services.sessionserver.journal import JournalUnavailable

__all__ = ["CommandService", "startupReason"]

_log = Logger()


# Errors whose message is already a sentence for the operator.
_WORDED = (StartupError, DatabaseUnavailable, MigrationError, JournalUnavailable, ValueError,
           OSError)


def startupReason(error: BaseException) -> str:
    """
    The reason C{error} gives for a failed start, in one line: its message,
    preceded by its type's name unless it is one of the errors worded for
    the operator.
    """
    message = " ".join(str(error).split())
    if isinstance(error, _WORDED) and message:
        return message
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


class _LaunchStream:
    """
    A duplicate of the standard error the command was launched with.

    twistd detaches a daemon (pointing its standard error at C{/dev/null})
    after the service tree is built or loaded and before starting it, and
    its waiting parent prints only the first 100 bytes of the reason. Held
    from the tree's creation until start-up ends, this lets the daemon
    write the whole sentence where the operator looks.

    @ivar fd: the duplicate descriptor, or L{None}.
    @ivar holders: how many roots hold it: an application C{mktap --append}
        made has one per command, and the last to start may fail.
    """

    fd = None
    holders = 0

    def hold(self):
        """
        Count one more holder, and duplicate descriptor 2 unless already
        held.
        """
        self.holders += 1
        if self.fd is None:
            try:
                self.fd = os.dup(2)
            except OSError:
                self.fd = None

    def release(self):
        """
        One holder's start-up is over; once every holder's is, close the
        duplicate, so that the daemon keeps no handle on the launching
        terminal or pipe.
        """
        self.holders = max(self.holders - 1, 0)
        fd = self.fd
        if fd is not None and not self.holders:
            self.fd = None
            os.close(fd)

    def tell(self, sentence):
        """
        Write C{sentence} to the launching standard error if this process
        no longer writes there itself (it was daemonized).

        @return: whether it was written.
        """
        if self.fd is None:
            return False
        try:
            if os.path.samestat(os.fstat(self.fd), os.fstat(2)):
                return False
            os.write(self.fd, sentence.encode("utf-8", "backslashreplace") + b"\n")
        except OSError:
            return False
        return True


_launchStream = _LaunchStream()


class CommandService(PersistentMultiService):
    """
    The root of a command's service tree: it starts its children in order
    and, if one fails, reports the failure once; see the module docstring.

    Building or unpickling one holds a duplicate of the launching standard
    error (see L{_LaunchStream}) until start-up ends: this is the last
    moment before twistd detaches a daemon at which our code runs.
    """

    def __init__(self) -> None:
        PersistentMultiService.__init__(self)
        _launchStream.hold()

    def __setstate__(self, state: dict[str, Any]) -> None:
        PersistentMultiService.__setstate__(self, state)
        _launchStream.hold()

    def privilegedStartService(self) -> None:
        """
        Bind ports and load what must be loaded before twistd drops
        privileges; a failure ends start-up with its sentence.
        """
        try:
            PersistentMultiService.privilegedStartService(self)
        except Exception as e:
            failure = self._failed(e)
            _launchStream.release()
            raise failure from e

    def startService(self) -> None:
        """
        Start every child in order; a failure stops those already running
        and ends start-up with its sentence.
        """
        try:
            PersistentMultiService.startService(self)
        except Exception as e:
            self._stopStarted()
            raise self._failed(e) from e
        finally:
            _launchStream.release()

    def _stopStarted(self):
        self.running = 0
        for child in reversed(list(self)):
            if child.running:
                try:
                    child.stopService()
                except Exception:
                    _log.failure("Stopping {child} after a failed start", child=child.name,
                                 level=LogLevel.debug)

    def _failed(self, error):
        """
        The L{StartupError} that ends the command for C{error}, told in
        full to a daemon's parent.
        """
        if not isinstance(error, _WORDED):
            _log.failure("{name} failed to start", Failure(error), LogLevel.debug,
                         name=self.name)
        failure = StartupError(f"{self.name} cannot start: {startupReason(error)}")
        if _launchStream.tell(str(failure)) and hasattr(failure, "add_note"):
            # twistd passes the exception's last line to the waiting parent.
            # Python 3.10 has no notes: there the parent shows the sentence
            # twice, whole above and cut to 100 bytes by twistd.
            failure.add_note(f"{self.name} did not start; the reason is printed above.")
        return failure
