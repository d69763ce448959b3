"""The gallery's media, in-process: served below the dashboard as the CDN serves them, but
neither faulted nor recorded, and guarded by the admin token as the dashboard is."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, create_app
from emulator.core.faults import Fault

from ..conftest import FAST

UI = "/_emulator/ui"
#: an image, a video and an audio, each from its own fal endpoint
MADE = (
    ("fal-ai/bitdance", {"prompt": "a cat"}),
    ("fal-ai/ltx-video", {"prompt": "waves"}),
    ("fal-ai/stable-audio", {"prompt": "drums", "seconds_total": 3}),
)


def finished(client: TestClient, endpoint: str, inputs: dict) -> dict:
    submitted = client.post(f"/fal/queue/{endpoint}", json=inputs).json()
    for _ in range(5):
        client.get(submitted["status_url"])
    return client.get(submitted["response_url"]).json()


def gallery_media(client: TestClient) -> list[str]:
    """Every address the gallery's tiles load or link, but their thumbnails and jobs."""
    page = client.get(f"{UI}/gallery").text
    found = re.findall(r'(?:src|href)="([^"]+)"', page[page.index('class="tiles"') :])
    return sorted({url for url in found if "/thumbnails/" not in url and "/jobs/" not in url})


@pytest.fixture
def made(client: TestClient) -> list[dict]:
    return [finished(client, endpoint, inputs) for endpoint, inputs in MADE]


def test_the_gallery_neither_fires_media_faults_nor_adds_to_the_record(
    client: TestClient, engine: Engine, made: list[dict]
) -> None:
    """The gallery's media came from the CDN routes: opening it used up a test's staged
    ``media_missing`` and added the browser's downloads to the record (an audit)."""
    rule = engine.faults.add(Fault("media_missing", times=1))
    recorded = len(engine.record)
    media = gallery_media(client)
    assert sorted(url.rsplit(".", 1)[1] for url in media) == ["jpg", "mp4", "wav"]
    for url in media:
        assert url.startswith(f"{UI}/media/"), url
        whole = client.get(url)
        assert whole.status_code == 200 and whole.content, url
        assert client.get(url, headers={"Range": "bytes=0-99"}).status_code == 206
    assert (rule.matched, rule.fired, len(engine.record)) == (0, 0, recorded)
    # the rule is still there for the client it was staged for
    assert client.get(made[0]["images"][0]["url"]).status_code == 404
    assert rule.fired == 1


def test_a_medium_is_answered_with_the_cdns_headers(client: TestClient, made: list[dict]) -> None:
    video = made[1]["video"]
    url = f"{UI}/media/{video['file_name']}"
    whole = client.get(url)
    assert whole.content == client.get(video["url"]).content
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in whole.headers.get_list("content-security-policy")
    assert "default-src 'none'" in whole.headers["content-security-policy"]
    # kept by the browser, never by a cache shared with others: it may need a token
    assert whole.headers["cache-control"] == "private, max-age=86400"
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert client.head(url).headers["content-length"] == str(len(whole.content))
    tag = whole.headers["etag"]
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304


@pytest.mark.parametrize(
    "name",
    ["0" * 32 + ".mp4", "nope.mp4", "..%2f..%2fapp.py", "x" * 32 + ".jpg"],
)
def test_only_a_kept_medium_is_served(client: TestClient, name: str) -> None:
    assert client.get(f"{UI}/media/{name}").status_code == 404


def test_a_medium_is_served_under_its_own_name_alone(client: TestClient, made: list[dict]) -> None:
    image = made[0]["images"][0]["file_name"]
    media_id = image.split(".")[0]
    assert client.get(f"{UI}/media/{media_id}.png").status_code == 404
    assert client.get(f"{UI}/media/{media_id}").status_code == 404


def test_with_an_admin_token_a_medium_needs_it() -> None:
    engine = Engine(EmulatorConfig(admin_token="s3cret", progression=FAST))
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k"}) as client:
        image = finished(client, *MADE[0])["images"][0]["file_name"]
        url = f"{UI}/media/{image}"
        assert client.get(url, follow_redirects=False).status_code == 303
        held = client.get(url, headers={"Authorization": "Bearer s3cret"})
        assert held.status_code == 200 and held.headers["content-type"] == "image/jpeg"


def test_each_tile_says_what_its_medium_is(client: TestClient, made: list[dict]) -> None:
    """An audio has no pixels: its caption read "0×0 wav"."""
    page = client.get(f"{UI}/gallery").text
    tile = re.compile(r'<li class="tile tile-(\w+)">.*?<small>([^<]*)</small>', re.S)
    captions = dict(tile.findall(page))
    assert captions["image"] == "1024×1024 jpg"
    assert re.fullmatch(r"\d+×\d+ \d+(\.\d)? s mp4", captions["video"]), captions
    assert captions["audio"] == "3 s wav" and "0×0" not in page
