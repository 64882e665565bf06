"""
Layered configuration shared by every command of ours.

Values come, lowest first, from: the option defaults; a YAML file given with
C{--config FILE} (or C{APPSERVER_<COMMAND>_CONFIG}, or C{APPSERVER_CONFIG}),
whose keys are the long option names; environment variables
C{APPSERVER_<OPTION>} (upper case, dashes as underscores), which every command
reads; this command's own variables C{APPSERVER_<COMMAND>_<OPTION>} (such as
C{APPSERVER_WEB_APP_PORT}), which take precedence; and the command line.
Repeatable options take a YAML list, or a comma-separated environment value; a
layer that sets one replaces the lower layers' list rather than adding to it.

A generic variable that is also another command's own variable belongs to
that command: C{APPSERVER_QOTD_PORT} is C{twistd qotd}'s C{--port}, so
C{web-app}'s C{--qotd-port} reads only C{APPSERVER_WEB_APP_QOTD_PORT}.

Every mistake is reported as one sentence through L{usage.UsageError}, naming
the option (or the variable, or the file's key) and the value.
"""

import getopt
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import yaml
from twisted.python import reflect, usage, util

__all__ = ["LayeredOptions", "COMMANDS", "positiveInt", "nonNegativeInt", "byteSize",
           "choice", "commandLineValues"]

ENVIRONMENT_PREFIX = "APPSERVER_"

COMMANDS = ("web-app", "session-server", "qotd")
"""
The twistd commands this package installs (the drop-in's tap names): each
owns the variables C{APPSERVER_<COMMAND>_*}.
"""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _integerAtLeast(value, lowest, what):
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < lowest:
        raise ValueError(f"{value!r} is not {what}")
    return number


def positiveInt(value: object) -> int:
    """
    Coerce an option value to an integer greater than zero.
    """
    return _integerAtLeast(value, 1, "a positive integer")


positiveInt.coerceDoc = "A positive integer."  # type: ignore[attr-defined]


def nonNegativeInt(value: object) -> int:
    """
    Coerce an option value to an integer, zero or more.
    """
    return _integerAtLeast(value, 0, "a whole number (0 or more)")


nonNegativeInt.coerceDoc = "A whole number, 0 or more."  # type: ignore[attr-defined]


def choice(*choices: str) -> Callable[[object], str]:
    """
    An option coerce function accepting only C{choices} (case-insensitive).
    """
    def coerce(value):
        text = str(value).strip().lower()
        if text not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return text

    coerce.coerceDoc = f"One of {', '.join(choices)}."  # type: ignore[attr-defined]
    return coerce


_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2,
          "g": 1024**3, "gb": 1024**3}


def byteSize(value: object) -> int:
    """
    Coerce a size such as C{1048576}, C{512kb}, C{256mb} or C{1gb} to bytes.
    """
    text = str(value).strip().lower()
    digits = text.rstrip("kmgb")
    unit = text[len(digits):]
    if not digits.isdigit() or unit not in _UNITS:
        raise ValueError(f"{value!r} is not a size (like 1048576, 512kb, 256mb, 1gb)")
    return int(digits) * _UNITS[unit]


byteSize.coerceDoc = "Bytes, or a size like 512kb, 256mb, 1gb."  # type: ignore[attr-defined]


