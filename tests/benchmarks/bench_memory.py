"""Memory per retained job, measured with tracemalloc. Prints the figures.

.venv/bin/python -m tests.benchmarks.bench_memory
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from dataclasses import replace

from emulator import EmulatorConfig, Engine, Progression

PROMPT = "A close-up portrait of a cat wearing a tiny top hat, cinematic photography style"
JOBS = 20_000


def main() -> None:
    engine = Engine(EmulatorConfig(seed=1, progression=Progression.parse("wall:0.25,1")))
    endpoint = engine.contracts.get("fal", "fal-ai/bitdance")
    bodies = [json.dumps({"prompt": f"{PROMPT} #{i}"}).encode() for i in range(JOBS)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i, body in enumerate(bodies):
        # What the server keeps of a submit: the parsed body and the job around it.
        engine.submit(endpoint, json.loads(body), f"key-{i % 10}")
    gc.collect()
    per_job = (tracemalloc.get_traced_memory()[0] - before) / JOBS
    tracemalloc.stop()
    print(f"retained jobs         : {len(engine.jobs)} (prompt of {len(PROMPT) + 7} characters)")
    print(f"memory per job        : {per_job:7.0f} bytes, input included (target <= 1536)")
    engine.jobs.budget = replace(engine.jobs.budget, retention=0)
    engine.jobs.expire(engine.clock.now() + 1)
    print(f"after retention passes: {len(engine.jobs)} jobs kept")


if __name__ == "__main__":
    main()
