"""
Helpers shared by the test suite: the persistence contract (from
L{appserver.testing}, which plugin authors use too), real twistd processes on
free loopback ports, and the services a test may need.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from twisted.application import service
from twisted.trial.unittest import SkipTest

from appserver.testing import assertPersists, roundTrips  # noqa: F401 (the suite's helpers)

BIN = os.path.dirname(sys.executable)
SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_PATH = os.pathsep.join([SOURCE, os.path.join(SOURCE, "examples")])
TWISTD = os.path.join(BIN, "twistd")
MKTAP = os.path.join(BIN, "mktap")
WAIT_SECONDS = 30
CHECKOUT = ["Makefile", "setup.py", "pyproject.toml", "README.md",
            "appserver", "services", "examples", "twisted"]


def freePort():
    """
    A TCP port on 127.0.0.1 that nothing listens on right now.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def waitForPort(port, timeout=WAIT_SECONDS, process=None):
    """
    Wait until something accepts connections on 127.0.0.1:C{port}.

    @raise AssertionError: if C{process} exits first or C{timeout} passes.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(
                f"process exited with {process.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listened on port {port} within {timeout}s")


def readAll(port, timeout=10, send=b""):
    """
    Connect to 127.0.0.1:C{port}, send C{send}, and read until the server
    closes the connection.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        if send:
            s.sendall(send)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def eventually(condition, timeout=WAIT_SECONDS):
    """
    Whether C{condition()} holds within C{timeout} seconds, checked every
    50 ms: for what a process does after its parent or a peer has seen it
    answer (a daemon's child answers the waiting parent before it removes
    its pidfile and finishes its log).
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def signalDaemon(pidfile, signalNumber=signal.SIGKILL):
    """
    Send C{signalNumber} to the daemon whose pid C{pidfile} holds, if the
    file is there and the process still runs (a cleanup, whatever happened).
    """
    try:
        with open(pidfile) as f:
            os.kill(int(f.read()), signalNumber)
    except (OSError, ValueError):
        pass


def stopProcess(process, timeout=WAIT_SECONDS):
    """
    Stop C{process} with SIGTERM (SIGKILL if it does not go), and return its
    exit code.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    return process.returncode


def tempDir(testCase):
    """
    A fresh temporary directory, removed when the test ends.
    """
    holder = tempfile.TemporaryDirectory(prefix="appserver-test-")
    testCase.addCleanup(holder.cleanup)
    return holder.name


def copyCheckout(testCase):
    """
    A copy of this checkout's sources (what building and running need), as
    a fresh clone would have them.
    """
    checkout = os.path.join(tempDir(testCase), "checkout")
    ignore = shutil.ignore_patterns("__pycache__", "dropin.cache", "*.sqlite3*")
    for name in CHECKOUT:
        source, target = os.path.join(SOURCE, name), os.path.join(checkout, name)
        if os.path.isdir(source):
            shutil.copytree(source, target, ignore=ignore)
        else:
            os.makedirs(checkout, exist_ok=True)
            shutil.copy(source, target)
    return checkout


def environment(**extra):
    """
    The environment for a child process: ours without C{APPSERVER_*}
    variables that would leak into its configuration, with this source tree
    first on the path (so children run the code under test), plus C{extra}.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPSERVER_")}
    env["PYTHONPATH"] = SOURCE_PATH
    env.update(extra)
    return env


def startTwistd(testCase, args, cwd, port=None, env=None):
    """
    Start C{twistd -n ARGS} in C{cwd}; wait for C{port} when given; stop it
    when the test ends, whatever happens. Output goes to C{cwd}/twistd.out.

    @return: the L{subprocess.Popen}.
    """
    out = open(os.path.join(cwd, "twistd.out"), "ab")
    testCase.addCleanup(out.close)
    process = subprocess.Popen(
        [TWISTD, "-n", "--pidfile="] + list(args),
        cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        env=env or environment(),
    )
    testCase.addCleanup(stopProcess, process)
    if port is not None:
        try:
            waitForPort(port, process=process)
        except AssertionError:
            out.flush()
            with open(out.name, "rb") as f:
                output = f.read().decode(errors="replace")
            raise AssertionError(f"twistd did not start:\n{output}") from None
    return process


def run(args, cwd, timeout=WAIT_SECONDS, env=None):
    """
    Run a command to completion, returning C{(exit code, stdout+stderr text)}.
    """
    result = subprocess.run(
        args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, timeout=timeout, env=env or environment(),
    )
    return result.returncode, result.stdout.decode("utf-8", errors="replace")


def requireService(name, host, port):
    """
    Skip the test unless a server (C{name}) answers on C{host}:C{port};
    fail instead when C{APPSERVER_REQUIRE_SERVICES=1}, as in CI.
    """
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as e:
        message = f"{name} is not reachable on {host}:{port} ({e})"
        if os.environ.get("APPSERVER_REQUIRE_SERVICES") == "1":
            raise AssertionError(message + " and APPSERVER_REQUIRE_SERVICES=1") from None
        raise SkipTest(message) from None


def application(*services, name="appserver"):
    """
    An Application holding C{services}, as mktap or twistd would build it.
    """
    app = service.Application(name)
    for child in services:
        child.setServiceParent(app)
    return app


def parseOptions(optionsClass, argv, environ=None):
    """
    Parse C{argv} with a fresh C{optionsClass} that sees only C{environ}
    (default: no C{APPSERVER_*} variables at all).
    """
    options = optionsClass()
    options.environ = environ or {}
    options.parseOptions(list(argv))
    return options


def captureLog(testCase):
    """
    Collect the events logged until the test ends, and return the list.
    """
    from twisted.logger import globalLogPublisher

    events = []
    globalLogPublisher.addObserver(events.append)
    testCase.addCleanup(globalLogPublisher.removeObserver, events.append)
    return events
