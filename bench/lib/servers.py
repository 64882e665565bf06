"""
The servers a benchmark measures: real C{twistd -n} processes (and peers
such as C{redis-server}) on free loopback ports, started in a work
directory and stopped whatever happens; and whether the shared database
servers answer.
"""

import contextlib
import os
import socket
import subprocess
import time
from dataclasses import dataclass

from tests.support import SOURCE_PATH, TWISTD, environment, freePort, stopProcess, waitForPort

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APPS = os.path.join(ROOT, "bench", "apps")
START_SECONDS = 30
STOP_SECONDS = 15
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Case:
    """
    One HTTP server and the path a benchmark requests from it.

    @ivar name: the row's name in a table.
    @ivar command: the twistd arguments, without a port.
    @ivar portOption: the option that takes the endpoint description, or
        L{None} for a C{.tac} file that reads the port from C{BENCH_PORT}.
    @ivar path: the path requested.
    @ivar expect: bytes the response body must contain.
    """

    name: str
    command: tuple
    portOption: object
    path: str
    expect: bytes = b"Hello, world!"

    def arguments(self, port):
        """
        The twistd arguments that serve this case on 127.0.0.1:C{port}.
        """
        if self.portOption is None:
            return self.command
        return (*self.command, self.portOption, f"tcp:{port}:interface=127.0.0.1")


def _paths(workDir, port):
    return (os.path.join(workDir, f"twistd-{port}.log"),
            os.path.join(workDir, f"console-{port}.txt"))


def startTwistd(arguments, port, workDir, pin=()):
    """
    Start C{twistd -n ARGUMENTS} in C{workDir}, running this source tree
    with C{bench/apps} on its path and C{BENCH_PORT} set to C{port}, its
    log and output in files named after C{port} there (see L{logTails}).

    @param pin: a command prefix such as C{taskset -c 0}.
    @return: the L{subprocess.Popen}.
    """
    log, console = _paths(workDir, port)
    command = [*pin, TWISTD, "-n", "-o", "--pidfile=", "--logfile", log, *arguments]
    env = environment(PYTHONPATH=os.pathsep.join([SOURCE_PATH, APPS]), BENCH_PORT=str(port))
    with open(console, "wb") as output:
        return subprocess.Popen(command, cwd=workDir, env=env, stdout=output,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def logTails(port, workDir, lines=15):
    """
    The last C{lines} of the output and of the log of the twistd that
    L{startTwistd} started for C{port}.
    """
    return "".join(_tail(path, lines) for path in reversed(_paths(workDir, port)))


def _tail(path, lines):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


@contextlib.contextmanager
def stopping(process, timeout=STOP_SECONDS):
    """
    Hand C{process} to the block and stop it when the block ends, however
    it ends.
    """
    try:
        yield process
    finally:
        stopProcess(process, timeout)


@contextlib.contextmanager
def serving(case, workDir, pin=(), stopTimeout=STOP_SECONDS):
    """
    Serve C{case} from a twistd on a free port for the block, as
    C{(process, port)}, once it answers C{case.path} with a 200 holding
    C{case.expect}.

    @raise RuntimeError: naming the server, its command and its log, if it
        exits or does not answer in time.
    """
    port = freePort()
    arguments = case.arguments(port)
    with stopping(startTwistd(arguments, port, workDir, pin), stopTimeout) as process:
        try:
            waitForAnswer(port, case.path, case.expect, process)
        except (OSError, RuntimeError) as e:
            raise RuntimeError(f"{case.name} did not start ({e}); arguments:"
                               f" {' '.join(arguments)}\n{logTails(port, workDir)}") from None
        yield process, port


@contextlib.contextmanager
def servingTwistd(arguments, workDir):
    """
    Run C{twistd -n ARGUMENTS} (with C{--port} on a free loopback port
    added) for the block, as C{(process, port)}, once its port accepts
    connections.
    """
    port = freePort()
    arguments = (*arguments, "--port", f"tcp:{port}:interface=127.0.0.1")
    with stopping(startTwistd(arguments, port, workDir)) as process:
        try:
            waitForPort(port, process=process)
        except AssertionError as e:
            raise RuntimeError(f"{e}\n{logTails(port, workDir)}") from None
        yield process, port


def waitForAnswer(port, path, expect, process):
    """
    Wait for C{GET path} on 127.0.0.1:C{port} to answer a 200 holding
    C{expect}.

    @raise RuntimeError: if C{process} exits, the answer is another, or
        none comes within L{START_SECONDS}.
    """
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}")
        try:
            response = get(port, path)
        except OSError:
            time.sleep(0.1)
            continue
        if response.startswith(b"HTTP/1.1 200") and expect in response:
            return
        raise RuntimeError(f"unexpected answer to {path}: {response[:300]!r}")
    raise RuntimeError(f"no answer within {START_SECONDS}s")


def get(port, path, timeout=5):
    """
    The raw response to C{GET path} on 127.0.0.1:C{port}.
    """
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request.encode("ascii"))
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def postgresAvailable():
    """
    Whether a PostgreSQL server accepts connections on 127.0.0.1:5432.
    """
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


def redisAvailable():
    """
    Whether a Redis server answers C{PING} on 127.0.0.1:6379.
    """
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ifServing(name, available, measure):
    """
    C{[measure()]} when the shared server C{name} answers (C{available()}
    is true), else C{[]}, saying that it was skipped.
    """
    if available():
        return [measure()]
    print(f"{name} is not reachable; skipped", flush=True)
    return []
