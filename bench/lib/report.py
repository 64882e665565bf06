"""
What every benchmark shares around its figures: the command line
(C{--quick}, C{--no-write}), the machine and versions it ran on, and
writing its section into docs/benchmarks.md.
"""

import argparse
import datetime
import importlib.metadata
import os
import platform
import re
import subprocess

from bench.lib.load import pinning
from bench.lib.servers import ROOT

DOCS = os.path.join(ROOT, "docs", "benchmarks.md")

INTRO = """# Benchmarks

Measured by the scripts in `bench/`, side by side with the peers, on the
machine named in each section; `.venv/bin/python bench/run.py` runs them
all one after another and regenerates this file. Figures are from one run
on that machine: compare ratios, not absolute numbers, across machines.

"""


TURNS = (
    ("duration", 5, int, 2, "seconds of load per route"),
    ("repeat", 3, int, 1, "runs per route, interleaved; the best is kept"),
    ("warmup", 1, int, None, "seconds of warm-up before each run"),
)


def turnsMethod(options):
    """
    How a benchmark whose routes take turns (L{TURNS}, with
    L{bench.lib.load.takeTurns}) measured them, in a sentence.
    """
    return (f"Each route is warmed up for {options.warmup} s before each run, with"
            f" {pinning()}; the routes take turns {options.repeat} times and each keeps its"
            " best run (other work on the machine only ever lowers a run).")


def parseOptions(doc, argv, parameters, flags=()):
    """
    Parse a benchmark's command line C{argv} (L{None}: the script's): the
    options every benchmark takes, C{--quick} and C{--no-write}, and its
    own, and note the load average before the run as C{loadBefore}.

    @param doc: the benchmark's docstring, whose first line describes it.
    @param parameters: rows C{(name, default, coerce, quick, help)} of
        options with a value, as Twisted's C{optParameters}; C{quick} is
        the value C{--quick} sets, or L{None}. L{TURNS} holds those of a
        benchmark whose routes take turns.
    @param flags: rows C{(option, argparse keyword arguments)} of other
        options.
    """
    options = _parser(doc, parameters, flags).parse_args(argv)
    if options.quick:
        for name, _, _, quick, _ in parameters:
            if quick is not None:
                setattr(options, name.replace("-", "_"), quick)
    options.loadBefore = os.getloadavg()[0]
    return options


def _parser(doc, parameters, flags):
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    quick = ", ".join(f"--{row[0]} {row[3]}" for row in parameters if row[3] is not None)
    parser.add_argument("--quick", action="store_true",
                        help=f"short runs, to try the benchmark out ({quick})")
    parser.add_argument("--no-write", action="store_true",
                        help="print only; leave docs/benchmarks.md alone")
    for name, default, coerce, _, explanation in parameters:
        parser.add_argument(f"--{name}", type=coerce, default=default,
                            help=f"{explanation} (default: {default})")
    for option, keywords in flags:
        parser.add_argument(option, **keywords)
    return parser


def runBenchmark(doc, argv, parameters, run, markdown):
    """
    What a benchmark's C{main} does: parse its command line C{argv} (see
    L{parseOptions}), measure with C{run(options)}, and L{publish} the
    section that C{markdown(figures, options)} makes of the figures.
    """
    options = parseOptions(doc, argv, parameters)
    return publish(markdown(run(options), options), options)


def publish(section, options):
    """
    Print C{section} and, unless C{options.no_write}, put it into
    docs/benchmarks.md; return it.
    """
    print()
    print(section)
    if not options.no_write:
        updateDocs(section)
    return section


def section(heading, method, options, body, versions=None):
    """
    A section of docs/benchmarks.md: its C{## heading}, the C{method}
    paragraph, the L{runLines} (with C{versions}), then the C{body} lines.
    """
    lines = [f"## {heading}", "", method, "", *runLines(options, versions), "", *body]
    return "\n".join(lines) + "\n"


def _output(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def machine():
    """
    A one-line description of this machine: CPU count and model, kernel.
    """
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Linux {os.uname().release}"


def commit():
    """
    The appserver commit, with a note when its code has uncommitted
    changes.
    """
    found = _output(["git", "rev-parse", "--short", "HEAD"])
    status = ["git", "status", "--porcelain", "--", "appserver", "services"]
    if found != "unknown" and _output(status) != "unknown":
        found += " with uncommitted changes"
    return found


def wrkVersion():
    """
    wrk's version, as C{wrk NAME/VERSION}.
    """
    return _output(["wrk", "--version"]).split(" [")[0]


def redisVersion():
    """
    redis-server's version, as C{redis-server VERSION}.
    """
    found = re.search(r"v=(\S+)", _output(["redis-server", "--version"]))
    return f"redis-server {found.group(1) if found else 'unknown'}"


def versions(packages=(), tools=()):
    """
    What a benchmark ran: Python, Twisted and the Python C{packages} (by
    distribution name), the appserver commit, then C{tools} (descriptions
    such as L{wrkVersion}'s).
    """
    names = ["Python", "Twisted", *packages]
    found = [platform.python_version(), *(importlib.metadata.version(n) for n in names[1:])]
    return ", ".join([*(f"{n} {v}" for n, v in zip(names, found)),
                      f"appserver {commit()}", *tools])


def runLines(options, versions=None):
    """
    The Markdown list of when and where a benchmark ran: the date, the
    machine with the load average before the run and, if given,
    C{versions}.
    """
    lines = [f"- Date: {datetime.date.today().isoformat()}",
             f"- Machine: {machine()}; load average before the run: {options.loadBefore:.2f}"]
    if versions is not None:
        lines.append(f"- Versions: {versions}")
    return lines


_RULES = {"l": "---", "r": "---:", "c": ":---:"}


def table(header, rows, align=None):
    """
    The lines of a Markdown table: the C{header} cells, then C{rows} of
    cells (shown with C{str}), each column aligned as the letter of
    C{align} at its place says (C{l}, C{r} or C{c}; by default the first
    column left, the others right).
    """
    align = align or "l" + "r" * (len(header) - 1)
    rule = "|" + "|".join(_RULES[letter] for letter in align) + "|"
    return [_tableRow(header), rule, *(_tableRow(row) for row in rows)]


def _tableRow(cells):
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def updateDocs(section, path=DOCS):
    """
    Put C{section} (Markdown starting with its C{## } heading) into the
    benchmarks document at C{path}, replacing the section of the same heading
    or appending it; create the document with a short introduction if absent.
    """
    heading = section.splitlines()[0].strip()
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines(keepends=True)
    except FileNotFoundError:
        lines = [INTRO]
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    if start is None:
        if lines and not lines[-1].endswith("\n\n") and lines[-1].strip():
            lines.append("\n")
        lines.append(section)
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        lines[start:end] = [section + ("\n" if end < len(lines) else "")]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(lines))
