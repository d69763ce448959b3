"""Uploads, media specs and webhook deliveries on a shared store: round trips and time per
operation, on memory, SQLite and a real redis-server (loopback), beside the in-process
objects (no store) as the reference. Prints a table; asserts nothing.

    python -m tests.benchmarks.bench_shared_files
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from emulator.core.files import Storage
from emulator.core.store import Store, open_store
from emulator.core.webhooks import WebhookSender
from emulator.media.cache import MediaStore
from emulator.media.spec import MediaSpec
from tests.redis_server import redis_server

ROUNDS = 300


def _measure(store: Store | None, operation: Callable[[int], object]) -> tuple[float, float]:
    """Microseconds and store round trips per call of ``operation``."""
    trips = store.round_trips if store else 0
    started = time.perf_counter()
    for n in range(ROUNDS):
        operation(n)
    elapsed = (time.perf_counter() - started) / ROUNDS * 1e6
    return elapsed, ((store.round_trips - trips) / ROUNDS if store else 0.0)


def _cases(store: Store | None, directory: Path) -> dict[str, tuple[float, float]]:
    # in-process: in memory, as by default; shared: files over 4 kB under the directory
    shared_directory = directory if store is not None else None
    storage = Storage(store=store, directory=shared_directory, max_inline_upload_bytes=4096)
    small, large = b"s" * 1000, b"L" * 100_000
    stored = [storage.put(small, "text/plain", "f")]
    media = MediaStore(store=store)
    other = MediaStore(store=store)  # another process's, for a lookup it has not seen
    specs = [MediaSpec("image", 8, 8, "png", "e", "p", n) for n in range(ROUNDS)]
    sender = WebhookSender(store=store)
    for n in range(20):
        sender.watch("fal", f"j{n}", "http://10.0.0.1/", is_done=bool, build=tuple, schedule=())
    return {
        "upload 1 kB (inline)": _measure(
            store, lambda n: stored.append(storage.put(small, "text/plain", "f"))
        ),
        "upload 100 kB (file)": _measure(store, lambda n: storage.put(large, "text/plain", "f")),
        "get + read 1 kB": _measure(store, lambda n: storage.read(storage.get(stored[n].id))),  # type: ignore[arg-type]
        "register a spec": _measure(store, lambda n: media.register(specs[n])),
        "look up another's spec": _measure(store, lambda n: other.lookup(specs[n].digest())),
        "list 20 deliveries": _measure(store, lambda n: sender.deliveries),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as temp, redis_server(Path(temp)) as redis:
        stores: dict[str, Store | None] = {
            "in-process": None,
            "memory": open_store("memory://"),
            "sqlite": open_store(f"sqlite://{temp}/state.db"),
            "redis": open_store(redis.url),
        }
        table = {name: _cases(store, Path(temp) / name) for name, store in stores.items()}
    print(f"{'operation':<24}" + "".join(f"{name:>22}" for name in table))
    for case in table["in-process"]:
        cells = (f"{us:9.1f} us {trips:4.1f} rt" for us, trips in (t[case] for t in table.values()))
        print(f"{case:<24}" + "".join(f"{cell:>22}" for cell in cells))


if __name__ == "__main__":
    main()
