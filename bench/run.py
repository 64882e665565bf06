"""
Run every benchmark in bench/, one after another, and regenerate
docs/benchmarks.md from their sections.

    .venv/bin/python bench/run.py [--quick] [--no-write] [NAME ...]

A benchmark is a module C{bench/NAME.py} with a C{main(argv=None)} that
measures, prints its figures, and returns its section of docs/benchmarks.md
as Markdown starting with a C{## } heading. Known benchmarks run first in a
fixed order (C{web}, C{sessionserver}, C{db}), then any other
C{bench/*.py}. Each runs in its own Python process (so one benchmark's
reactor or failure does not touch the next), with C{--quick} passed on when
given and C{--no-write}: this runner writes the sections (unless given
C{--no-write} itself). A benchmark that fails is reported and its old
section is kept.
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile

# Run as a script, Python puts bench/ first on sys.path; these imports want
# the source tree there.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from bench.lib import ROOT, updateDocs  # noqa: E402

BENCH = os.path.join(ROOT, "bench")
ORDER = ("web", "sessionserver", "db")
# This runner, and the old name of bench/web.py (which runs it).
NOT_BENCHMARKS = ("run", "http")

# Runs one benchmark in a child process: imports bench.NAME with the source
# tree on the path, calls main() with the given arguments, and writes the
# section it returns to a file.
_DRIVER = """
import importlib, sys
root, name, out, *args = sys.argv[1:]
sys.path[:0] = [root, root + "/examples"]
module = importlib.import_module("bench." + name)
sys.argv = ["bench/" + name + ".py", *args]
section = module.main()
with open(out, "w", encoding="utf-8") as f:
    f.write(section if isinstance(section, str) else "")
"""


def benchmarks(names=()):
    """
    The benchmark names to run: C{names} if given, else every
    C{bench/*.py} but this runner, the known ones first.
    """
    if names:
        return list(names)
    found = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(BENCH, "*.py")))
    found = [n for n in found if n not in NOT_BENCHMARKS and not n.startswith("_")]
    return [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]


def _python():
    venv = os.path.join(ROOT, ".venv", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def runOne(name, arguments):
    """
    Run benchmark C{name} in a child process and return its Markdown
    section, or L{None} if it failed or returned none.
    """
    with tempfile.TemporaryDirectory(prefix="appserver-bench-run-") as tmp:
        out = os.path.join(tmp, "section.md")
        done = subprocess.run([_python(), "-c", _DRIVER, ROOT, name, out, *arguments],
                              cwd=ROOT)
        if done.returncode != 0 or not os.path.exists(out):
            print(f"bench/{name}.py failed (exit {done.returncode}); its section is unchanged",
                  flush=True)
            return None
        with open(out, encoding="utf-8") as f:
            section = f.read()
    return section if section.startswith("## ") else None


def main(argv=None):
    """
    Run the benchmarks and write their sections into docs/benchmarks.md
    (unless C{--no-write}); return the exit code, 1 if any failed.
    """
    parser = argparse.ArgumentParser(description="Run every benchmark in bench/.")
    parser.add_argument("--quick", action="store_true", help="short runs, to try things out")
    parser.add_argument("--no-write", action="store_true",
                        help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    options = parser.parse_args(argv)
    failed = []
    for name in benchmarks(options.names):
        print(f"\n=== bench/{name}.py ===", flush=True)
        section = runOne(name, ["--no-write"] + (["--quick"] if options.quick else []))
        if section is None:
            failed.append(name)
        elif not options.no_write:
            updateDocs(section)
    written = "left alone" if options.no_write else "updated"
    print(f"\ndocs/benchmarks.md {written}; failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
