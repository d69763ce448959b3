"""Shared uploads whose folder refuses a write once `serve` runs (its permissions changed,
its disk full), met by the official clients and curl on a real Redis: each upload too
large for the store is refused with a 507 in its provider's format, saying why, where it
was a bare 500 (fal's format on WaveSpeed's routes too). A folder unwritable at start
stops serve: tests/test_serve.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import fal_client
import pytest
from wavespeed import Client

from emulator import patch_fal_client
from tests.redis_server import RedisServer
from tests.scaling.serving import serving
from tests.unwritable import unwritable

#: larger than the store keeps inline (1 MiB by default): written to the folder
LARGE = os.urandom(2 * 2**20)
REFUSED = "The emulator cannot write uploads to its storage folder"


def test_a_folder_refusing_uploads_is_each_providers_507(
    redis: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAL_KEY", "team")
    folder = tmp_path / "uploads"
    flags = ("--workers", "2", "--state", redis.url, "--storage-dir", str(folder))
    with serving(tmp_path, *flags) as server, unwritable(folder):
        base = f"http://127.0.0.1:{server.port}"
        with patch_fal_client(base), pytest.raises(fal_client.FalClientHTTPError) as fal:
            fal_client.upload(LARGE, "application/octet-stream")
        assert fal.value.status_code == 507 and REFUSED in fal.value.message

        large = tmp_path / "large.bin"
        large.write_bytes(LARGE)
        with pytest.raises(RuntimeError, match="HTTP 507") as sdk:
            Client(api_key="team", base_url=f"{base}/wavespeed").upload(str(large))
        assert REFUSED in str(sdk.value)

        if shutil.which("curl") is None:
            pytest.skip("curl is not installed")
        curl = [
            "curl", "-s", "-X", "POST", f"{base}/wavespeed/api/v3/media/upload/binary",
            "-H", "Authorization: Bearer team", "-F", f"file=@{large}",
        ]  # fmt: skip
        answer = json.loads(subprocess.run(curl, capture_output=True, timeout=30).stdout)
        assert answer["code"] == 507 and answer["data"] is None
        assert answer["message"].startswith(f"{REFUSED} {folder}: ")
    assert "cannot be written" in server.stderr  # the operator's log says it too
