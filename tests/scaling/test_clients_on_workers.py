"""The official clients, unmodified (Python and npm), against `serve --workers 2` on a real Redis:
every call of theirs may land on either worker (a new connection each time, or a pooled
one), and all of it works: queue submits, polls and results, uploads with a CDN token
issued by one worker and used at the other, WaveSpeed's polling and sync mode, and the
webhooks both ask for, each delivered once by whichever worker claims it."""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import fal_client
import httpx
import pytest
from wavespeed import Client

from emulator import patch_fal_client
from tests import webhook_receiver
from tests.bounded import eventually
from tests.clients.conftest import run_node
from tests.redis_server import RedisServer
from tests.scaling.serving import serving, worker_pids
from tests.webhook_receiver import Receiver

MODEL, SIZE = "wavespeed-ai/bitdance-14b/text-to-image", {"size": "256*256"}
receiver = webhook_receiver.receiver


def test_fal_client_and_the_wavespeed_sdk_across_two_workers(
    redis: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
        polled = wavespeed.run(MODEL, {"prompt": "a lighthouse", **SIZE})
        synced = wavespeed.run(MODEL, {"prompt": "a lighthouse", **SIZE}, enable_sync_mode=True)
        for output in (polled, synced):
            assert httpx.get(output["outputs"][0], timeout=10).status_code == 200


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_npm_clients_across_two_workers(redis: RedisServer, tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"  # parts and large files: a folder both workers see
    flags = ("--workers", "2", "--state", redis.url, "--storage-dir", str(uploads))
    with serving(tmp_path, *flags) as server:
        base = f"http://127.0.0.1:{server.port}"
        for scenario in ("subscribe", "subscribeStreaming"):
            outcome = run_node("fal_call.mjs", base, "team", scenario)["result"]
            last = outcome["statuses"][-1]  # [status, log lines] when polling, else status
            assert (last[0] if isinstance(last, list) else last) == "COMPLETED"
            assert httpx.get(outcome["data"]["images"][0]["url"], timeout=10).status_code == 200
        stored = run_node("fal_call.mjs", base, "team", "upload")["result"]
        assert httpx.get(stored["small"], timeout=10).content == b"hello from node"
        large = httpx.get(stored["large"], timeout=60).content  # 91 MiB, in parts
        assert len(large) == stored["largeSize"]

        call = {"method": "run", "model": MODEL, "input": {"prompt": "x", **SIZE}, "options": {}}
        for options in ({}, {"enableSyncMode": True}):
            made = run_node(
                "wavespeed_call.mjs",
                f"{base}/wavespeed",
                "team",
                json.dumps({**call, "options": options}),
            )["result"]
            assert httpx.get(made["outputs"][0], timeout=10).status_code == 200


def test_webhooks_from_both_clients_arrive_once_each_across_two_workers(
    redis: RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    receiver: Callable[..., Receiver],
) -> None:
    """Each delivery is claimed and leased by one worker, retried after a refusal by
    whichever is free, and ends once: what `Store.guarded` keeps whole across workers."""
    monkeypatch.setenv("FAL_KEY", "team")
    target = receiver(statuses=(500,))  # the first delivery is refused: it is retried
    flags = ("--workers", "2", "--state", redis.url, "--webhook-time-scale", "0.0001")
    with serving(tmp_path, *flags) as server:
        base = f"http://127.0.0.1:{server.port}"
        with patch_fal_client(base):
            handles = [
                fal_client.submit(
                    "fal-ai/bitdance", arguments={"prompt": f"{n}"}, webhook_url=target.url
                )
                for n in range(3)
            ]
        wavespeed = Client(api_key="team", base_url=f"{base}/wavespeed")
        made = wavespeed.run(MODEL, {"prompt": "a hook", "webhook_url": target.url, **SIZE})
        assert eventually(lambda: len(target.bodies) >= 5, 20), target.bodies
        time.sleep(0.5)  # long enough for a duplicate to show
    ids = [body.get("request_id") or body["id"] for body in target.bodies]
    fal_ids = {body["request_id"] for body in target.bodies if "request_id" in body}
    wavespeed_ids = {body["id"] for body in target.bodies if "request_id" not in body}
    assert fal_ids == {handle.request_id for handle in handles}
    assert len(wavespeed_ids) == 1 and made["outputs"]
    # four deliveries, each once but the first to arrive (either provider's), refused: twice
    assert sorted(Counter(ids).values()) == [1, 1, 1, 2] and Counter(ids)[ids[0]] == 2
