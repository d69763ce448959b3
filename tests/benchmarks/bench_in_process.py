"""A full ``subscribe`` cycle of the real async fal client, in-process. Prints the figures.

Compares the emulator's interception (respx + a streaming ASGI dispatch) with the same
client on a bare ``httpx.ASGITransport`` to the same app, the fastest in-process path.

    .venv/bin/python -m tests.benchmarks.bench_in_process
"""

from __future__ import annotations

import asyncio
import time
from unittest import mock

import fal_client
import fal_client.client
import httpx

from emulator import emulate

JOBS = 300
PROMPT = lambda i: f"job {i}"  # noqa: E731  (every job a new image)


async def _cycles(client: fal_client.AsyncClient) -> float:
    await client.subscribe("fal-ai/bitdance", arguments={"prompt": "warm-up"})
    start = time.perf_counter()
    for i in range(JOBS):
        await client.subscribe("fal-ai/bitdance", arguments={"prompt": PROMPT(i)})
    return (time.perf_counter() - start) / JOBS * 1000


def main() -> None:
    with emulate(seed=1) as emulation:
        intercepted = asyncio.run(_cycles(fal_client.AsyncClient(key="bench")))
        bare = httpx.ASGITransport(emulation.app)
        with mock.patch.object(fal_client.client, "AsyncBackupDomainTransport", lambda **_: bare):
            baseline = asyncio.run(_cycles(fal_client.AsyncClient(key="bench")))
    print(f"subscribe, bare httpx.ASGITransport : {baseline:6.2f} ms per job")
    print(f"subscribe, provider-emulator in-process: {intercepted:6.2f} ms per job")
    print(f"ratio                              : {intercepted / baseline:6.2f}")


if __name__ == "__main__":
    main()
