"""
Reading a twistd process's cProfile statistics (C{twistd --profile
--profiler cprofile --savestats}) into Markdown: the hottest functions,
appserver's own functions, and where one server spends more per request
than another.
"""

import os

from bench.lib.servers import ROOT

_OURS = tuple(os.path.join(ROOT, folder, "") for folder in ("appserver", "services"))
_PROCESS = os.path.join("twisted", "web", "server.py")


def _shortName(key):
    filename, line, function = key
    for prefix in (ROOT + os.sep, "site-packages" + os.sep):
        if prefix in filename:
            filename = filename.split(prefix, 1)[1]
    return f"{function} ({filename}:{line})" if line else function


def profileRows(stats, top=15, ours=False):
    """
    The C{top} functions of C{stats} by own time (or, if C{ours}, appserver's
    own functions by cumulative time), as C{(own share, cumulative share,
    calls, name)}.
    """
    total = stats.total_tt or 1.0
    entries = [(key, value) for key, value in stats.stats.items()
               if not ours or key[0].startswith(_OURS)]
    index = 3 if ours else 2
    entries.sort(key=lambda item: item[1][index], reverse=True)
    return [(value[2] / total, value[3] / total, value[1], _shortName(key))
            for key, value in entries[:top]]


def requestCount(stats):
    """
    How many requests a profile covers: the calls of twisted.web's
    C{Request.process}.
    """
    for (filename, line, function), value in stats.stats.items():
        if function == "process" and filename.endswith(_PROCESS):
            return value[1]
    return 1


def extraCost(stats, baseline, top=12):
    """
    The functions on which C{stats} spends the most more own time per
    request than C{baseline} does, as C{(extra microseconds per request,
    calls per request, name)}; waiting in epoll is left out.
    """
    n, m = requestCount(stats), requestCount(baseline)
    base = {key: value[2] / m for key, value in baseline.stats.items()}
    rows = [((value[2] / n - base.get(key, 0.0)) * 1e6, value[1] / n, _shortName(key))
            for key, value in stats.stats.items() if "epoll" not in key[2]]
    rows.sort(reverse=True)
    return rows[:top]


def _shareTable(rows):
    lines = ["| own % | cumulative % | calls | function |", "|---:|---:|---:|---|"]
    return lines + [f"| {own:.1%} | {cumulative:.1%} | {calls:,} | `{function}` |"
                    for own, cumulative, calls, function in rows]


def _extraTable(rows):
    lines = ["| extra us/req | calls/req | function |", "|---:|---:|---|"]
    return lines + [f"| {extra:.2f} | {calls:.1f} | `{function}` |"
                    for extra, calls, function in rows]


def profileMarkdown(stats, name, baseline=None, baselineName=None):
    """
    The profile of C{name} as Markdown: the hottest functions by own time,
    appserver's functions by cumulative time and, given the C{baseline}
    profile (of C{baselineName}), where C{name} spends more per request.
    """
    lines = [
        f"### Profile of {name}", "",
        "cProfile in the twistd process (`twistd --profile --profiler cprofile"
        " --savestats`) under the same wrk load, warm-up included, so times are"
        " inflated by the profiler. The hottest functions by own time:", "",
        *_shareTable(profileRows(stats, 10)), "",
        "appserver's own functions by cumulative time:", "",
        *_shareTable(profileRows(stats, 10, ours=True)),
    ]
    if baseline is not None:
        lines += ["", f"Where {name} spends more own time per request than {baselineName}"
                  " (both profiled the same way):", "", *_extraTable(extraCost(stats, baseline))]
    return "\n".join(lines)
