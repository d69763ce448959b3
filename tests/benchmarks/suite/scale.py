"""Scale, in-process (the app's own cost, no network): status latency with 1k and with 100k
jobs retained, with 0 and 100 fault rules that do not match, and a page of
``/_emulator/jobs`` with 100k jobs retained."""

from __future__ import annotations

import asyncio
import json
import statistics
from typing import Any

from tests.benchmarks.suite.asgi_call import call, timed_calls

__all__ = ["Scale", "rules_matching_nothing"]

FAL = {"Authorization": "Key bench"}


class Scale:
    """Two apps built once (one with ``jobs`` retained, one with 1,000); measured per round."""

    def __init__(self, jobs: int = 100_000) -> None:
        self.jobs = jobs
        self.small: tuple[Any, Any, str] | None = None
        self.large: tuple[Any, Any, str] | None = None

    def _build(self, jobs: int) -> tuple[Any, Any, str]:
        from emulator import EmulatorConfig, Engine, Progression, create_app

        config = EmulatorConfig(
            seed=1,
            progression=Progression.parse("polls:1000000000,1"),
            max_jobs=jobs + 1,
            max_jobs_per_key=jobs + 1,
            max_retained_bytes=2**34,
            max_retained_bytes_per_key=2**34,
        )
        engine = Engine(config)
        endpoint = engine.contracts.get("fal", "fal-ai/bitdance")
        for i in range(jobs):
            job = engine.submit(endpoint, {"prompt": f"job {i}"}, "bench")
        path = f"/fal/queue/fal-ai/bitdance/requests/{job.id}/status?logs=0"
        return engine, create_app(engine=engine), path

    def __call__(self, requests: int) -> dict[str, float]:
        self.small = self.small or self._build(1_000)
        self.large = self.large or self._build(self.jobs)
        return asyncio.run(self._measure(requests))

    async def _measure(self, requests: int) -> dict[str, float]:
        """The three status cases in turn, a tenth of ``requests`` at a time: each median
        is over slices spread across the same seconds, so a machine whose speed drifts
        slows all three alike."""
        assert self.small and self.large
        (engine, small_app, small_path), (_, large_app, large_path) = self.small, self.large
        times: dict[str, list[float]] = {
            "status p50, 1k jobs": [],
            "status p50, 100k jobs": [],
            "status p50, 100 fault rules": [],
        }
        slice_ = max(1, requests // 10)
        for _ in range(max(1, requests // slice_)):
            times["status p50, 1k jobs"] += await timed_calls(small_app, small_path, FAL, slice_)
            times["status p50, 100k jobs"] += await timed_calls(large_app, large_path, FAL, slice_)
            rules = rules_matching_nothing(engine)
            try:
                times["status p50, 100 fault rules"] += await timed_calls(
                    small_app, small_path, FAL, slice_
                )
            finally:
                for rule in rules:
                    engine.faults.remove(rule.id)
        figures = {name: statistics.median(each) for name, each in times.items()}
        figures["jobs page, 100k jobs"] = await self._last_page(large_app)
        return figures

    async def _last_page(self, app: Any) -> float:
        """The slowest page to find: the last 100 of the jobs."""
        path = f"/_emulator/jobs?offset={self.jobs - 100}&limit=100"
        times = await timed_calls(app, path, {}, 5)
        status, body = await call(app, path)
        if status != 200 or len(json.loads(body)) != 100:
            raise RuntimeError(f"{path}: {status} {body[:200]!r}")
        return statistics.median(times)


def rules_matching_nothing(engine: Any) -> list[Any]:
    """100 fault rules, half acting on jobs and half on exchanges (the stage a status poll
    looks at), none matching the polled endpoint: each names another one served (a rule
    for no endpoint served is refused)."""
    others = [row["id"] for row in engine.contracts.listing() if row["id"] != "fal-ai/bitdance"]
    return [
        engine.faults.add({"effect": effect, "status": 500, "endpoint": endpoint})
        for endpoint in others[:50]
        for effect in ("fail", "http_error")
    ]
