"""The Node hook (emulator/node/hook.mjs) under plain scripts of the real npm clients:
nothing in them points at the emulator, only NODE_OPTIONS and PROVIDER_EMULATOR_URL do."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import EmulatorConfig
from emulator.node import HOOK
from emulator.server import BackgroundServer

from .conftest import JS
from .test_fal_realtime_js import WEBSOCKET

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


def hooked(
    script: str, *args: str, url: str | None, node_flags: tuple[str, ...] = (), **environment: str
) -> subprocess.CompletedProcess:
    """Run ``script`` of tests/js as a newcomer would, with the hook in NODE_OPTIONS."""
    env = {**os.environ, "FAL_KEY": "js-key", "WAVESPEED_API_KEY": "js-key", **environment}
    env["NODE_OPTIONS"] = f"--import={HOOK}"
    env.pop("PROVIDER_EMULATOR_URL", None)
    if url is not None:
        env["PROVIDER_EMULATOR_URL"] = url
    return subprocess.run(
        ["node", *node_flags, script, *args],
        cwd=JS,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def immediate(serve) -> BackgroundServer:
    return serve(EmulatorConfig(progression="immediate"))


def test_fal_subscribe_reaches_the_emulator(immediate: BackgroundServer) -> None:
    done = hooked("plain_fal.mjs", url=immediate.url)
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert output["prompt"] == "a cat"
    assert output["images"][0]["url"].startswith(f"{immediate.url}/fal/cdn/files/")
    assert immediate.engine.record.calls("fal-ai/bitdance").last.json == {"prompt": "a cat"}


def test_wavespeed_run_reaches_the_emulator(immediate: BackgroundServer) -> None:
    done = hooked("plain_wavespeed.mjs", url=immediate.url)
    assert done.returncode == 0, done.stderr
    [url] = json.loads(done.stdout)["outputs"]
    assert url.startswith(f"{immediate.url}/wavespeed/cdn/files/")
    model = "wavespeed-ai/bitdance-14b/text-to-image"
    assert immediate.engine.record.calls(model).last.json == {"prompt": "a cat"}


def test_fal_realtime_websocket_reaches_the_emulator(immediate: BackgroundServer) -> None:
    done = hooked("plain_fal_realtime.mjs", url=immediate.url, node_flags=WEBSOCKET)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"prompt": "a cat in real time", "width": 512}


def test_another_host_fails_clearly_unless_let_through(serve, immediate: BackgroundServer) -> None:
    # Another loopback server stands for the rest of the internet: nothing leaves the machine.
    elsewhere = serve().url + "/_emulator/health"
    refused = hooked("plain_fetch.mjs", elsewhere, url=immediate.url)
    assert refused.returncode != 0 and refused.stdout == ""
    assert f"GET {elsewhere} is not a provider host" in refused.stderr
    assert "UnmatchedRequest" in refused.stderr
    let_through = hooked(
        "plain_fetch.mjs", elsewhere, url=immediate.url, PROVIDER_EMULATOR_UNMATCHED="pass"
    )
    assert json.loads(let_through.stdout) == {"status": 200}


def test_the_emulators_own_url_is_fetched_as_it_is(immediate: BackgroundServer) -> None:
    done = hooked("plain_fetch.mjs", immediate.url + "/_emulator/health", url=immediate.url)
    assert json.loads(done.stdout) == {"status": 200}, done.stderr


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        (None, "PROVIDER_EMULATOR_URL is not set"),
        ("127.0.0.1:8000", "PROVIDER_EMULATOR_URL is not an http(s) URL"),
    ],
)
def test_without_an_emulator_url_nothing_runs(setting: str | None, says: str) -> None:
    done = hooked("plain_fal.mjs", url=setting)
    assert done.returncode == 2 and done.stdout == ""
    assert says in done.stderr


def test_fal_client_mode_status_stream_opens_with_a_client_token(
    immediate: BackgroundServer,
) -> None:
    done = hooked("plain_fal_client_mode.mjs", url=immediate.url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "prompt": "a cat in client mode",
        "completed": "COMPLETED",
        "streamed": "COMPLETED",
    }
    streams = [r for r in immediate.engine.record if r.path.endswith("/status/stream")]
    assert len(streams) == 2
    for streamed in streams:  # no key: the token alone, recorded masked
        assert streamed.status == 200 and streamed.key == ""
        assert "fal_jwt_token=****" in streamed.query


ROOT = Path(__file__).parents[2]


def test_the_readmes_javascript_line_runs_as_written(
    immediate: BackgroundServer, tmp_path: Path
) -> None:
    """README.md's line, from a checkout set up as its quick start says (no environment
    activated) and with only the keys it names, runs docs/javascript.md's app.mjs."""
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    said = re.search(r"JavaScript needs no change at all: `([^`]+)` \(with any (.+?)\)", readme)
    assert said is not None
    command, keys = said[1], re.findall(r"`(\w+)`", said[2])
    page = (ROOT / "docs" / "javascript.md").read_text(encoding="utf-8")
    (tmp_path / "app.mjs").write_text(re.findall(r"```javascript\n(.*?)```", page, re.S)[0])
    (tmp_path / "node_modules").symlink_to(JS / "node_modules")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "bin").symlink_to(Path(sys.executable).parent)
    node = Path(str(shutil.which("node"))).parent
    done = subprocess.run(
        ["bash", "-c", command.replace("http://127.0.0.1:8000", immediate.url)],
        cwd=tmp_path,
        env={"PATH": f"{node}:/usr/bin:/bin", **dict.fromkeys(keys, "any-key")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    fal_image, wavespeed_image = done.stdout.split()
    assert fal_image.startswith(f"{immediate.url}/fal/cdn/files/")
    assert wavespeed_image.startswith(f"{immediate.url}/wavespeed/cdn/files/")
