"""Render cost of a 1024x1024 JPEG: first render, and when cached. Prints the figures.

.venv/bin/python -m tests.benchmarks.bench_media
"""

from __future__ import annotations

import statistics
import time

from emulator.media import MediaSpec, MediaStore

PROMPT = "A close-up portrait of a cat wearing a tiny top hat, cinematic photography style"


def _ms(action) -> float:  # noqa: ANN001
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def main(samples: int = 40) -> None:
    store = MediaStore()
    specs = [
        MediaSpec("image", 1024, 1024, "jpeg", "fal-ai/bitdance", PROMPT, seed)
        for seed in range(samples)
    ]
    store.content(MediaSpec("image", 64, 64, "jpeg", "warm", "up", 0))  # load the font once
    first = [_ms(lambda s=spec: store.content(s)) for spec in specs]
    cached = [_ms(lambda s=spec: store.content(s)) for spec in specs]
    for fmt in ("png", "webp"):
        variants = [
            MediaSpec("image", 1024, 1024, fmt, s.label, s.prompt, s.seed) for s in specs[:10]
        ]
        other = [_ms(lambda v=variant: store.content(v)) for variant in variants]
        print(f"1024x1024 {fmt:4} first render: median {statistics.median(other):6.2f} ms")
    print(
        f"1024x1024 JPEG first render: median {statistics.median(first):6.2f} ms, "
        f"p90 {statistics.quantiles(first, n=10)[-1]:6.2f} ms (target <= 15 ms)"
    )
    print(f"1024x1024 JPEG cached      : median {statistics.median(cached) * 1000:6.1f} µs")


if __name__ == "__main__":
    main()
