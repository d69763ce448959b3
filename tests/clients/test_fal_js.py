"""The real @fal-ai/client (Node 20, from the committed lockfile) against a server."""

from __future__ import annotations

import hashlib
import shutil

import httpx
import pytest

from emulator.server import BackgroundServer

from .conftest import run_node

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


def run(server: BackgroundServer, scenario: str) -> dict:
    return run_node("fal_call.mjs", server.url, "js-key", scenario)


def test_storage_upload_small_and_multipart(server: BackgroundServer) -> None:
    outcome = run(server, "upload")["result"]
    assert httpx.get(outcome["small"]).content == b"hello from node"
    large = httpx.get(outcome["large"]).content
    expected = bytes(i % 251 for i in range(outcome["largeSize"]))
    assert hashlib.sha256(large).digest() == hashlib.sha256(expected).digest()
