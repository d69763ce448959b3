import httpx
import pytest
import requests

from emulator import emulate
from emulator.providers.registry import HOST_SURFACES


@pytest.mark.parametrize("host", sorted(HOST_SURFACES))
def test_every_provider_host_reaches_the_app(host: str) -> None:
    with emulate() as emulation:
        assert httpx.get(f"https://{host}/nothing-here").status_code in (401, 404, 405)
        assert requests.get(f"https://{host}/nothing-here").status_code in (401, 404, 405)
    assert {entry.host for entry in emulation.requests} == {host}


def test_requests_bodies_and_streamed_downloads() -> None:
    with emulate():
        submitted = requests.post(
            "https://api.wavespeed.ai/api/v3/wavespeed-ai/bitdance-14b/text-to-image",
            data=b'{"prompt": "bytes body", "enable_sync_mode": true}',
            headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
        ).json()
        url = submitted["data"]["outputs"][0]
        with requests.get(url, stream=True) as download:
            streamed = b"".join(download.iter_content(1000))
        assert streamed == requests.get(url).content and streamed[:2] == b"\xff\xd8"


def test_interception_ends_with_the_emulation() -> None:
    with emulate():
        pass
    with pytest.raises(Exception) as raised:  # the guard in conftest refuses real network
        httpx.get("https://queue.fal.run/", timeout=1)
    assert "emulator" not in type(raised.value).__module__
