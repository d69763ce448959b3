"""``GET /``: what this server is, as JSON and as a page for a browser."""

import re
from pathlib import Path

from starlette.testclient import TestClient

from emulator import create_app
from emulator.providers.registry import CANONICAL_HOSTS

ROOT = Path(__file__).parents[2]


def test_the_page_says_each_providers_endpoint_count_in_words() -> None:
    with TestClient(create_app()) as client:
        counts = client.get("/").json()["endpoints"]
        page = client.get("/", headers={"Accept": "text/html"}).text
    said = re.search(r"<p>Endpoints: (.*?)</p>", page)
    assert said is not None  # not a Python dict's repr, {&#x27;fal&#x27;: 1546, …}
    assert said[1] == f"fal {counts['fal']:,} · wavespeed {counts['wavespeed']}"


def test_every_providers_surface_is_listed() -> None:
    """The home page and docs/index.md's table list every surface a provider is served at
    (the discovery APIs' /fal/web/ and /fal/api/ were missing)."""
    with TestClient(create_app()) as client:
        listed = client.get("/").json()["surfaces"]
    table = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for surface in CANONICAL_HOSTS:
        assert f"/{surface}/" in listed, surface
        assert f"| `/{surface}/…` |" in table, surface
    assert listed["/fal/web/"].startswith("https://fal.ai/")
