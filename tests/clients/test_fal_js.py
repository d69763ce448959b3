"""The real @fal-ai/client (Node 20, from the committed lockfile) against a server."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from emulator.server import BackgroundServer

JS = Path(__file__).parents[1] / "js"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


def run(server: BackgroundServer, scenario: str) -> dict:
    if not (JS / "node_modules" / "@fal-ai" / "client").is_dir():
        pytest.fail(
            "the npm clients are not installed: run `npm ci` in tests/js (bash .ci/run does)"
        )
    done = subprocess.run(
        ["node", "fal_call.mjs", server.url, "js-key", scenario],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_storage_upload_small_and_multipart(server: BackgroundServer) -> None:
    outcome = run(server, "upload")["result"]
    assert httpx.get(outcome["small"]).content == b"hello from node"
    large = httpx.get(outcome["large"]).content
    expected = bytes(i % 251 for i in range(outcome["largeSize"]))
    assert hashlib.sha256(large).digest() == hashlib.sha256(expected).digest()
