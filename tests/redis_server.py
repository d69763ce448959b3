"""A real ``redis-server`` (Debian's package) for the tests: on a free loopback port, its
data in a temporary folder, stopped when the test ends. Never a mock."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.bounded import stop_process

#: seconds a redis-server may take to answer at first
START_TIMEOUT = 10.0
#: free ports tried in turn, while another process takes each first
PORT_TRIES = 3


def free_port() -> int:
    """A loopback port free now; another process (a second test run) may take it before
    the caller does: `RedisServer` checks that the server answering there is its own."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections while it is held: bound, never listening,
    so no other process's server can take it meanwhile (a free port could be)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


class RedisServer:
    """One redis-server process; `stop` and `start` it again to test an outage."""

    def __init__(self, directory: Path, port: int | None = None, *, socket: bool = False) -> None:
        self.directory, self.port = directory, port or free_port()
        #: with ``socket``, the unix socket it listens on too (``unix://`` + this)
        self.socket = directory / "redis.sock" if socket else None
        self._process: subprocess.Popen[bytes] | None = None
        self._port_fixed = port is not None

    @property
    def url(self) -> str:
        """Its URL: once handed out, its port is kept (a client has it)."""
        self._port_fixed = True
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it, on a new free port if another process took its own first, unless its
        port was given, or named by a URL handed out."""
        for _ in range(PORT_TRIES):
            if self._started():
                return
            if self._port_fixed:
                break
            self.port = free_port()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def _started(self) -> bool:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed (.ci/system-packages installs it)")
        self._process = subprocess.Popen(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                *(["--unixsocket", str(self.socket)] if self.socket else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        # (a server that ended could not take its port: another process had it first)
        while self._process.poll() is None and time.monotonic() < deadline:
            if self._answers():
                return True
            time.sleep(0.05)
        self.stop()
        return False

    def _answers(self) -> bool:
        """Whether this server answers on its port: not another process's, there first
        (a port free when chosen may be taken by a second test run meanwhile), whose
        stop or stall would then be this test's."""
        assert self._process is not None
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"INFO server\r\n")
                reply = b""
                while b"process_id:" not in reply or not reply.endswith(b"\r\n"):
                    if len(reply) > 2**16:  # no INFO's size: some other server's stream
                        return False
                    chunk = conn.recv(65536)
                    if not chunk:
                        return False
                    reply += chunk
        except OSError:
            return False
        found = re.search(rb"process_id:(\d+)", reply)
        return found is not None and int(found[1]) == self._process.pid

    def pause(self) -> None:
        """Stall it (SIGSTOP): connections stay open, nothing answers."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)  # a stalled server cannot end
            stop_process(self._process, 5)
            self._process = None


@contextmanager
def redis_server(directory: Path, *, socket: bool = False) -> Iterator[RedisServer]:
    server = RedisServer(directory, socket=socket)
    server.start()
    try:
        yield server
    finally:
        server.stop()
