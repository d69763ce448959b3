"""The CPU a finished job's output costs when first asked for (`make_outcome`, what
`Engine.outcome` runs once per job): input validation (fal validates when the result is
asked for) and synthesis (the output made from the endpoint's plan, media linked by URL).
Process CPU time per output, the fastest of several batches. Prints the figures.

    .venv/bin/python -m tests.benchmarks.bench_outcomes
"""

from __future__ import annotations

import time
from collections.abc import Callable

from emulator import EmulatorConfig, Engine, Progression
from emulator.contracts.synthesis import synthesize
from emulator.core.outcomes import check_all, make_outcome
from emulator.media.links import Linker, url_linker

CASES = (
    ("fal", "fal-ai/bitdance", {"prompt": "a red fox in the snow"}),
    ("fal", "bytedance/seedance-2.0/fast/text-to-video", {"prompt": "a red fox in the snow"}),
    ("fal", "openrouter/router", {"prompt": "a haiku", "model": "google/gemini-2.5-flash"}),
    ("fal", "fal-ai/wizper", {"audio_url": "https://example.com/a.mp3"}),
    ("wavespeed", "wavespeed-ai/flux-dev", {"prompt": "a red fox"}),
)
RUNS, BATCHES = 500, 7


def _microseconds(work: Callable[[], object]) -> float:
    work()
    batches = []
    for _ in range(BATCHES):
        start = time.process_time()
        for _ in range(RUNS):
            work()
        batches.append((time.process_time() - start) / RUNS * 1e6)
    return min(batches)


def _case(engine: Engine, link: Linker, provider: str, endpoint_id: str, payload: dict) -> str:
    limits, sources = engine.limits, engine.sources
    endpoint = engine.contracts.get(provider, endpoint_id)
    job = engine.submit(endpoint, payload, "bench", queued=False)
    inputs, violations = check_all(endpoint, payload, limits)
    assert not violations, violations
    whole = _microseconds(lambda: make_outcome(job, link, limits, sources))
    checked = _microseconds(lambda: check_all(endpoint, payload, limits))
    made = _microseconds(
        lambda: synthesize(endpoint, inputs, job.seed, link, limits=limits, sources=sources)
    )
    return f"{endpoint_id:45} {whole:9.1f} {checked:11.1f} {made:10.1f}"


def main() -> None:
    config = EmulatorConfig(seed=1, progression=Progression.parse("immediate"))
    engine = Engine(config.with_options({"unreachable_media": "synthetic"}))
    link = url_linker(engine.media, "http://127.0.0.1/fal/cdn")
    print(f"{'endpoint':45} {'output':>9} {'validation':>11} {'synthesis':>10}  (us CPU)")
    for provider, endpoint_id, payload in CASES:
        print(_case(engine, link, provider, endpoint_id, payload))


if __name__ == "__main__":
    main()
