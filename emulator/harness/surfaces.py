"""What each provider's requests are, for judging a client from the request record.

A recorded request is classified as a ``submit``, a status ``poll``, a ``result`` fetch, a
``cancel``, a ``media`` download or ``other``, with the job it concerns. The fault rules
the scenarios stage are written here too, in each provider's path grammar (fault paths
are matched below the provider's surface: ``fal-ai/x/requests/…``, ``predictions/…``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from emulator.contracts.documents import Endpoint
from emulator.contracts.plans import plan_of
from emulator.core.record import RecordedRequest
from emulator.providers.fal.errors import REQUEST_ERROR_STATUS, RETRYABLE
from emulator.providers.fal.paths import app_path, parse_request_path
from emulator.providers.wavespeed.errors import TASK_CODES
from emulator.providers.wavespeed.paths import job_id_of

__all__ = ["SURFACES", "Classified", "Surface"]

_UUID_GLOB = "????????-????-????-????-????????????"
#: a job's id in a request's path: fal's queue (dashed) or a WaveSpeed prediction (bare)
_JOB_IN_PATH = re.compile(r"/(?:requests|predictions)/([0-9a-f-]{32,36})(?:/|$)")
#: How long fal's JavaScript client retries an answer of 502-504 before raising it: 3
#: retries, 1 s doubling, ±25 % (@fal-ai/client 1.10.1's default; fal-protocol.md §5). fal
#: answers the result of a request failed for a retryable reason so (x-fal-retryable), so
#: a correct client of fal's may take this long more to report the failure.
FAL_CLIENT_RETRIES = (1 + 2 + 4) * 1.25
#: the error types fal answers 502-504 and marks retryable, and the ``timeout`` effect's
_RETRIED_FAILURES = {
    kind for kind in RETRYABLE if REQUEST_ERROR_STATUS.get(kind) in (502, 503, 504)
}


@dataclass(frozen=True)
class Classified:
    kind: str  # submit, run, poll, result, cancel, media, upload, other
    job_id: str | None = None  # as the engine names it (`Observation.job_ids`)


def _fal(entry: RecordedRequest) -> Classified:
    surface, _, rest = entry.path[len("/fal/") :].partition("/")
    if surface == "cdn":
        return Classified("media" if entry.method in ("GET", "HEAD") else "upload")
    if surface == "run" and entry.method == "POST":
        return Classified("run")
    if surface != "queue":
        return Classified("upload" if surface == "rest" else "other")
    if entry.method == "POST":
        return Classified("submit")
    parsed = parse_request_path(rest)
    if parsed is None:
        return Classified("other")
    kind = {"status": "poll", "stream": "poll", "result": "result", "cancel": "cancel"}
    return Classified(kind[parsed.action], parsed.request_id)


def _wavespeed(entry: RecordedRequest) -> Classified:
    rest = entry.path[len("/wavespeed/") :]
    if rest.startswith("cdn/"):
        return Classified("media" if entry.method in ("GET", "HEAD") else "upload")
    rest = rest.removeprefix("api/v3/")
    if rest.startswith("predictions/") and entry.method == "GET":
        # WaveSpeed has one read: the poll that also carries the result. Its prediction id
        # is the job's UUID without dashes: the job is named as the engine names it.
        return Classified("poll", job_id_of(rest.split("/")[1]))
    if rest.startswith("media/"):
        return Classified("upload")
    return Classified("submit" if entry.method == "POST" else "other")


@dataclass(frozen=True)
class Surface:
    provider: str
    #: the request that answers with a job's output: "result" (fal) or "poll" (WaveSpeed)
    result_kind: str
    has_cancel: bool
    #: where the provider's CDN serves files (the host its file URLs name)
    cdn_base: str
    #: how its SDKs show the body of an answer refusing an input: the words of a hint to a
    #: client whose error hid it
    shows_refusal: str
    #: whether its staged 429s say Retry-After, a retry sooner than it failing the client:
    #: WaveSpeed documents no such header (wavespeed-protocol.md §9), and a client of its
    #: is not judged on a guessed one
    says_retry_after: bool

    def classify(self, entry: RecordedRequest) -> Classified:
        return _fal(entry) if self.provider == "fal" else _wavespeed(entry)

    def job_in_path(self, path: str) -> str | None:
        """The job a request's ``path`` (as the client sent it) is about, named as the
        engine names it, or None."""
        found = _JOB_IN_PATH.search(path)
        return job_id_of(found.group(1)) if found else None

    def is_submit(self, host: str, path: str) -> bool:
        """Whether a POST to ``host`` and ``path`` (as the client sent it) submits a job."""
        if self.provider == "fal":
            return host in ("queue.fal.run", "fal.run") and "/requests/" not in path
        return not path.startswith(("/api/v3/media/", "/api/v3/predictions/"))

    # -- the fault rules scenarios stage ---------------------------------------------------

    def exchange_targets(self, endpoint_id: str) -> dict[str, dict[str, Any]]:
        """Where a transient error may strike: method and path glob of each exchange (a
        fal client makes a queue submit or a sync run, or a streamed run)."""
        if self.provider == "fal":
            return {
                "submit": {"method": "POST", "path": endpoint_id},
                "stream": {"method": "POST", "path": f"{endpoint_id}/stream"},
                "poll": {"method": "GET", "path": "*/requests/*/status"},
                "result": {"method": "GET", "path": f"*/requests/{_UUID_GLOB}"},
            }
        return {
            "submit": {"method": "POST", "path": endpoint_id},
            "poll": {"method": "GET", "path": "predictions/*"},
        }

    def job_failures(self, endpoint: Endpoint) -> list[dict[str, Any]]:
        """Every way the provider reports a failed job of ``endpoint``, as ``fail``,
        ``nsfw``… rules. A WaveSpeed prediction always has its NSFW flags; a fal output
        only where its schema declares them (none of an LLM's, say): elsewhere an ``nsfw``
        rule changes nothing a client could see, so it cannot be a failure to surface."""
        model_422: dict[str, Any] = {
            "effect": "fail",
            "status": 422,
            "message": "prompt was rejected",
        }
        common: list[dict[str, Any]] = [model_422, {"effect": "timeout"}, {"effect": "cancel"}]
        kinds: list[dict[str, Any]]
        if self.provider == "fal":
            kinds = [{"effect": "fail", "error_type": kind} for kind in REQUEST_ERROR_STATUS]
        else:
            codes = sorted(set(TASK_CODES.values()))
            kinds = [{"effect": "fail", "code": code} for code in codes]
        if self.provider == "wavespeed" or plan_of(endpoint).flags_nsfw:
            common.insert(1, {"effect": "nsfw"})
        return [*kinds, *common]

    def retry_allowance(self, faults: Sequence[dict[str, Any]]) -> float:
        """The seconds a call may take beyond its time limit when ``faults`` fail its job:
        a client of fal's that retries the failure's answer as fal's own clients do
        (`FAL_CLIENT_RETRIES`) is correct, not slow. WaveSpeed answers a failed prediction
        with a 200, which no client retries."""
        if self.provider != "fal":
            return 0.0
        retried = any(
            rule.get("effect") == "timeout"  # fal's request_timeout, a 504
            or (rule.get("effect") == "fail" and rule.get("error_type") in _RETRIED_FAILURES)
            for rule in faults
        )
        return FAL_CLIENT_RETRIES if retried else 0.0

    def result_url(self, endpoint_id: str, job_id: str) -> str:
        if self.provider == "fal":
            return f"https://queue.fal.run/{app_path(endpoint_id)}/requests/{job_id}"
        return f"https://api.wavespeed.ai/api/v3/predictions/{job_id}/result"

    def authorization(self, key: str) -> str:
        return f"Key {key}" if self.provider == "fal" else f"Bearer {key}"

    def output_of(self, answer: Any) -> Any:
        """The model's output in a completed result answer (fal's body; WaveSpeed's
        ``outputs``), or None: WaveSpeed answers a failed prediction with a 200 too."""
        if self.provider == "fal":
            return answer
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict) or data.get("status") != "completed":
            return None
        return {"outputs": data.get("outputs")}


SURFACES = {
    "fal": Surface(
        "fal",
        result_kind="result",
        has_cancel=True,
        cdn_base="https://v3.fal.media",
        shows_refusal="fal_client's error says its detail; @fal-ai/client's keeps it in error.body",
        says_retry_after=True,
    ),
    "wavespeed": Surface(
        "wavespeed",
        result_kind="poll",
        has_cancel=False,
        cdn_base="https://d2p7pge43lyniu.cloudfront.net",
        shows_refusal="both wavespeed SDKs, Python's and npm's, say it: \"HTTP 400: {...}\"",
        says_retry_after=False,
    ),
}


def surface_of(provider: str) -> Surface:
    """The provider's surface; `ValueError` naming the known ones for any other name."""
    surface = SURFACES.get(provider)
    if surface is None:
        raise ValueError(f"unknown provider {provider!r}: one of {', '.join(SURFACES)}")
    return surface
