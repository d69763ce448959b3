"""Pointing the official Python clients at an emulator over plain HTTP.

``fal_client`` builds its URLs from module constants (it always prepends ``https://`` to
its host environment variables), so plain HTTP needs them set; this does it and puts them
back afterwards:

    with patch_fal_client("http://127.0.0.1:8000"):
        fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "a cat"})
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["patch_fal_client"]


@contextmanager
def patch_fal_client(base_url: str) -> Iterator[None]:
    """Send every ``fal_client`` call (queue, run, REST, CDN) to the emulator at ``base_url``."""
    import fal_client.client as fal

    base = base_url.rstrip("/")
    targets = {
        "RUN_URL_FORMAT": f"{base}/fal/run/",
        "QUEUE_URL_FORMAT": f"{base}/fal/queue/",
        "REST_URL": f"{base}/fal/rest",
        "CDN_URL": f"{base}/fal/cdn",
        "REALTIME_URL_FORMAT": f"{base.replace('http', 'ws', 1)}/fal/run/",
    }
    saved = {name: getattr(fal, name) for name in targets}
    for name, value in targets.items():
        setattr(fal, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(fal, name, value)
