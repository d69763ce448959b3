"""``GET /``: what this server is, as JSON and as a page for a browser."""

import re

from starlette.testclient import TestClient

from emulator import create_app


def test_the_page_says_each_providers_endpoint_count_in_words() -> None:
    with TestClient(create_app()) as client:
        counts = client.get("/").json()["endpoints"]
        page = client.get("/", headers={"Accept": "text/html"}).text
    said = re.search(r"<p>Endpoints: (.*?)</p>", page)
    assert said is not None  # not a Python dict's repr, {&#x27;fal&#x27;: 1546, …}
    assert said[1] == f"fal {counts['fal']:,} · wavespeed {counts['wavespeed']}"
