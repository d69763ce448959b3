"""The app's own CPU time per request, in-process (no network, no server, no client): the
emulator's hot paths beside the bare Starlette app of the HTTP cases, called the same way.

Measured as process CPU time (the fastest of a few batches), so that other work on a shared
machine slows it far less than the throughput figures: the ratio shows what the emulator
adds per request where the HTTP rows, on a busy machine, mostly show noise.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.benchmarks.suite.asgi_call import call, post

__all__ = ["AppCpu", "status_path"]

FAL_SUBMIT = "/fal/queue/fal-ai/bitdance"
WAVESPEED_SUBMIT = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
#: the bare app's status route (any path: it answers every one alike)
BARE_STATUS = "/fal/queue/x/requests/y/status"
BODY = json.dumps({"prompt": "a lighthouse at dusk"}).encode()
FAL, FAL_FLOOD = {"Authorization": "Key bench"}, {"Authorization": "Key flood"}
WAVESPEED_FLOOD = {"Authorization": "Bearer flood"}
#: a submit carrying a picture inline, as clients send a local file: 1 MiB of base64
_PICTURE = base64.b64encode(random.Random(0).randbytes(3 * 2**18)).decode()
IMAGE_BODY = json.dumps({"prompt": "a", "image_url": f"data:image/png;base64,{_PICTURE}"}).encode()
IMAGE_KEY = {"Authorization": "Key images"}
#: what the app keeps of that key's jobs: a few MiB, its oldest going as new ones come
IMAGE_KEY_BYTES = 16 * 2**20

Request = Callable[[], Awaitable[tuple[int, bytes]]]


def _floor_ms(work: Callable[[], object], count: int, batches: int = 3) -> float:
    """Milliseconds of process CPU time per call of ``work``: the fastest batch of ``count``."""
    best = float("inf")
    for _ in range(batches):
        start = time.process_time()
        for _ in range(count):
            work()
        best = min(best, (time.process_time() - start) / count * 1000)
    return best


async def _cpu_ms(request: Request, count: int, batches: int = 3) -> float:
    """Milliseconds of process CPU time per request: the fastest batch of ``count``."""
    status, body = await request()
    if not 200 <= status < 300:
        raise RuntimeError(f"{status} {body[:200]!r}")
    best = float("inf")
    for _ in range(batches):
        start = time.process_time()
        for _ in range(count):
            await request()
        best = min(best, (time.process_time() - start) / count * 1000)
    return best


def status_path(submitted: bytes) -> str:
    """The path (without logs) of the status URL in a fal submit's answer to `asgi_call`'s
    client, which calls in as ``127.0.0.1:8000``."""
    return json.loads(submitted)["status_url"].split("8000", 1)[1] + "?logs=0"


class AppCpu:
    """The emulator's app (jobs stay queued) and the bare app, built once."""

    def __init__(self) -> None:
        self.apps: tuple[Any, Any] | None = None

    def _build(self) -> tuple[Any, Any]:
        from emulator import EmulatorConfig, Engine, Progression, create_app
        from tests.benchmarks.bare import app as bare

        config = EmulatorConfig(
            seed=1,
            progression=Progression.parse("polls:1000000000,1"),
            max_retained_bytes_per_key=IMAGE_KEY_BYTES,
        )
        return create_app(engine=Engine(config)), bare

    def __call__(self, count: int) -> dict[str, float]:
        self.apps = self.apps or self._build()
        return asyncio.run(self._measure(*self.apps, count))

    async def _measure(self, app: Any, bare: Any, count: int) -> dict[str, float]:
        _, submitted = await post(app, FAL_SUBMIT, BODY, FAL)
        status = status_path(submitted)
        return {
            "app cpu: fal status": await _cpu_ms(lambda: call(app, status, FAL), count),
            "app cpu: bare status": await _cpu_ms(lambda: call(bare, BARE_STATUS, FAL), count),
            "app cpu: fal submit": await _cpu_ms(
                lambda: post(app, FAL_SUBMIT, BODY, FAL_FLOOD), count
            ),
            "app cpu: bare submit": await _cpu_ms(
                lambda: post(bare, FAL_SUBMIT, BODY, FAL_FLOOD), count
            ),
            "app cpu: wavespeed submit": await _cpu_ms(
                lambda: post(app, WAVESPEED_SUBMIT, BODY, WAVESPEED_FLOOD), count
            ),
            # a hundredth as many: each costs a hundred times as much
            "app cpu: fal submit, 1 MiB inline picture": await _cpu_ms(
                lambda: post(app, FAL_SUBMIT, IMAGE_BODY, IMAGE_KEY), -(-count // 100)
            ),
            "app cpu: json.loads, 1 MiB inline picture": _floor_ms(
                lambda: json.loads(IMAGE_BODY), -(-count // 100)
            ),
        }
