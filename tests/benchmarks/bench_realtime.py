"""fal_client realtime: one input and its result, in-process and over a loopback server,
beside the same client's connect + token cost. Prints the figures.

    .venv/bin/python -m tests.benchmarks.bench_realtime
"""

from __future__ import annotations

import time

import fal_client

from emulator import EmulatorConfig, emulate
from emulator.clients import patch_fal_client
from emulator.server import BackgroundServer

MESSAGES = 200
LCM = "fal-ai/fast-lcm-diffusion"
#: the docs' recommended realtime size; sync_mode (the app's default) inlines each JPEG
INPUT = {"image_size": "square"}


def _per_message() -> tuple[float, float]:
    """Milliseconds to open a session (token included), and per input → result."""
    start = time.perf_counter()
    with fal_client.realtime(LCM) as connection:
        opened = time.perf_counter()
        for i in range(MESSAGES):
            connection.send({**INPUT, "prompt": f"frame {i}"})
            connection.recv()
        done = time.perf_counter()
    return (opened - start) * 1000, (done - opened) / MESSAGES * 1000


def main() -> None:
    with emulate(seed=1):
        _per_message()  # warm-up
        in_process = _per_message()
    with BackgroundServer(EmulatorConfig(seed=1)) as server, patch_fal_client(server.url):
        _per_message()
        served = _per_message()
    for name, (opened, each) in (("in-process", in_process), ("loopback server", served)):
        print(f"realtime {name:16}: open {opened:6.2f} ms, {each:6.2f} ms per input → result")


if __name__ == "__main__":
    main()