def loadYAML(path: str) -> dict[str, Any]:
    """
    Read a configuration file into a dict of option values.

    @raise usage.UsageError: if the file is missing, unreadable, not YAML or
        not a mapping.
    """
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise usage.UsageError(
            f"Cannot read config file {path}: {e.strerror or e}."
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        raise usage.UsageError(
            f"Config file {path} is not valid YAML: {e.problem} "
            f"at line {mark.line + 1}, column {mark.column + 1}."
        ) from None
    except yaml.YAMLError as e:
        raise usage.UsageError(f"Config file {path} is not valid YAML: {e}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise usage.UsageError(
            f"Config file {path} must hold a mapping of option names to values."
        )
    return data


def _coerced(coerce, value, name):
    """
    C{coerce(value)}, or a L{usage.UsageError} naming C{name} and the value.
    """
    try:
        return _apply(coerce, value)
    except (TypeError, ValueError) as e:
        raise usage.UsageError(f"Bad value for {name}: {str(e).rstrip('.')}.") from None


_BUILTIN_TYPES = {int: "a whole number", float: "a number"}


def _apply(coerce, value):
    """
    C{coerce(value)}; the built-in C{int} and C{float} refuse a value with
    a sentence of ours rather than Python's C{invalid literal for int()}.
    """
    try:
        return coerce(value)
    except ValueError:
        if coerce in _BUILTIN_TYPES:
            raise ValueError(f"{value!r} is not {_BUILTIN_TYPES[coerce]}") from None
        raise


class _CoerceOption(usage.CoerceParameter):
    """
    Coerce a command-line parameter, reporting a bad value as one sentence
    naming the option and the value (Twisted's says "Parameter type
    enforcement failed" with the coerce function's own error).
    """

    def dispatch(self, parameterName, value):
        """
        Store the coerced C{value} of C{--parameterName}.
        """
        if value is None:
            raise usage.UsageError(f"--{parameterName} needs a value.")
        self.options.opts[parameterName] = _coerced(self.coerce, value, f"--{parameterName}")


def _variable(name):
    return name.upper().replace("-", "_")


class LayeredOptions(usage.Options):
    """
    L{usage.Options} whose values are layered: defaults < C{--config} YAML <
    C{APPSERVER_*} environment < C{APPSERVER_<COMMAND>_*} environment <
    command line.

    Declare C{optParameters} (with coerce functions) and C{optFlags} as usual;
    declare repeatable options as C{optRepeatable} rows of C{[long, short,
    default list, doc, coerce]}; name the twistd command in C{command}.

    @ivar sources: maps each option set by a layer to where it came from.
    @ivar commandLine: the options the command line gives, as
        L{commandLineValues} reads them.
    @cvar command: the twistd command these options belong to (its
        variables are C{APPSERVER_<COMMAND>_<OPTION>}), or L{None}.
    """

    optRepeatable: list[list[Any]] = []
    environ = os.environ
    command: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for row in cls.__dict__.get("optRepeatable", []):
            cls._addRepeatable(*row)

    @classmethod
    def _addRepeatable(cls, long, short, default, doc, coerce=str):
        attribute = long.replace("-", "_")

        def handler(self, value):
            self._appendFromCommandLine(long, coerce, value)

        handler.__doc__ = f"{doc} Repeatable. [default: {', '.join(default)}]"
        setattr(cls, "opt_" + attribute, handler)
        if short:
            setattr(cls, "opt_" + short, handler)

    def __init__(self):
        usage.Options.__init__(self)
        self._commandLineLists = set()
        self.sources = {}
        self.commandLine = {}
        for long, _short, default, _doc, coerce in self._repeatables():
            self[long] = [coerce(value) for value in default]
        self["config"] = None
        for long, dispatcher in self._dispatch.items():
            if type(dispatcher) is usage.CoerceParameter:
                self._dispatch[long] = _CoerceOption(self, dispatcher.coerce)

    def _repeatables(self):
        rows = []
        for klass in reversed(type(self).__mro__):
            for row in klass.__dict__.get("optRepeatable", []):
                rows.append(tuple(row) + (str,) * (5 - len(row)))
        return rows

    def opt_config(self, path):
        """
        A YAML file of option values (keys are the long option names).
        """
        self["config"] = path

    def parseOptions(self, options=None):
        """
        Apply the configuration file and the environment, then the command
        line on top, then L{postOptions}.
        """
        if options is None:
            options = sys.argv[1:]
        self.commandLine = commandLineValues(self, options)
        for values, source in self.configLayers():
            self.applyLayer(values, source)
        usage.Options.parseOptions(self, options)

    def configPath(self) -> str | None:
        """
        The C{--config} file these options read: the command line's, else
        this command's variable's (see L{variables}), or L{None}.
        """
        return self.commandLine.get("config") or self._fromEnvironment("config")

    def configLayers(self) -> list[tuple[dict[str, Any], str]]:
        """
        The layers below the command line, lowest first, as C{(values,
        source)} pairs. Subclasses may add layers (such as an app's own
        file), reading the command line from L{commandLine}.
        """
        path = self.configPath()
        layers = []
        if path:
            layers.append((loadYAML(path), f"config file {path}"))
        layers.extend(self.environmentLayers())
        return layers

    def _prefixes(self):
        """
        The variable prefixes this command reads, lowest precedence first.
        """
        if self.command is None:
            return [ENVIRONMENT_PREFIX]
        return [ENVIRONMENT_PREFIX, ENVIRONMENT_PREFIX + _variable(self.command) + "_"]

    def _fromEnvironment(self, name):
        values = [self.environ[variable] for variable in self.variables(name)
                  if variable in self.environ]
        return values[-1] if values else None

    def _othersOwn(self, variable):
        """
        Whether C{variable} starts with another of our commands' prefix.
        """
        return any(variable.startswith(ENVIRONMENT_PREFIX + _variable(other) + "_")
                   for other in COMMANDS if other != self.command)

    def variables(self, name: str) -> list[str]:
        """
        The environment variables that set option C{name}, lowest
        precedence first: C{APPSERVER_<OPTION>} (unless it is another
        command's own variable), then C{APPSERVER_<COMMAND>_<OPTION>}.
        """
        generic, *own = [prefix + _variable(name) for prefix in self._prefixes()]
        return own if self._othersOwn(generic) else [generic] + own

    def environmentLayers(self) -> list[tuple[dict[str, Any], str]]:
        """
        One layer per variable naming an option of this command, each
        option's generic variable before this command's own.
        """
        return [({name: self.environ[variable]}, f"environment variable {variable}")
                for name in self._optionKinds() for variable in self.variables(name)
                if variable in self.environ]

    def _optionKinds(self):
        kinds = {}
        for long, _short, _default, _doc, coerce in self._repeatables():
            kinds[long] = ("list", coerce)
        for long, _short, _doc in (util.padTo(3, f) for f in self._flags()):
            kinds[long] = ("flag", None)
        for row in self._parameters():
            long, short, default, doc, coerce = util.padTo(5, row)
            kinds[long] = ("parameter", coerce)
        return kinds

    def _flags(self):
        flags = []
        reflect.accumulateClassList(self.__class__, "optFlags", flags)
        return [f for f in flags if f[0] not in ("help", "version")]

    def _parameters(self):
        parameters = []
        reflect.accumulateClassList(self.__class__, "optParameters", parameters)
        return parameters

    def applyLayer(self, values: Mapping[str, Any], source: str) -> None:
        """
        Set options from one layer's mapping of long option names to values.

        @raise usage.UsageError: naming the key and C{source} for an unknown
            key or a value of the wrong type.
        """
        kinds = self._optionKinds()
        for key, value in values.items():
            if key not in kinds:
                raise usage.UsageError(f"Unknown option {key!r} in {source}.")
            kind, coerce = kinds[key]
            self[key] = _coerced(partial(_LAYER_CONVERTERS[kind], coerce=coerce or str),
                                 value, f"{key!r} in {source}")
            self.sources[key] = source

    def _appendFromCommandLine(self, long, coerce, value):
        if long not in self._commandLineLists:
            self._commandLineLists.add(long)
            self[long] = []
            self.sources[long] = "the command line"
        self[long].append(_coerced(coerce, value, f"--{long}"))


def commandLineValues(options: usage.Options, argv: Sequence[str]) -> dict[str, str]:
    """
    The options C{argv} gives, read before the configuration layers are
    applied, the way L{usage.Options.parseOptions} then reads them (getopt
    over the options' own C{shortOpt} and C{longOpt}, so C{--config=PATH},
    C{-aDIR} and unambiguous abbreviations count, and C{--} ends them), but
    running no handler.

    @param options: the L{usage.Options} that will parse C{argv}.
    @return: a dict of each long option name given to its last value
        (C{""} for a flag); empty when C{argv} does not parse, which the
        parse proper then reports.
    """
    try:
        pairs, arguments = getopt.getopt(argv, options.shortOpt, options.longOpt)
    except getopt.GetoptError:
        return {}
    values = {}
    for flag, value in pairs:
        name = flag.lstrip("-")
        name = name if name in options.synonyms else name.replace("-", "_")
        if name in options.synonyms:
            values[options.synonyms[name]] = value
    return values


def _scalar(value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(f"expected a single value, got {type(value).__name__} {value!r}")
    return str(value)


def _layerParameter(value, coerce):
    return _apply(coerce, _scalar(value))


def _layerFlag(value, coerce):
    if isinstance(value, bool):
        return int(value)
    text = _scalar(value).strip().lower()
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise ValueError(f"expected true or false, got {value!r}")


def _layerList(value, coerce):
    if isinstance(value, str):
        items = [item.strip() for item in value.split(",") if item.strip()]
    elif isinstance(value, list):
        items = [_scalar(item) for item in value]
    else:
        items = [_scalar(value)]
    return [_apply(coerce, item) for item in items]


_LAYER_CONVERTERS = {
    "parameter": _layerParameter,
    "flag": _layerFlag,
    "list": _layerList,
}
