"""WaveSpeed's prediction object and the ``{code, message, data}`` envelope around it."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from emulator.contracts.optional_fields import without_optional
from emulator.core.engine import Engine
from emulator.core.jobs import Failure, Job
from emulator.core.lifecycle import Phase
from emulator.core.outcomes import JobFailed, is_sparse
from emulator.core.timeline import Look
from emulator.http.responses import encode_json, json_fragment
from emulator.media.links import Linker, data_uri_linker
from emulator.providers.wavespeed.errors import failure_message, task_code

STATUS_NAMES = {Phase.QUEUED: "created", Phase.RUNNING: "processing", Phase.DONE: "completed"}
#: GUESS: the error of a prediction deleted from the history (WaveSpeed's was not observed;
#: both SDKs take the status "deleted" as a failure that ends their polling)
DELETED = "Prediction deleted: it was deleted from the history (POST /api/v3/predictions/delete)"


def task_id(job: Job) -> str:
    """WaveSpeed's ids are 32 hex digits: the job's UUID without dashes (its layout's
    ``dashless_job_ids``, which the control plane and the dashboard list)."""
    return job.id.replace("-", "")


def wants_inline(job: Job) -> bool:
    """Whether ``job`` asked for its outputs as bare base64 (``enable_base64_output``)."""
    return isinstance(job.payload, dict) and job.payload.get("enable_base64_output") is True


def outputs_linker(job: Job, urls: Linker) -> Linker:
    """How ``job``'s outputs reach its client: as naked base64 if it asked so, else as
    ``urls`` links them (the CDN's URLs). Its result route's choice, and the dashboard's."""
    return data_uri_linker(urls.store, bare=True) if wants_inline(job) else urls


def _failed_status(failure: Failure) -> str:
    # The SDKs treat cancelled like failed; the emulator says which one it was.
    return "cancelled" if failure.kind == "cancelled" else "failed"


def created_at(job: Job) -> str:
    """``job``'s submission time as WaveSpeed writes it (`timestamp`), written once and
    kept on the job, which every poll of it asks for."""
    text = job.written_time
    if text is None:
        text = job.written_time = timestamp(job.submitted_wall)
    return text


def timestamp(wall: float) -> str:
    """A submission time as WaveSpeed writes it, to the nanosecond:
    ``2025-09-25T09:12:48.239112031Z`` (a real value; a client parsing it with ``%f``,
    six digits at most, fails on the real API)."""
    if not 0 <= wall < 2**53:  # beyond a float's nanoseconds: datetime's microseconds
        return datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    # The nanoseconds rounded half to even (as datetime rounds its microseconds), carried
    # into the second; the rest comes from the second's text, written once per second
    # (issue 17: a submit writes a new time, and datetime cost more than the rest of its
    # answer).
    second = math.floor(wall)
    nano = round((wall - second) * 1e9)
    if nano == 1_000_000_000:
        second, nano = second + 1, 0
    # zfill rather than a format spec (``:09d``), which is parsed anew on every call: 1,100
    # instructions a submit (issue 17)
    last = _last_second
    if last[0] != second:
        last = _write_second(second)
    return f"{last[1]}.{str(nano).zfill(9)}Z"


#: the second last written, and its text: submits come in the same second (a look-up in a
#: cache of seconds cost 450 instructions more; issue 17)
_last_second = (-1, "")


def _write_second(second: int) -> tuple[int, str]:
    global _last_second
    _last_second = second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return _last_second


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
    milliseconds = round(engine.inference_time(job, look) * 1000)
    data = _data(
        task_id(job),
        job.endpoint.id,
        result_url,
        _failed_status(failure) if failure else STATUS_NAMES[look.phase],
        created_at(job),
        outputs=outputs,
        nsfw=list((produced or {}).get("has_nsfw_contents", [False] * len(outputs))),
        error=failure_message(failure) if failure else "",
        milliseconds=milliseconds if look.phase is Phase.DONE else 0,
    )
    if failure:
        data["code"] = task_code(failure)
    return data


def finished_prediction(engine: Engine, job: Job, result_url: str, link: Linker) -> dict[str, Any]:
    """The prediction of a finished job: its outputs, or its failure."""
    look = engine.look(job)
    try:
        produced = engine.outcome(job, link)
    except JobFailed as failed:
        return prediction(engine, job, look, result_url, failure=failed.failure)
    finished = prediction(engine, job, look, result_url, produced=produced.get("data", produced))
    if is_sparse(job):  # the prediction's own optional fields go too: has_nsfw_contents…
        return without_optional(job.endpoint, envelope(finished))["data"]
    return finished


def deleted_prediction(engine: Engine, job: Job, result_url: str) -> dict[str, Any]:
    """A prediction deleted from the history, whatever its phase: no outputs, the status
    "deleted"."""
    data = prediction(engine, job, engine.look(job), result_url)
    return {**data, "status": "deleted", "error": DELETED}  # GUESS: see `DELETED`


def result_body(engine: Engine, job: Job, link: Linker, api_base: str) -> dict[str, Any]:
    """What ``GET /api/v3/predictions/{id}/result`` under ``api_base`` answers for finished
    (or deleted) ``job``, its media linked by ``link`` unless it asked for them inline
    (what the dashboard shows as its output)."""
    url = result_url(api_base, task_id(job))
    if job.deleted:
        return envelope(deleted_prediction(engine, job, url))
    return envelope(finished_prediction(engine, job, url, outputs_linker(job, link)))


def _data(
    prediction_id: str,
    model: str,
    result_url: str,
    status: str,
    created: str,
    *,
    outputs: list[Any],
    nsfw: list[Any],
    error: str,
    milliseconds: int,
) -> dict[str, Any]:
    """A prediction's fields, in WaveSpeed's order."""
    return {
        "id": prediction_id,
        "model": model,
        "outputs": outputs,
        "urls": {"get": result_url},
        "has_nsfw_contents": nsfw,
        "status": status,
        "created_at": created,
        "error": error,
        "executionTime": milliseconds,
        "timings": {"inference": milliseconds},
    }


#: what stands for the id, the result URL and the creation time in `_pending_parts`
_BLANK = "\x00"


@functools.lru_cache(maxsize=1024)
def _pending_parts(model: str, status: str, api_base: str) -> tuple[bytes, bytes, bytes, bytes]:
    """The encoded envelope of ``model``'s prediction while it is ``status`` (neither done
    nor failed), its result URL under ``api_base``, cut where its id (twice: in the URL too)
    and creation time go: all else in it is the same for every such prediction, so it is
    encoded once (issue 17)."""
    data = _data(
        _BLANK, model, _BLANK, status, _BLANK, outputs=[], nsfw=[], error="", milliseconds=0
    )
    head, after_id, after_url, tail = encode_json(envelope(data)).split(b"\\u0000")
    # the URL's start, as `encode_json` writes it (unquoted): a task's id, hex digits, needs
    # no escaping after it
    results = json_fragment(api_base + _PREDICTIONS)
    return head, after_id + results, b"/result" + after_url, tail


def pending_answer(job: Job, look: Look, api_base: str) -> bytes:
    """``encode_json(envelope(prediction(…)))`` for a prediction neither done nor failed
    (what a submit answers), its result URL under ``api_base``: the parts that change,
    put into those that do not."""
    head, before_url, after_url, tail = _pending_parts(
        job.endpoint.id, STATUS_NAMES[look.phase], api_base
    )
    task = task_id(job).encode()
    return b"".join((head, task, before_url, task, after_url, created_at(job).encode(), tail))


#: where predictions are, under the API's base URL
_PREDICTIONS = "/api/v3/predictions/"


def result_url(api_base: str, task: str) -> str:
    """The URL of prediction ``task``'s result, under ``api_base``."""
    return f"{api_base}{_PREDICTIONS}{task}/result"
