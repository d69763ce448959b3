"""The official Python clients, unmodified, against `serve --workers 2` on a real Redis:
every call of theirs may land on either worker (a new connection each time, or a pooled
one), and all of it works: queue submits, polls and results, uploads with a CDN token
issued by one worker and used at the other, WaveSpeed's polling and sync mode."""

from __future__ import annotations

import fal_client
import httpx
from wavespeed import Client

from emulator import patch_fal_client
from tests.redis_server import RedisServer
from tests.scaling.serving import serving, worker_pids


def test_fal_client_and_the_wavespeed_sdk_across_two_workers(
    redis: RedisServer, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("FAL_KEY", "team")
    flags = ("--workers", "2", "--state", redis.url, "--progression", "polls:1,1")
    with serving(tmp_path, *flags) as server:
        assert len(worker_pids(server, 2)) == 2
        base = f"http://127.0.0.1:{server.port}"
        with patch_fal_client(base):
            small = {"image_size": {"width": 64, "height": 64}}
            images = [
                fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": f"{n}", **small})
                for n in range(4)
            ]
            uploaded = fal_client.upload(b"kept across workers" * 10, "text/plain")
        for made in images:
            assert httpx.get(made["images"][0]["url"], timeout=10).status_code == 200
        assert httpx.get(uploaded, timeout=10).content == b"kept across workers" * 10

        wavespeed = Client(api_key="team", base_url=f"{base}/wavespeed")
        model, size = "wavespeed-ai/bitdance-14b/text-to-image", {"size": "256*256"}
        polled = wavespeed.run(model, {"prompt": "a lighthouse", **size})
        synced = wavespeed.run(model, {"prompt": "a lighthouse", **size}, enable_sync_mode=True)
        for output in (polled, synced):
            assert httpx.get(output["outputs"][0], timeout=10).status_code == 200
