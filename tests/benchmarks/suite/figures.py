"""The table's rows: each figure beside its reference and the goal issue 17 sets for it."""

from __future__ import annotations

from tests.benchmarks.suite.table import Figure, at_least, at_most

__all__ = ["FIGURES"]

FIGURES = [
    Figure("fal status poll", "fal status", "bare status", "req/s", "≥ 0.9× bare", at_least(0.9)),
    Figure(
        "fal status poll", "fal status", "aimock status", "req/s", "≥ 1.5× aimock", at_least(1.5)
    ),
    Figure("fal submit", "fal submit", "bare submit", "req/s", "≥ 0.75× bare", at_least(0.75)),
    Figure("fal submit", "fal submit", "aimock submit", "req/s", "no goal: beside aimock", None),
    Figure(
        "fal submit p99", "fal submit p99", "bare submit p99", "ms", "≤ 2× bare's p99", at_most(2)
    ),
    Figure(
        "fal result (finished job)",
        "fal result",
        "bare status",
        "req/s",
        "no goal: beside bare",
        None,
    ),
    Figure(
        "WaveSpeed result poll (finished)",
        "wavespeed result",
        "fal result",
        "req/s",
        "≥ 0.9× fal's",
        at_least(0.9),
    ),
    Figure(
        "WaveSpeed submit", "wavespeed submit", "fal submit", "req/s", "≥ 0.9× fal's", at_least(0.9)
    ),
    Figure(
        "fal status, `serve --access-log` (off by default)",
        "fal status, access log",
        "fal status",
        "req/s",
        "≥ 0.9× (log costs ≤ 10 %)",
        at_least(0.9),
    ),
    Figure(
        "fal status, app CPU per request (in-process)",
        "app cpu: fal status",
        "app cpu: bare status",
        "ms",
        "no goal: what the app adds, robust to a busy machine",
        None,
    ),
    Figure(
        "fal submit, app CPU per request (in-process)",
        "app cpu: fal submit",
        "app cpu: bare submit",
        "ms",
        "no goal: what the app adds, robust to a busy machine",
        None,
    ),
    Figure(
        "WaveSpeed submit, app CPU per request (in-process)",
        "app cpu: wavespeed submit",
        "app cpu: fal submit",
        "ms",
        "no goal: WaveSpeed validates at submission",
        None,
    ),
    Figure(
        "async `subscribe` cycle in-process",
        "subscribe in-process",
        "subscribe minimal app",
        "ms",
        "≤ 1.3× minimal app",
        at_most(1.3),
    ),
    Figure(
        "sync `subscribe` cycle in-process",
        "sync subscribe in-process",
        "sync subscribe minimal app",
        "ms",
        "≤ 1.3× minimal app",
        at_most(1.3),
    ),
    Figure(
        "WaveSpeed SDK `run` cycle in-process",
        "wavespeed run in-process",
        "wavespeed run minimal app",
        "ms",
        "≤ 1.3× minimal app",
        at_most(1.3),
    ),
    Figure(
        "1080p 5 s H.264, first render",
        "video 1080p 5 s",
        "static-frame PyAV encode",
        "ms",
        "≤ 1.2× static encode",
        at_most(1.2),
    ),
    Figure("1080p 5 s H.264, first render", "video 1080p 5 s", 500.0, "ms", "≤ 0.5 s", at_most(1)),
    Figure(
        "1024² JPEG, first render",
        "jpeg 1024",
        "pillow jpeg",
        "ms",
        "near the Pillow floor (≤ 1.5×)",
        at_most(1.5),
    ),
    Figure(
        "1024² PNG, first render",
        "png 1024",
        "same picture, default PNG level",
        "ms",
        "faster than Pillow's default level",
        at_most(1),
    ),
    Figure(
        "renders, 32 concurrent first downloads of one video",
        "renders for 32 concurrent downloads",
        1.0,
        "",
        "one render",
        at_most(1),
    ),
    Figure(
        "status p50, 100k vs 1k jobs retained",
        "status p50, 100k jobs",
        "status p50, 1k jobs",
        "ms",
        "≤ 1.1×",
        at_most(1.1),
    ),
    Figure(
        "status p50, 100 vs 0 fault rules (none match)",
        "status p50, 100 fault rules",
        "status p50, 1k jobs",
        "ms",
        "≤ 1.1×",
        at_most(1.1),
    ),
    Figure(
        "`/_emulator/jobs` last page of 100, 100k jobs",
        "jobs page, 100k jobs",
        20.0,
        "ms",
        "≤ 20 ms",
        at_most(1),
    ),
    Figure(
        "`import emulator` (fresh interpreter)",
        "import emulator",
        "import fal_client + httpx",
        "ms",
        "≤ 1.3×",
        at_most(1.3),
    ),
    Figure(
        "`from emulator import emulate` (fresh interpreter)",
        "from emulator import emulate",
        "import fal_client + httpx",
        "ms",
        "no goal: what a test module pays",
        None,
    ),
    Figure(
        "`serve` to first health 200",
        "serve to health",
        "bare uvicorn to health",
        "ms",
        "≤ 1.5× bare uvicorn",
        at_most(1.5),
    ),
    Figure(
        "`emulate()` / fixture set-up + tear-down",
        "emulation set-up",
        5.0,
        "ms",
        "≤ 5 ms",
        at_most(1),
    ),
]
