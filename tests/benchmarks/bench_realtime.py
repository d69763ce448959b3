"""fal_client realtime: one input and its result, in-process and over a loopback server,
beside the same client's connect + token cost; and the processor time `serve` spends on an
input carrying a 1 MiB picture as bytes (``RawImage``), read from its process. Prints the
figures.

    .venv/bin/python -m tests.benchmarks.bench_realtime
"""

from __future__ import annotations

import os
import time

import fal_client

from emulator import EmulatorConfig, emulate
from emulator.clients import patch_fal_client
from emulator.server import BackgroundServer
from tests.benchmarks.suite import servers

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


#: inputs whose server time is read, after as many to warm up
LARGE_INPUTS = 60
#: random bytes: the client's compression leaves them as large
PICTURE = os.urandom(2**20)


def _server_cpu_per_large_input() -> float:
    """Milliseconds of `serve`'s processor time (user and system, from /proc) per input
    of a 512×512 result from a 1 MiB picture sent as bytes (``RawImage``)."""
    with servers.emulator(servers.free_port()) as server:
        server.wait()
        url = f"http://127.0.0.1:{server.port}"
        with patch_fal_client(url), fal_client.realtime(LCM) as connection:

            def inputs() -> None:
                for i in range(LARGE_INPUTS):
                    connection.send({**INPUT, "prompt": f"frame {i}", "image": PICTURE})
                    connection.recv()

            inputs()
            before = _cpu_seconds(server.process.pid)
            inputs()
            return (_cpu_seconds(server.process.pid) - before) / LARGE_INPUTS * 1000


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    with emulate(seed=1):
        _per_message()  # warm-up
        in_process = _per_message()
    with BackgroundServer(EmulatorConfig(seed=1)) as server, patch_fal_client(server.url):
        _per_message()
        served = _per_message()
    for name, (opened, each) in (("in-process", in_process), ("loopback server", served)):
        print(f"realtime {name:16}: open {opened:6.2f} ms, {each:6.2f} ms per input → result")
    large = _server_cpu_per_large_input()
    print(f"realtime serve's processor time per input with a 1 MiB picture (bytes): {large:.1f} ms")


if __name__ == "__main__":
    main()
