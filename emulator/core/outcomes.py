"""How a finished job's output is made, and kept once made.

An output is a function of the job alone (its endpoint, input, seed and fault) and of how
media are linked, so it is made once per job and linker and kept (bounded): every poll,
retry and webhook of a job sees the same output without validating or synthesising it
again. What a process keeps here is its own; any process makes the same output anew.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from emulator.config import EmulatorConfig
from emulator.contracts.documents import Endpoint
from emulator.contracts.limits import Limits, check_limits, limit_violations, shaping_fields
from emulator.contracts.memo import EndpointMemo
from emulator.contracts.optional_fields import without_optional
from emulator.contracts.output_checks import OutputUnmade
from emulator.contracts.validation import (
    Violation,
    apply_defaults,
    check_input,
    input_violations,
    quick_test,
)
from emulator.core.faults import Fault
from emulator.core.jobs import Failure, Job
from emulator.media import UnsupportedMedia
from emulator.media.links import Linker
from emulator.media.sources import InputUnreachable, SourceResolver

#: how many finished jobs' outputs are kept ready (a job is polled for a while, then not)
OUTCOMES_KEPT = 4096
#: how a model words a refused input, when a rule stages one without a message
POLICY_MESSAGE = (
    "The content could not be processed because it contained material flagged by a content checker."
)


class JobFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def fault_failure(fault: Fault) -> Failure:
    """The failure a ``fail`` rule stages: a model 422, a content-policy refusal, a request
    error type or a task code. Without a ``message``, each provider words it its own way."""
    if fault.error_type in ("unprocessable", "validation") or fault.status == 422:
        message = fault.message or "Input was rejected by the model"
        return Failure("invalid", "Unprocessable Entity", [Violation((), message, "value_error")])
    if fault.error_type == "content_policy_violation":
        flagged = Violation(("prompt",), fault.message or POLICY_MESSAGE, fault.error_type)
        return Failure("invalid", "Unprocessable Entity", [flagged])
    details = {"code": fault.code} if fault.code is not None else None
    return Failure(fault.error_type or "internal_error", fault.message or "", details)


def is_sparse(job: Job) -> bool:
    """Whether a ``sparse_output`` rule fired for ``job``: its output lacks every field
    its schema does not require."""
    return job.fault is not None and job.fault.effect == "sparse_output"


def limits_of(config: EmulatorConfig) -> Limits:
    """What the emulator makes at most, as ``config`` says."""
    return Limits(
        max_outputs=config.max_outputs,
        max_image_pixels=config.max_image_pixels,
        max_video_seconds=config.max_video_seconds,
        max_video_fps=config.max_video_fps,
        max_video_pixels=config.max_video_pixels,
    )


def check_all(endpoint: Endpoint, payload: Any, limits: Limits) -> tuple[Any, list[Violation]]:
    """The payload with defaults, and what is wrong with it by the contract or beyond
    ``limits`` (empty when it is fine)."""
    inputs, violations = check_input(endpoint, payload)
    return inputs, violations or check_limits(endpoint, inputs, limits, payload=payload)


def find_violations(endpoint: Endpoint, payload: Any, limits: Limits) -> list[Violation]:
    """What `check_all` finds wrong with ``payload``, without filling in its defaults where
    the limits need none (what a submit asks: it keeps the input as sent)."""
    # The common case at once: an input the quick test finds certainly valid and that sets
    # no field the limits read has nothing wrong with it, unless the limits refuse the
    # endpoint's defaults (asked once per limits). Two checks, each behind its own look-up,
    # cost a WaveSpeed submit 12,300 instructions, most of what it does beyond fal's; the
    # memo's call and one for this test, 800 more (issue 17).
    clearance = _CLEARANCES.made.get(id(endpoint)) or _CLEARANCES.get(endpoint)
    accepts = clearance.accepts
    if (
        accepts is not None
        and type(payload) is dict
        and accepts(payload)
        and clearance.shaping.isdisjoint(payload)
        and (limits is clearance.clear_under or clearance.within(endpoint, payload, limits))
    ):
        return []
    return input_violations(endpoint, payload) or limit_violations(endpoint, payload, limits)


class _Clearance:
    """What `find_violations` reads of an endpoint for its common case."""

    __slots__ = ("accepts", "shaping", "clear_under")

    def __init__(self, endpoint: Endpoint) -> None:
        self.accepts = quick_test(endpoint)
        self.shaping = shaping_fields(endpoint)
        self.clear_under: Limits | None = None  # the last limits its defaults are within

    def within(self, endpoint: Endpoint, payload: Any, limits: Limits) -> bool:
        """Whether ``limits`` pass ``payload``, which sets none of the fields they read (so:
        whether they pass the endpoint's defaults); remembered when they do."""
        if limit_violations(endpoint, payload, limits):
            return False
        self.clear_under = limits
        return True


_CLEARANCES = EndpointMemo(_Clearance)


def validated(job: Job, limits: Limits) -> Any:
    """The job's input with defaults; raises `JobFailed` if it cannot be served."""
    if job.checked:  # validated when submitted: only the defaults are left to fill in
        return apply_defaults(job.endpoint, job.endpoint.input_schema, job.payload)
    inputs, violations = check_all(job.endpoint, job.payload, limits)
    if violations:
        raise JobFailed(Failure("invalid", "Unprocessable Entity", violations))
    return inputs


def make_outcome(
    job: Job, link: Linker, limits: Limits, sources: SourceResolver
) -> dict[str, Any] | Failure:
    """The output of ``job`` (or how it fails), made now; raises `JobFailed` only when the
    emulator cannot make its media at all."""
    # Loaded with the first output, not with the engine: `serve` starts without synthesis
    # and what it loads (issue 17: about 4 ms of its start-up, with limits.py's plans).
    from emulator.contracts.synthesis import InputRejected, synthesize

    try:
        inputs = validated(job, limits)
        if job.fault is not None and job.fault.effect == "fail":
            return fault_failure(job.fault)
        output = synthesize(
            job.endpoint,
            inputs,
            job.seed,
            link,
            limits=limits,
            sources=sources,
            flagged=job.fault is not None and job.fault.effect == "nsfw",
        )
        return without_optional(job.endpoint, output) if is_sparse(job) else output
    except JobFailed as failed:
        return failed.failure
    except InputUnreachable as exc:
        return Failure(exc.kind, str(exc), {"field": exc.field, "url": exc.url})
    except InputRejected as exc:
        return Failure("invalid", "Unprocessable Entity", exc.violations)
    except OutputUnmade as exc:  # the contract asks what the emulator cannot make
        return Failure("unsupported", str(exc))
    except UnsupportedMedia as exc:
        raise JobFailed(Failure("unsupported", str(exc))) from None


class OutcomeCache:
    """Outputs (or failures) by job and linker, the most recent `OUTCOMES_KEPT` of them.

    A job is known by its id and submission time: after a seeded reset the same id names
    another job, which must not meet the first one's output."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, float, Linker], dict[str, Any] | Failure] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, job: Job, link: Linker) -> dict[str, Any] | Failure | None:
        with self._lock:
            return self._kept.get((job.id, job.submitted_wall, link))

    def keep(self, job: Job, link: Linker, outcome: dict[str, Any] | Failure) -> None:
        with self._lock:
            self._kept[job.id, job.submitted_wall, link] = outcome
            while len(self._kept) > OUTCOMES_KEPT:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
