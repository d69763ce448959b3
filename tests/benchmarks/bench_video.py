"""What a synthetic video costs to render. Prints the figures.

.venv/bin/python -m tests.benchmarks.bench_video
"""

from __future__ import annotations

import time

from emulator.media import MediaSpec, MediaStore


def main() -> None:
    for width, height, seconds in (
        (854, 480, 5),
        (1280, 720, 5),
        (1920, 1080, 5),
        (1920, 1080, 12),
    ):
        spec = MediaSpec(
            "video", width, height, "mp4", "bench", "a dancer", 1, duration=seconds, fps=24
        )
        store = MediaStore()
        start = time.perf_counter()
        data = store.content(spec)
        rendered = time.perf_counter() - start
        start = time.perf_counter()
        store.content(spec)
        cached = time.perf_counter() - start
        print(
            f"{width}x{height} {seconds:2d}s: first render {rendered:5.2f} s, "
            f"cached {cached * 1e6:5.1f} µs, {len(data) / 2**20:5.2f} MiB"
        )


if __name__ == "__main__":
    main()
