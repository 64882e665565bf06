"""
The reload benchmark: how long from saving a controller file to the first
response from the new code, with C{twistd web-app --reload}.

    .venv/bin/python bench/reload.py [--edits N] [--quick] [--no-write]

A real C{twistd -n web-app --reload} serves an app directory made for the
run. Each edit changes what C{/version} answers, alternately written in
place and written to a temporary file renamed over the controller (as many
editors save); the clock starts when the file is closed (or renamed) and
stops when a GET answers the new text (a keep-alive client polls without
pause). Edits are spaced so that each is its own reload. The reloader waits
for 0.1 s of quiet before reloading (its debounce delay), which is part of
every figure. The target is p95 <= 200 ms; the "Reload" section of
docs/benchmarks.md gets the figures.
"""

import os
import sys

# Run as a script, Python puts bench/ first on sys.path; these imports want
# the source tree there.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import http.client  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from bench.lib import (  # noqa: E402
    Case, runBenchmark, section, serving, table,
)

TARGET_MS = 200
PARAMETERS = (("edits", 50, int, 10, "edits to make"),)
DEADLINE = 10.0
SPACING = 0.3

CONTROLLER = """\
from appserver.web import Controller, route

class Version(Controller):
    @route("/version")
    def version(self, request):
        return "{version}"
"""


def makeApp(directory):
    """
    Write the app directory and return the controller's path.
    """
    os.makedirs(os.path.join(directory, "controllers"))
    path = os.path.join(directory, "controllers", "version.py")
    writeInPlace(path, CONTROLLER.format(version="v0"))
    return path


def writeInPlace(path, text):
    """
    Rewrite C{path} in place.
    """
    with open(path, "w") as f:
        f.write(text)


def writeThenRename(path, text):
    """
    Write a temporary file next to C{path} and rename it over C{path}.
    """
    temporary = os.path.join(os.path.dirname(path), ".version.py.tmp")
    with open(temporary, "w") as f:
        f.write(text)
    os.replace(temporary, path)


class Poller:
    """
    A keep-alive client asking for C{/version} until it answers a text.
    """

    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def version(self):
        self.connection.request("GET", "/version")
        return self.connection.getresponse().read().decode()

    def waitFor(self, text):
        """
        Poll until C{/version} answers C{text}; return when it did.
        """
        deadline = time.perf_counter() + DEADLINE
        while time.perf_counter() < deadline:
            if self.version() == text:
                return time.perf_counter()
        raise RuntimeError(f"/version did not answer {text!r} within {DEADLINE}s")


def measure(path, port, edits):
    """
    Make C{edits} edits and return each one's latency in milliseconds, by
    way of saving.
    """
    poller = Poller(port)
    latencies = {"in place": [], "rename": []}
    for number in range(1, edits + 1):
        text = f"v{number}"
        way, write = (("in place", writeInPlace) if number % 2 else
                      ("rename", writeThenRename))
        write(path, CONTROLLER.format(version=text))
        saved = time.perf_counter()
        latencies[way].append((poller.waitFor(text) - saved) * 1000)
        time.sleep(SPACING)
    poller.connection.close()
    return latencies


def percentile(values, fraction):
    """
    The nearest-rank percentile of C{values}.
    """
    ordered = sorted(values)
    return ordered[max(0, int(round(fraction * len(ordered))) - 1)]


def figures(values):
    """
    p50, p95 and max of C{values}.
    """
    return {"count": len(values), "p50": statistics.median(values),
            "p95": percentile(values, 0.95), "max": max(values)}


def markdown(rows, options):
    """
    The "Reload" section of docs/benchmarks.md.
    """
    method = (
        f"`.venv/bin/python bench/reload.py` edits the controller of an app served by"
        f" `twistd -n web-app --reload` {options.edits} times, alternately written in"
        " place and written to a temporary file renamed over it, and measures from"
        " the file's close (or rename) to the first response from the new code (a"
        " keep-alive client polls `/version` without pause). The reloader's 0.1 s"
        " debounce delay is part of every figure."
    )
    return section("Reload", method, options, [
        *table(("Save", "Edits", "p50 ms", "p95 ms", "max ms", f"p95 ≤ {TARGET_MS} ms"),
               [(name, f["count"], f"{f['p50']:.0f}", f"{f['p95']:.0f}", f"{f['max']:.0f}",
                 "yes" if f["p95"] <= TARGET_MS else "no") for name, f in rows],
               "lrrrrc"),
        "",
        f"Target: p95 ≤ {TARGET_MS} ms from saving to the new response (all edits).",
    ])


def run(options):
    """
    Start the server, make the edits, and return the table's rows.
    """
    with tempfile.TemporaryDirectory(prefix="appserver-bench-reload-") as work:
        app = os.path.join(work, "app")
        path = makeApp(app)
        case = Case("web-app --reload", ("web-app", "--app", app, "--reload", "--db",
                                         "sqlite:///bench.sqlite3"),
                    "--port", "/version", b"v0")
        with serving(case, work) as (process, port):
            latencies = measure(path, port, options.edits)
    every = latencies["in place"] + latencies["rename"]
    return [("all edits", figures(every)), ("written in place", figures(latencies["in place"])),
            ("write then rename", figures(latencies["rename"]))]


def main(argv=None):
    """
    Measure, then print and write the section; return it.
    """
    return runBenchmark(__doc__, argv, PARAMETERS, run, markdown)


if __name__ == "__main__":
    main()
