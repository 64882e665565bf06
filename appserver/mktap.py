"""
C{mktap}: build the application C{twistd COMMAND ...} would run, and save it.

The saved file runs later with C{twistd -f FILE.tap} (pickle) or C{twistd -s
FILE.tas} (AOT source). A C{.tap} is a pickle: loading one runs whatever code
it names, so only load files from a trusted source.
"""

import os
import pickle
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from twisted.application import service
from twisted.persisted import aot, sob
from twisted.plugin import getPlugins
from twisted.python import usage
from twisted.python.util import gidFromString, uidFromString

from appserver.persisted import makePrivate
from services.persistence import PersistentMultiService

__all__ = ["MktapOptions", "buildApplication", "saveApplication", "main"]

EXTENSIONS = {"pickle": "tap", "source": "tas"}

SECURITY_NOTE = (
    "A .tap file is a Python pickle and a .tas file is Python source: loading "
    "either runs the code it names, so only load files from a trusted source. "
    "Files are written with mode 0600 because they can carry secrets, and so "
    "is the -shutdown file twistd saves from them."
)


def serviceMakers() -> list[Any]:
    """
    The installed tap commands, one per name, sorted by name.
    """
    makers: dict[str, Any] = {}
    for maker in getPlugins(service.IServiceMaker):
        makers.setdefault(maker.tapname, maker)
    return [makers[name] for name in sorted(makers)]


def _subCommands():
    for maker in serviceMakers():
        # Import a command's module only when that command is used.
        yield maker.tapname, None, lambda maker=maker: maker.options(), maker.description


def _uid(value):
    try:
        return uidFromString(value)
    except KeyError:
        raise ValueError(f"no such user: {value}") from None


def _gid(value):
    try:
        return gidFromString(value)
    except KeyError:
        raise ValueError(f"no such group: {value}") from None


def _style(value):
    if value not in EXTENSIONS:
        raise ValueError(f"--type must be pickle or source, not {value!r}")
    return value


class MktapOptions(usage.Options):
    """
    Options of the C{mktap} command itself; the command's own options follow
    its name.
    """

    synopsis = "Usage: mktap [options]"
    longdesc = (
        "mktap [--type pickle|source] [--output FILE] [--append FILE] "
        "[--uid UID --gid GID] COMMAND [command options]\n\n"
        "Build the application that 'twistd COMMAND ...' would run and save "
        "it, without running anything: COMMAND.tap (pickle, run it with "
        "'twistd -f') or, with --type source, COMMAND.tas (run it with "
        "'twistd -s'). " + SECURITY_NOTE
    )
    optParameters = [
        ["type", "t", None,
         "Output format: pickle (.tap) or source (.tas). [default: the style "
         "of the --output or --append file name, else pickle]", _style],
        ["output", "o", None, "Write to FILE instead of COMMAND.tap/.tas."],
        ["append", "a", None, "Add the command's services to an existing .tap/.tas file."],
        ["uid", "u", None, "User to run as (name or number), kept in the file.", _uid],
        ["gid", "g", None, "Group to run as (name or number), kept in the file.", _gid],
    ]

    @property
    def subCommands(self):
        return list(_subCommands())

    def postOptions(self):
        """
        Pick the output file name and check --append's file exists.
        """
        if self.subCommand is None:
            return
        if self["append"] and not os.path.exists(self["append"]):
            raise usage.UsageError(f"Cannot append to {self['append']}: no such file.")
        named = self["output"] or self["append"]
        if self["type"] is None:
            self["type"] = styleOf(named) if named else "pickle"
        if self["output"] is None:
            self["output"] = self["append"] or (
                f"{self.subCommand}.{EXTENSIONS[self['type']]}")


def styleOf(path: str, default: str = "pickle") -> str:
    """
    The persistence style a file name implies: C{.tas} is source, C{.tap}
    is pickle, anything else C{default}.
    """
    extension = os.path.splitext(path)[1]
    return {".tas": "source", ".tap": "pickle"}.get(extension, default)


def newApplication(name: str, uid: int | None = None, gid: int | None = None) -> Any:
    """
    A fresh L{service.Application} whose root service is safe to write as
    AOT source and whose saves are private (see L{makePrivate}).
    """
    application = service.Application(name, uid, gid)
    root = PersistentMultiService()
    root.setName(name)
    application.addComponent(root, ignoreClass=True)
    makePrivate(application)
    return application


def loadApplication(path: str) -> Any:
    """
    Load an application saved by mktap or twistd.

    @raise usage.UsageError: if the file cannot be read or loaded.
    """
    try:
        return sob.load(path, styleOf(path))
    except Exception as e:
        raise usage.UsageError(f"Cannot load application from {path}: {e}.") from None


def buildApplication(config):
    """
    Build the application for parsed L{MktapOptions}: the command's service
    tree, added to the C{--append} file's application or to a new one.
    """
    maker = {m.tapname: m for m in serviceMakers()}[config.subCommand]
    if config["append"]:
        application = loadApplication(config["append"])
        makePrivate(application)
    else:
        application = newApplication(config.subCommand, config["uid"], config["gid"])
    process = service.IProcess(application)
    if config["uid"] is not None:
        process.uid = config["uid"]
    if config["gid"] is not None:
        process.gid = config["gid"]
    tree = maker.makeService(config.subOptions)
    collection = service.IServiceCollection(application)
    tree.setName(_freeName(collection, tree.name or config.subCommand))
    tree.setServiceParent(collection)
    return application


def _freeName(collection, name):
    """
    C{name}, or C{name-2}, C{name-3}... if a service of C{collection}
    already has it (appending a second QOTD server, say).
    """
    taken = {child.name for child in collection}
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def serialize(application: Any, style: str) -> bytes:
    """
    The bytes of C{application} saved in C{style} (pickle or source).
    """
    if style == "source":
        return aot.jellyToSource(application).encode("utf-8")
    return pickle.dumps(application, protocol=pickle.HIGHEST_PROTOCOL)


def saveApplication(application, path, style):
    """
    Write C{application} to C{path} atomically (a temporary file in the same
    directory, then a rename) with mode 0600, and make twistd's shutdown save
    use the same style.
    """
    sob.IPersistable(application).setStyle(style)
    data = serialize(application, style)
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".mktap-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """
    The C{mktap} console script.
    """
    config = MktapOptions()
    try:
        config.parseOptions(sys.argv[1:] if argv is None else argv)
        if config.subCommand is None:
            print(config)
            return 0
        application = buildApplication(config)
        saveApplication(application, config["output"], config["type"])
    except usage.UsageError as e:
        print(f"mktap: {e}", file=sys.stderr)
        print("Run 'mktap --help' or 'mktap COMMAND --help' for usage.", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"mktap: cannot write {e.filename or config['output']}: {e.strerror}.",
              file=sys.stderr)
        return 1
    print(f"Wrote {config['output']} ({config['type']}); run it with "
          f"'twistd -n {'-s' if config['type'] == 'source' else '-f'} {config['output']}'.")
    return 0
