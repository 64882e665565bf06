"""
The option reference of twistd commands, in Markdown, made from their
C{Options} classes (found through the plugin system, as twistd finds them):
every option with its short form, default, environment variables and
meaning.

C{python -m appserver.optionsdoc > docs/options.md} rewrites this project's
reference (the test suite fails while it is out of date); give command names
to describe others, such as a plugin of yours.
"""

import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins
from twisted.python import reflect, usage

from appserver.config import COMMANDS

__all__ = ["serviceMakers", "commandSection", "reference", "main"]

_HEADER = """\
# Option reference

Generated from the commands' `Options` classes by `python -m
appserver.optionsdoc > docs/options.md`; do not edit by hand. Every value can
also come from a `--config` YAML file (keys are the long option names) or
from the environment variables shown, the first one listed taking precedence
(see "Configuration" in the README). `twistd COMMAND --help` prints the same.
"""


def serviceMakers(names: Iterable[str]) -> list[Any]:
    """
    The twistd service makers (plugins) of the commands C{names}.

    @raise usage.UsageError: naming the commands no plugin provides.
    """
    import twisted.plugins

    makers = {maker.tapname: maker for maker in getPlugins(IServiceMaker, twisted.plugins)}
    missing = [name for name in names if name not in makers]
    if missing:
        raise usage.UsageError(f"No twistd command named {', '.join(missing)}.")
    return [makers[name] for name in names]


def _cell(text):
    return re.sub(r"\s+", " ", str(text)).strip().replace("|", "\\|")


def _declared(options):
    """
    The long option names in declaration order: repeatable, parameters,
    flags, then options made by C{opt_*} methods.
    """
    rows = [row[0] for row in getattr(options, "_repeatables", list)()]
    for attribute in ("optParameters", "optFlags"):
        found = []
        reflect.accumulateClassList(type(options), attribute, found)
        rows.extend(row[0] for row in found)
    rest = sorted(set(options.synonyms.values()) - set(rows) - {"help", "version"})
    return [name for name in dict.fromkeys(rows + rest) if name not in ("help", "version")]


def _default(options, name):
    repeatable = {row[0]: row[2] for row in getattr(options, "_repeatables", list)()}
    if name in repeatable:
        return ", ".join(f"`{value}`" for value in repeatable[name]) or "none"
    if name + "=" not in options.longOpt:
        return "off"
    value = options.defaults.get(name)
    return "none" if value is None else f"`{value}`"


def _meaning(options, name):
    doc = re.sub(r"\s*\[default: [^\]]*\]", "", options.docs.get(name) or "").strip()
    if doc and not doc.endswith("."):
        doc += "."
    coerceDoc = getattr(options._dispatch.get(name), "doc", "")
    repeatable = {row[0]: row[4] for row in getattr(options, "_repeatables", list)()}
    if name in repeatable:
        coerceDoc = getattr(repeatable[name], "coerceDoc", "")
    return " ".join(part for part in (doc, coerceDoc) if part)


def _names(options, name):
    shorts = sorted(short for short, long in options.synonyms.items()
                    if long == name and len(short) == 1)
    return ", ".join([f"`--{name}`"] + [f"`-{short}`" for short in shorts])


def _variables(options, name):
    variables = getattr(options, "variables", lambda name: [])(name)
    return ", ".join(f"`{variable}`" for variable in reversed(variables))


def commandSection(maker: Any) -> str:
    """
    The Markdown section describing one command's options.
    """
    options = maker.options()
    lines = [f"## `twistd {maker.tapname}`", "", _cell(maker.description)]
    if getattr(options, "longdesc", ""):
        lines += ["", _cell(options.longdesc)]
    lines += ["", "| Option | Default | Environment | Meaning |", "|---|---|---|---|"]
    for name in _declared(options):
        lines.append(f"| {_names(options, name)} | {_cell(_default(options, name))} | "
                     f"{_variables(options, name)} | {_cell(_meaning(options, name))} |")
    return "\n".join(lines) + "\n"


def reference(names: Iterable[str] = COMMANDS) -> str:
    """
    The whole reference for the commands C{names}, as Markdown text.
    """
    return "\n".join([_HEADER] + [commandSection(maker) for maker in serviceMakers(names)])


def main(argv: Sequence[str] | None = None) -> int:
    """
    Print the reference of the commands named in C{argv} (default: ours).
    """
    names = list(sys.argv[1:] if argv is None else argv) or list(COMMANDS)
    try:
        sys.stdout.write(reference(names))
    except usage.UsageError as e:
        print(f"optionsdoc: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
