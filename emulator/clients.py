"""Pointing the official Python clients at an emulator over plain HTTP.

``fal_client`` builds its URLs from module constants (it always prepends ``https://`` to
its host environment variables), so plain HTTP needs them set; this does it and puts them
back afterwards:

    with patch_fal_client("http://127.0.0.1:8000"):
        fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "a cat"})
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

#: Credentials the clients insist on before sending anything; any value works here.
FAKE_CREDENTIALS = {"FAL_KEY": "emulated-fal-key", "WAVESPEED_API_KEY": "emulated-wavespeed-key"}


@contextmanager
def patch_fal_client(base_url: str) -> Iterator[None]:
    """Send every ``fal_client`` call (queue, run, REST, CDN) to the emulator at ``base_url``;
    without a ``FAL_KEY`` in the environment, an emulated one is set meanwhile (the client
    refuses to send anything without one)."""
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
    provided_key = not os.environ.get("FAL_KEY")
    if provided_key:
        os.environ["FAL_KEY"] = FAKE_CREDENTIALS["FAL_KEY"]
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(fal, name, value)
        if provided_key:
            os.environ.pop("FAL_KEY", None)
