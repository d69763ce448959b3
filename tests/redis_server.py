"""A real ``redis-server`` (Debian's package) for the tests: on a free loopback port, its
data in a temporary folder, stopped when the test ends. Never a mock."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.bounded import eventually, stop_process

#: seconds a redis-server may take to answer its first PING
START_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """One redis-server process; `stop` and `start` it again to test an outage."""

    def __init__(self, directory: Path, port: int | None = None, *, socket: bool = False) -> None:
        self.directory, self.port = directory, port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        #: with ``socket``, the unix socket it listens on too (``unix://`` + this)
        self.socket = directory / "redis.sock" if socket else None
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
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
        if not eventually(self._answers_ping, START_TIMEOUT, 0.05):
            self.stop()
            raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

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
