"""WaveSpeed's prediction object and the ``{code, message, data}`` envelope around it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from emulator.core.engine import Engine
from emulator.core.jobs import Failure, Job
from emulator.core.lifecycle import Phase
from emulator.core.timeline import Look
from emulator.providers.wavespeed.errors import task_code, task_error

STATUS_NAMES = {Phase.QUEUED: "created", Phase.RUNNING: "processing", Phase.DONE: "completed"}


def task_id(job: Job) -> str:
    """WaveSpeed's ids are 32 hex digits: the job's UUID without dashes."""
    return job.id.replace("-", "")


def _failed_status(failure: Failure) -> str:
    # The SDKs treat cancelled like failed; the emulator says which one it was.
    return "cancelled" if failure.kind == "cancelled" else "failed"


@functools.lru_cache(maxsize=4096)
def _timestamp(wall: float) -> str:
    """A submission time as WaveSpeed writes it (kept: polls ask for it again and again)."""
    return datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(data: Any) -> dict[str, Any]:
    return {"code": 200, "message": "success", "data": data}


def prediction(
    engine: Engine,
    job: Job,
    look: Look,
    result_url: str,
    *,
    produced: Mapping[str, Any] | None = None,
    failure: Failure | None = None,
) -> dict[str, Any]:
    """The prediction as it stands: with what synthesis ``produced`` (outputs and their
    NSFW flags) once completed, or with its ``failure`` once failed."""
    outputs = list((produced or {}).get("outputs", []))
    created = _timestamp(job.submitted_wall)
    milliseconds = round(engine.inference_time(job, look) * 1000)
    data: dict[str, Any] = {
        "id": task_id(job),
        "model": job.endpoint.id,
        "outputs": outputs,
        "urls": {"get": result_url},
        "has_nsfw_contents": list(
            (produced or {}).get("has_nsfw_contents", [False] * len(outputs))
        ),
        "status": _failed_status(failure) if failure else STATUS_NAMES[look.phase],
        "created_at": created,
        "error": task_error(failure) if failure else "",
        "executionTime": milliseconds if look.phase is Phase.DONE else 0,
        "timings": {"inference": milliseconds if look.phase is Phase.DONE else 0},
    }
    if failure:
        data["code"] = task_code(failure)
    return data
