"""The catalogue's cost: start-up, import, fixture set-up, first and later calls, memory.
Prints each figure beside its target (issue 13), with the catalogue and without it.

    .venv/bin/python -m tests.benchmarks.bench_catalogue
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import httpx

from emulator import EmulatorConfig, Engine, Progression
from emulator.contracts.catalogue import CATALOGUE_FILE, Catalogue
from emulator.contracts.loading import load_contracts
from emulator.emulation import Emulation
from emulator.media.links import data_uri_linker

RUNS = 5
IMMEDIATE = Progression.parse("immediate")


def _median_ms(measure: Callable[[], float], runs: int = RUNS) -> float:
    return statistics.median(measure() for _ in range(runs)) * 1000


def _import_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import emulator"], check=True)
    return time.perf_counter() - start


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(*flags: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    command = [sys.executable, "-m", "emulator.cli", "serve", "--port", str(port), *flags]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}"


def _first_answer(process: subprocess.Popen, url: str, path: str = "/_emulator/health") -> float:
    start = time.perf_counter()
    deadline = start + 30
    while time.perf_counter() < deadline and process.poll() is None:
        try:
            if httpx.get(url + path, timeout=1).status_code == 200:
                return time.perf_counter() - start
        except httpx.TransportError:
            time.sleep(0.005)
    raise TimeoutError("the server exited or did not answer in 30 s")


def _startup_seconds(*flags: str) -> float:
    start = time.perf_counter()
    process, url = _serve(*flags)
    try:
        _first_answer(process, url)
        return time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(10)


def _rss_mib(*flags: str, path: str) -> float:
    process, url = _serve(*flags)
    try:
        _first_answer(process, url)
        httpx.get(url + path, timeout=30)
        with open(f"/proc/{process.pid}/status") as status:
            line = next(line for line in status if line.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024
    finally:
        process.terminate()
        process.wait(10)


def _fixture_ms(config: EmulatorConfig, runs: int = 200) -> float:
    with Emulation(config=config):
        pass  # warm: modules imported, the curated documents in the page cache
    start = time.perf_counter()
    for _ in range(runs):
        with Emulation(config=config):
            pass
    return (time.perf_counter() - start) / runs * 1000


def _call_ms(engine: Engine, endpoint_id: str, prompt: str) -> float:
    """Lookup (builds the endpoint on its first use), validation and a rendered JPEG."""
    start = time.perf_counter()
    endpoint = engine.contracts.get("fal", endpoint_id)
    payload = {"prompt": prompt, "image_size": "square_hd", "output_format": "jpeg"}
    job = engine.submit(endpoint, payload, "bench", queued=False)
    output = engine.outcome(job, data_uri_linker(engine.media))
    assert output["images"][0]["url"].startswith("data:image/jpeg")
    return (time.perf_counter() - start) * 1000


def _calls() -> None:
    catalogue = Catalogue(CATALOGUE_FILE)  # a fresh one: nothing read yet
    config = EmulatorConfig(seed=1, progression=IMMEDIATE)
    engine = Engine(config, contracts=load_contracts(config.contracts, catalogue=catalogue))
    _call_ms(engine, "fal-ai/bitdance", "warm-up")  # Pillow and the encoder loaded
    first = _call_ms(engine, "fal-ai/flux/dev", "first")
    later = statistics.median(_call_ms(engine, "fal-ai/flux/dev", f"p{i}") for i in range(20))
    curated = statistics.median(_call_ms(engine, "fal-ai/bitdance", f"p{i}") for i in range(20))
    print(
        f"first call, catalogue endpoint    : {first:7.1f} ms (index, shard, schema, JPEG; <= 50)"
    )
    print(f"later calls, catalogue endpoint   : {later:7.1f} ms (1024x1024 JPEG rendered)")
    print(f"later calls, curated endpoint     : {curated:7.1f} ms (the same work)")


def main() -> None:
    print(f"catalogue archive                 : {os.path.getsize(CATALOGUE_FILE) / 1024:7.0f} KiB")
    print(
        f"import emulator                   : {_median_ms(_import_seconds):7.1f} ms "
        "(the catalogue is not read at import)"
    )
    with_catalogue = _median_ms(lambda: _startup_seconds())
    without = _median_ms(lambda: _startup_seconds("--curated-only"))
    print(
        f"server start-up to first answer   : {with_catalogue:7.1f} ms with the catalogue, "
        f"{without:7.1f} ms without ({with_catalogue / without:.2f}x; <= 1.2x)"
    )
    fixture = _fixture_ms(EmulatorConfig(progression=IMMEDIATE))
    bare = _fixture_ms(EmulatorConfig(progression=IMMEDIATE, curated_only=True))
    print(
        f"fixture set-up per test           : {fixture:7.2f} ms with the catalogue, "
        f"{bare:7.2f} ms without (<= 5)"
    )
    _calls()
    print(
        f"server RSS, catalogue listed      : {_rss_mib(path='/_emulator/endpoints'):7.1f} MiB "
        "(index read, nothing called; <= 100)"
    )
    bare_rss = _rss_mib("--curated-only", path="/_emulator/health")
    print(f"server RSS, without the catalogue : {bare_rss:7.1f} MiB")


if __name__ == "__main__":
    main()
