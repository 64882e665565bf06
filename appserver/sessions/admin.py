"""
C{appserver-sessions}: the operator's hand on a session store (OWASP ASVS
5.0 7.4.5): list a user's sessions, end them, or end everyone's.

    appserver-sessions --sessions redis://127.0.0.1:34343/0 list --user alice
    appserver-sessions --sessions file:/var/lib/myapp/sessions revoke --user alice
    appserver-sessions --sessions redis://127.0.0.1:34343/0 revoke --all

C{--sessions} takes what web-app's does, but C{memory} lives inside the
web-app process: give that process a C{--session-port} and use its
C{redis://} URL here. Exit codes: 0 done, 1 the store failed, 2 a usage
error.
"""

import sys
import time
from typing import Any, TextIO

from twisted.internet import defer, task
from twisted.python import usage

from appserver.sessions.stores import RedisSessionStore, checkStoreSpec, storeFromSpec
from appserver.sessions.users import SessionInfo, UserSessions

__all__ = ["Options", "main", "act"]

_PROGRAM = "appserver-sessions"


class ListOptions(usage.Options):
    """
    C{list --user NAME}: a user's live sessions.
    """

    optParameters = [["user", None, None, "The user whose sessions to list."]]

    def postOptions(self) -> None:
        """
        Require C{--user}.
        """
        if not self["user"]:
            raise usage.UsageError("Say whose sessions to list: list --user NAME.")


class RevokeOptions(usage.Options):
    """
    C{revoke (--user NAME ... | --all)}: end sessions.
    """

    optFlags = [["all", None, "End every session of every user (and anonymous ones)."]]

    def __init__(self) -> None:
        usage.Options.__init__(self)
        self["users"] = []

    def opt_user(self, name: str) -> None:
        """
        End every session of this user (repeatable).
        """
        self["users"].append(name)

    def postOptions(self) -> None:
        """
        Require C{--user} or C{--all}, not both.
        """
        if self["all"] and self["users"]:
            raise usage.UsageError("--all ends everyone's sessions; drop --user.")
        if not (self["all"] or self["users"]):
            raise usage.UsageError("Say whose sessions to end: --user NAME (repeatable) "
                                   "or --all.")


class Options(usage.Options):
    """
    C{appserver-sessions --sessions SPEC COMMAND}.
    """

    synopsis = (f"Usage: {_PROGRAM} --sessions SPEC (list --user NAME | "
                "revoke (--user NAME ... | --all))")
    optParameters = [["sessions", None, None, "The session store, as web-app's --sessions: "
                      "file:DIRECTORY or redis://[:password@]host[:port][/db]."]]
    subCommands = [["list", None, ListOptions, "List a user's live sessions."],
                   ["revoke", None, RevokeOptions, "End a user's sessions, or everyone's."]]

    def postOptions(self) -> None:
        """
        Check the store and that a command was given.
        """
        if not self["sessions"]:
            raise usage.UsageError("Say which store: --sessions file:DIRECTORY or "
                                   "--sessions redis://host:port/db.")
        try:
            self["sessions"] = checkStoreSpec(self["sessions"])
        except ValueError as e:
            raise usage.UsageError(f"Bad --sessions: {e}.") from None
        if self["sessions"] == "memory":
            raise usage.UsageError("--sessions memory lives inside the web-app process; give "
                                   "it a --session-port and use that redis:// URL here.")
        if self.subCommand is None:
            raise usage.UsageError("Say what to do: list or revoke.")


def _line(info: SessionInfo) -> str:
    def when(seconds):
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))

    return (f"{info.idHash}  created {when(info.created)}  last seen {when(info.lastSeen)}  "
            f"{info.address or '-'}  {info.userAgent or '-'}")


async def act(options: Options, store: Any, out: TextIO) -> None:
    """
    Do what C{options} say to the opened C{store}, reporting to C{out}.
    """
    # The operator ends what the index holds, however old: the web-app's
    # absolute timeout is not known here, and what it refuses costs nothing.
    users = UserSessions(store, float("inf"), time.time)
    command = options.subOptions
    if options.subCommand == "list":
        for info in await users.list(command["user"]):
            print(_line(info), file=out)
    elif command["all"]:
        print(f"Ended {await store.deleteAll()} sessions.", file=out)
    else:
        for user in command["users"]:
            print(f"Ended {await users.revokeAll(user)} sessions of {user}.", file=out)


async def _run(reactor: Any, options: Options) -> None:
    """
    Open the store C{options} name, act, close it; a store that fails is
    reported in one sentence, with exit code 1.
    """
    store = storeFromSpec(options["sessions"], clock=reactor, reactor=reactor)
    try:
        if isinstance(store, RedisSessionStore):
            store.checkNow()
        await store.open()
        try:
            await act(options, store, sys.stdout)
        finally:
            await store.close()
    except Exception as e:  # whatever the store raised: one line, not a traceback
        print(f"{_PROGRAM}: {str(e).rstrip('.')}.", file=sys.stderr)
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> None:
    """
    Run C{appserver-sessions} with C{argv} (default: the command line).
    """
    options = Options()
    try:
        options.parseOptions(sys.argv[1:] if argv is None else argv)
    except usage.UsageError as e:
        print(f"{_PROGRAM}: {e}\n{options.synopsis}", file=sys.stderr)
        raise SystemExit(2) from None
    task.react(lambda reactor: defer.ensureDeferred(_run(reactor, options)))


if __name__ == "__main__":
    main()
