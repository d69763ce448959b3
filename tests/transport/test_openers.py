"""urllib, intercepted: urlopen and urlretrieve of provider hosts answered in-process, its
responses, errors and timeouts as over a real connection, other hosts left alone."""

from __future__ import annotations

import http.client
import http.server
import io
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from PIL import Image

from emulator import BackgroundServer, emulate
from tests.transport.alike import IN_PROCESS, fault_cases, meets_fault_alike

SUBMIT = "/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
#: the read timeout of the exchanges (as in test_adapters: a held answer outlasts it)
READ = 1.0
FAULTS = [
    # effect, its rule, and what urllib raises for it over a real connection
    # (a body segment arriving after the server dropped meets a closed socket: a reset)
    ("reset", {}, (http.client.IncompleteRead, ConnectionResetError)),
    ("hang", {"seconds": READ + 2}, TimeoutError),
    ("media_truncated", {}, http.client.IncompleteRead),
    ("media_slow", {"seconds": READ + 2}, TimeoutError),
]


def _post(url: str, body: dict) -> urllib.request.Request:
    headers = {"Authorization": "Bearer k", "Content-Type": "application/json"}
    return urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)


def _exchange(base: str, effect: str) -> bytes:
    """A submit, or for a media fault a download of its output, within `READ`."""
    media = effect.startswith("media")
    body = {"prompt": "x", "enable_sync_mode": media}
    with urllib.request.urlopen(
        _post(base + SUBMIT, body), timeout=READ if not media else 5
    ) as answer:
        submitted = answer.read()
    if not media:
        return submitted
    url = json.loads(submitted)["data"]["outputs"][0]
    with urllib.request.urlopen(url, timeout=READ) as download:
        return download.read()


def test_an_output_downloads_with_urlopen_and_urlretrieve_in_process() -> None:
    with emulate():
        submitted = urllib.request.urlopen(
            _post(IN_PROCESS + SUBMIT, {"prompt": "a", "size": "512*384", "enable_sync_mode": True})
        )
        assert submitted.status == 200 and submitted.getheader("content-type") == "application/json"
        url = json.load(submitted)["data"]["outputs"][0]
        with urllib.request.urlopen(url) as download:
            data = download.read()
            assert download.reason == "OK" and download.geturl() == url
            assert int(download.headers["content-length"]) == len(data)
        assert Image.open(io.BytesIO(data)).size == (512, 384)
        path, _ = urllib.request.urlretrieve(url)
        with open(path, "rb") as kept:
            assert kept.read() == data


def test_an_error_is_urllibs_http_error_with_the_providers_body() -> None:
    with emulate():
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(_post(IN_PROCESS + "/api/v3/no-such/model", {}))
    assert refused.value.code == 404
    assert json.loads(refused.value.read())["code"] == 404


def test_a_stream_without_length_arrives_whole_in_chunks() -> None:
    # fal's status stream: the app sends no length, as uvicorn frames it in chunks
    with emulate():
        submitted = json.load(
            urllib.request.urlopen(
                urllib.request.Request(
                    "https://queue.fal.run/fal-ai/bitdance",
                    data=b'{"prompt": "x"}',
                    headers={"Authorization": "Key k", "Content-Type": "application/json"},
                )
            )
        )
        stream = urllib.request.Request(
            submitted["status_url"] + "/stream", headers={"Authorization": "Key k"}
        )
        with urllib.request.urlopen(stream, timeout=10) as events:
            assert events.getheader("transfer-encoding") == "chunked"
            text = events.read().decode()
    assert text.startswith("data: ") and '"COMPLETED"' in text


@pytest.mark.parametrize(("effect", "rule", "error"), fault_cases(FAULTS))
def test_urllib_meets_a_fault_in_process_as_over_a_connection(
    server: BackgroundServer, effect: str, rule: dict, error: type[Exception] | tuple
) -> None:
    meets_fault_alike(server, effect, rule, error, _exchange)


@pytest.fixture
def own_service() -> Iterator[str]:
    """A server of the test's own on loopback, answering every GET with ``own``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"own")

        def log_message(self, *_: object) -> None:
            pass

    service = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=service.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{service.server_port}/"
    finally:
        service.shutdown()
        service.server_close()
        thread.join(timeout=5)


def test_other_hosts_are_left_to_the_network_and_the_patch_goes_with_the_emulation(
    own_service: str,
) -> None:
    handler = urllib.request.AbstractHTTPHandler
    before = handler.do_open
    with emulate() as emulation:
        assert urllib.request.urlopen(own_service, timeout=5).read() == b"own"
        assert handler.do_open is not before
    assert handler.do_open is before
    assert len(emulation.requests) == 0  # only provider hosts reach the app
