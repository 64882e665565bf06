"""
The old name of bench/web.py, the HTTP benchmark: runs it with the same
arguments.

    .venv/bin/python bench/http.py [--duration SECONDS] [--quick] ...

The benchmark moved because a module named C{http} in the folder that
Python puts first on C{sys.path} for a script shadows the standard
library's C{http} package; this file imports nothing that could reach it.
"""

import os
import sys

if __name__ == "__main__":
    web = os.path.join(os.path.dirname(os.path.abspath(__file__)), "web.py")
    os.execv(sys.executable, [sys.executable, web, *sys.argv[1:]])
