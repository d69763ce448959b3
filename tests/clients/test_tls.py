"""TLS mode: fal_client configured by environment variables alone."""

from __future__ import annotations

import io
import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from PIL import Image

from emulator import EmulatorConfig
from emulator.cli import main
from emulator.server import BackgroundServer
from emulator.tls import ensure_tls

from ..conftest import FAST

CLIENT = """
import json, fal_client
result = fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "over tls"}, with_logs=True)
print(json.dumps(result))
"""

UPLOAD = """
import fal_client
from emulator.clients import patch_fal_client
with patch_fal_client("https://localhost:{port}"):  # the one line uploads need
    print(fal_client.SyncClient().upload(b"tls bytes", "text/plain", "t.txt"))
"""


def printed_environment(
    port: int, tls_dir: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, str]:
    assert main(["env", "--port", str(port), "--tls-dir", str(tls_dir)]) == 0
    exports = capsys.readouterr().out.splitlines()
    return dict(line.removeprefix("export ").split("=", 1) for line in exports)


@pytest.fixture
def tls_server(tmp_path: Path) -> BackgroundServer:
    with BackgroundServer(EmulatorConfig(progression=FAST), tls=ensure_tls(tmp_path)) as server:
        yield server


def trusting(environment: dict[str, str]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=environment["SSL_CERT_FILE"])


def run_python(code: str, environment: dict[str, str]) -> str:
    env = {**os.environ, **environment, "FAL_KEY": "tls-key"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_subscribe_with_the_printed_environment_only(
    tls_server: BackgroundServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environment = printed_environment(tls_server.port, tmp_path, capsys)
    assert environment["FAL_RUN_HOST"] == f"localhost:{tls_server.port}/fal/run"
    result = json.loads(run_python(CLIENT, environment))
    url = result["images"][0]["url"]
    assert url.startswith(f"https://localhost:{tls_server.port}/fal/cdn/")
    image = httpx.get(url, verify=trusting(environment)).content
    assert Image.open(io.BytesIO(image)).size == (1024, 1024)


def test_uploads_with_the_one_line_helper(
    tls_server: BackgroundServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environment = printed_environment(tls_server.port, tmp_path, capsys)
    url = run_python(UPLOAD.format(port=tls_server.port), environment).strip()
    assert httpx.get(url, verify=trusting(environment)).content == b"tls bytes"


def test_the_certificate_is_made_once_and_reused(tmp_path: Path) -> None:
    first = ensure_tls(tmp_path)
    stamp = first.certificate.read_bytes()
    assert ensure_tls(tmp_path).certificate.read_bytes() == stamp
    assert oct(first.key.stat().st_mode & 0o777) == "0o600"
