"""Servers the suite starts on loopback and always stops: the emulator, a bare Starlette app
on the same uvicorn, and aimock (the Node emulator that also serves fal's queue)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.bounded import stop_process

__all__ = [
    "Server",
    "bare_command",
    "code_environment",
    "emulator_command",
    "free_port",
    "install_aimock",
    "wait_for",
]

AIMOCK = "@copilotkit/aimock@1.43"
#: aimock answers fal's queue only for a model its fixtures match.
AIMOCK_FIXTURE = {
    "fixtures": [
        {
            "match": {"model": "fal-ai/bitdance"},
            "response": {"json": {"images": [{"url": "https://x.invalid/a.png"}]}},
        }
    ]
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 30.0, tick: float = 0.005) -> float:
    """Seconds until ``url`` answers 200 (raises after ``timeout``)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(tick)
    raise RuntimeError(f"{url} did not come up within {timeout:g} s")


class Server:
    """A process serving on ``port``, stopped by ``stop`` (or on leaving ``with``)."""

    def __init__(
        self,
        command: list[str],
        port: int,
        health: str,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ):
        self.port, self.base = port, f"http://127.0.0.1:{port}"
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd, env=env
        )
        self.health = self.base + health

    def wait(self) -> float:
        """Seconds from launch to the first 200 on the health path."""
        wait_for(self.health)
        return time.perf_counter() - self.started

    def stop(self) -> None:
        stop_process(self.process, 10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def post(self, path: str, body: dict, headers: dict[str, str]) -> dict:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **headers},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)


def python_server(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def emulator_command(port: int, *extra: str) -> list[str]:
    # Quiet, but for an access log's own lines: at `warning`, uvicorn made each line's
    # arguments and dropped the line, and the access log's figure measured no log at all.
    level = "info" if "--access-log" in extra else "warning"
    return python_server("emulator", "serve", "--port", str(port), "--log-level", level, *extra)


def emulator(port: int, *extra: str, code: Path | None = None) -> Server:
    """``serve`` on ``port``; the package in folder ``code`` if given (another revision's
    tree, `code_environment`), else the one this process imports."""
    command = emulator_command(port, *extra)
    if code is None:
        return Server(command, port, "/_emulator/health")
    env = code_environment(code)
    return Server(command, port, "/_emulator/health", cwd=os.fspath(code), env=env)


def code_environment(code: Path) -> dict[str, str]:
    """This process's environment for a Python run in folder ``code``, importing the
    package there before the installed one."""
    return {**os.environ, "PYTHONPATH": os.fspath(code)}


def bare_command(port: int) -> list[str]:
    return python_server(
        "uvicorn", "tests.benchmarks.bare:app", "--port", str(port), "--no-access-log",
        "--log-level", "warning",
    )  # fmt: skip


def bare(port: int) -> Server:
    return Server(bare_command(port), port, "/health")


def install_aimock(folder: Path) -> tuple[Path | None, str]:
    """aimock's CLI installed from npm into ``folder``, or None and why not."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return None, "aimock skipped: Node.js (node and npm) is not installed"
    done = subprocess.run(
        ["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", AIMOCK],
        capture_output=True,
        text=True,
        timeout=180,
    )
    cli = folder / "node_modules/@copilotkit/aimock/dist/cli.js"
    if done.returncode != 0 or not cli.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"aimock skipped: npm install {AIMOCK} failed ({last})"
    return cli, f"aimock: {AIMOCK} installed into a temporary folder"


def aimock(cli: Path, port: int) -> Server:
    fixture = Path(tempfile.mkdtemp(prefix="aimock-fixture-")) / "fal.json"
    fixture.write_text(json.dumps(AIMOCK_FIXTURE))
    command = ["node", str(cli), "-p", str(port), "-f", str(fixture), "--log-level", "silent"]
    return Server(command, port, "/health", cwd=os.fspath(fixture.parent))
