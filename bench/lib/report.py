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

from bench.lib.servers import ROOT

DOCS = os.path.join(ROOT, "docs", "benchmarks.md")

INTRO = """# Benchmarks

Measured by the scripts in `bench/`, side by side with the peers, on the
machine named in each section; `.venv/bin/python bench/run.py` runs them
all one after another and regenerates this file. Figures are from one run
on that machine: compare ratios, not absolute numbers, across machines.

"""


def argumentParser(doc, quick):
    """
    A parser for a benchmark's command line, described by the first line
    of its C{doc}, with the options every benchmark takes: C{--quick}
    (explained by C{quick}) and C{--no-write}.
    """
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--no-write", action="store_true",
                        help="print only; leave docs/benchmarks.md alone")
    return parser


def parseOptions(parser, argv=None):
    """
    Parse C{argv} (default: the command line) with C{parser}, noting the
    load average before the run as C{loadBefore}.
    """
    options = parser.parse_args(argv)
    options.loadBefore = os.getloadavg()[0]
    return options


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
