"""
C{appserver-check-journal}: what C{redis-check-aof} is to Redis, for the
session server's journal.

It reads a journal as the server does at start-up and says whether it is
good, ends in a torn record (which the server cuts off by itself) or is
corrupt at some byte (which stops the server from starting). With
C{--fix}, it copies the file to a backup first, then cuts it at the end of
the last good record, so the server starts with everything before it.
Stop the server before fixing its journal.
"""

import os
import shutil
import sys
from dataclasses import dataclass
from typing import TextIO

from twisted.python import usage

from services.sessionserver.journalfile import CorruptJournal, JournalReader

__all__ = ["Options", "Report", "check", "fix", "main"]


class Options(usage.Options):
    """
    The command line: C{appserver-check-journal [--fix] JOURNAL}.
    """

    synopsis = "Usage: appserver-check-journal [--fix] JOURNAL"
    longdesc = ("Check a session server journal (--journal FILE); with --fix, keep a "
                "backup copy (JOURNAL.bak) and cut the journal at its first bad record.")
    optFlags = [["fix", None, "Cut the journal at its first bad record, after copying "
                              "it to JOURNAL.bak (or JOURNAL.bak.N if that exists)."]]

    def parseArgs(self, path):
        """
        The journal to check.
        """
        self["path"] = path


@dataclass(frozen=True)
class Report:
    """
    What a journal holds.

    @ivar records: how many good records come first.
    @ivar end: the offset just after the last good record.
    @ivar size: the file's size.
    @ivar problem: what is wrong at C{end}, or L{None} if nothing is.
    """

    records: int
    end: int
    size: int
    problem: str | None = None

    def describe(self, path: str) -> str:
        """
        One sentence about the journal at C{path}.
        """
        if self.problem is None:
            return f"{path}: {self.records} good records, {self.size} bytes; nothing to fix."
        return (f"{path}: {self.records} good records up to byte {self.end}, then "
                f"{self.problem}; {self.size - self.end} bytes from there to the end.")


def check(path: str) -> Report:
    """
    Read the journal at C{path} and return its L{Report}.

    @raise OSError: if it cannot be read.
    """
    records = 0
    with open(path, "rb") as f:
        reader = JournalReader(f)
        try:
            for _record in reader:
                records += 1
        except CorruptJournal as e:
            return Report(records, e.offset, os.fstat(f.fileno()).st_size,
                          f"corruption at byte {e.offset} ({e.reason})")
        size = os.fstat(f.fileno()).st_size
    if reader.torn:
        return Report(records, reader.end, size,
                      f"a torn record at byte {reader.end} (cut short by the end of the file)")
    return Report(records, reader.end, size)


def fix(path: str, report: Report) -> str:
    """
    Copy C{path} to a backup that does not exist yet, then cut C{path} at
    C{report.end}; return the backup's path.
    """
    backup, number = path + ".bak", 0
    while os.path.exists(backup):
        number += 1
        backup = f"{path}.bak.{number}"
    shutil.copy2(path, backup)
    with open(path, "r+b") as f:
        f.truncate(report.end)
        os.fsync(f.fileno())
    return backup


def main(argv: list[str] | None = None, stdout: TextIO | None = None) -> None:
    """
    Run the command; exit 0 if the journal is good or was fixed, 1 if it
    needs fixing, 2 if it cannot be checked.
    """
    stdout = stdout or sys.stdout
    options = Options()
    try:
        options.parseOptions(sys.argv[1:] if argv is None else argv)
    except usage.UsageError as e:
        _cannotCheck(f"{options}\nappserver-check-journal: {e}")
    path = options["path"]
    try:
        report = check(path)
    except OSError as e:
        _cannotCheck(f"appserver-check-journal: cannot read {path}: {e.strerror or e}.")
    print(report.describe(path), file=stdout)
    if report.problem is None:
        return
    if not options["fix"]:
        print(f"Run 'appserver-check-journal --fix {path}' (server stopped) to cut it "
              f"at byte {report.end}; a backup copy is kept.", file=stdout)
        sys.exit(1)
    backup = fix(path, report)
    print(f"Copied {path} to {backup}, then cut {path} at byte {report.end}: "
          f"{report.records} records kept, {report.size - report.end} bytes removed.",
          file=stdout)


def _cannotCheck(message):
    print(message, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main()
