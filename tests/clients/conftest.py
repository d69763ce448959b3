"""The real-client suites run twice: against a server on a loopback port, and in-process.

One suite, two modes (the moto way): a test asks for ``start`` (or the ready-made ``fal``
and ``wavespeed_url``) and gets an emulator in the mode of its parameter.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import fal_client
import pytest

from emulator import Emulation, EmulatorConfig, Engine
from emulator.clients import patch_fal_client
from emulator.server import BackgroundServer

from ..conftest import FAST


@dataclass(frozen=True)
class Target:
    """An emulator in one mode, and where the WaveSpeed SDK should send its requests."""

    engine: Engine
    wavespeed_url: str


@pytest.fixture(params=["server", "in_process"])
def start(
    request: pytest.FixtureRequest, serve: Callable[..., BackgroundServer]
) -> Iterator[Callable[..., Target]]:
    """Start an emulator in this test's mode; fal_client is pointed at it."""
    with ExitStack() as stack:

        def start_in_mode(config: EmulatorConfig | None = None) -> Target:
            config = config or EmulatorConfig(progression=FAST)
            if request.param == "server":
                server = serve(config)
                stack.enter_context(patch_fal_client(server.url))
                return Target(server.engine, server.url + "/wavespeed")
            emulation = stack.enter_context(Emulation(config=config))
            return Target(emulation.engine, "https://api.wavespeed.ai")  # the real host

        yield start_in_mode


@pytest.fixture
def target(start: Callable[..., Target]) -> Target:
    return start()


@pytest.fixture
def fal(target: Target, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The real, unmodified ``fal_client`` module, talking to the emulator."""
    monkeypatch.setenv("FAL_KEY", "client-key")
    return fal_client


JS = Path(__file__).parents[1] / "js"


def run_node(script: str, *args: str, node_flags: tuple[str, ...] = ()) -> dict:
    """Run a script of tests/js with the real npm clients; its JSON outcome."""
    if not (JS / "node_modules").is_dir():
        pytest.fail(
            "the npm clients are not installed: run `npm ci` in tests/js (bash .ci/run does)"
        )
    done = subprocess.run(
        ["node", *node_flags, script, *args],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)
