"""Real ``provider-emulator serve`` processes for the scaling tests: on a free loopback port,
their stderr kept, every wait bounded, always stopped."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.bounded import eventually, stop_process
from tests.redis_server import free_port

#: seconds a serve process (and its workers) may take to answer its first health check
START_TIMEOUT = 60.0
#: concurrent connections per burst of health checks
BURST = 8
FAL = {"Authorization": "Key team", "Content-Type": "application/json"}
WAVESPEED = {"Authorization": "Bearer team", "Content-Type": "application/json"}
FAL_SUBMIT = "/fal/queue/fal-ai/bitdance"
WAVESPEED_SUBMIT = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"


class Serving:
    """One ``serve`` process (the parent of its workers, if any)."""

    def __init__(self, folder: Path, *flags: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.stderr_path = folder / f"serve-{self.port}.log"
        command = [sys.executable, "-m", "emulator", "serve", "--port", str(self.port)]
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [*command, "--log-level", "warning", *flags],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_healthy(self) -> None:
        until(lambda: self.ask("GET", "/_emulator/health")[0] == 200, START_TIMEOUT, self)

    def ask(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        """One request on a fresh connection (so that any worker may take it): status,
        JSON body (or None), headers; status 0 when nothing answers."""
        return exchange(self.port, [(method, path, body, headers)])[0]

    def stop(self) -> None:
        stop_process(self.process, 15)


def exchange(
    port: int, requests: list[tuple[str, str, Any, dict[str, str] | None]]
) -> list[tuple[int, Any, dict[str, str]]]:
    """``requests`` on one keep-alive connection, hence to one worker."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    answers = []
    try:
        for method, path, body, headers in requests:
            data = None if body is None else json.dumps(body).encode()
            connection.request(method, path, body=data, headers=headers or {})
            response = connection.getresponse()
            raw = response.read()
            parsed = json.loads(raw) if raw.startswith((b"{", b"[")) else None
            answers.append((response.status, parsed, dict(response.getheaders())))
    except (OSError, http.client.HTTPException):  # a worker killed mid-answer, say
        answers += [(0, None, {})] * (len(requests) - len(answers))
    finally:
        connection.close()
    return answers


def until(check: Callable[[], bool], timeout: float, serving: Serving | None = None) -> None:
    def ready() -> bool:
        if serving is not None and serving.process.poll() is not None:
            raise AssertionError(f"serve exited ({serving.process.returncode}): {serving.stderr}")
        return check()

    if not eventually(ready, timeout, 0.1):
        raise AssertionError(
            f"not within {timeout:g} s" + (f": {serving.stderr}" if serving else "")
        )


@contextmanager
def serving(folder: Path, *flags: str, port: int | None = None) -> Iterator[Serving]:
    """A healthy ``serve`` process with ``flags`` (on ``port``, else a free one), stopped
    on leaving."""
    server = Serving(folder, *flags, port=port)
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


#: seconds to keep asking before concluding that fewer workers answer than expected
ASK_WITHIN = 20.0


def health_answers(
    server: Serving, workers: int, within: float = ASK_WITHIN
) -> list[tuple[int, Any]]:
    """Health answers (status, body), asked in bursts of concurrent fresh connections until
    ``workers`` distinct pids have answered or ``within`` seconds have passed: the kernel
    hands a connection to whichever worker accepts first, and one busy worker may take
    every connection for a while."""
    answers: list[tuple[int, Any]] = []
    deadline = time.monotonic() + within
    with ThreadPoolExecutor(BURST) as pool:
        while time.monotonic() < deadline:
            burst = pool.map(lambda _: server.ask("GET", "/_emulator/health"), range(BURST))
            answers += [(status, body) for status, body, _ in burst]
            if len({body["pid"] for _, body in answers if body and "pid" in body}) >= workers:
                break
    return answers


def worker_pids(server: Serving, workers: int, within: float = ASK_WITHIN) -> set[int]:
    """The pids that answer health, until ``workers`` of them have (or ``within`` s)."""
    answers = health_answers(server, workers, within)
    return {body["pid"] for _, body in answers if body and "pid" in body}
