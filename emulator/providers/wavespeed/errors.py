"""WaveSpeed's error answers: the ``{code, message, data}`` envelope, and task codes.

The body of a non-2xx answer was never captured from the live API; the envelope with
``data: null`` is the documented success shape, and both SDKs only echo the body text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from emulator.contracts.validation import Violation
from emulator.core.faults import Fault
from emulator.core.jobs import Failure, JobsFull
from emulator.core.timeline import QUEUE_TIMEOUT
from emulator.http.bodies import PayloadError
from emulator.http.exchange import status_line
from emulator.http.responses import encode_json, json_response

#: engine failure kinds → WaveSpeed's documented task codes (docs: error-codes)
TASK_CODES = {
    "moderated": 1200,
    "missing_parameter": 1400,
    "invalid": 1401,
    "media_not_accessible": 1402,
    "media_not_decodable": 1402,  # GUESS: the same code for an input it cannot load
    "execution_failed": 1403,
    "task_failed": 1405,
    "internal_error": 5000,
    "request_timeout": 5004,
    "unavailable": 5003,
    "timeout": 5004,
    # Not a WaveSpeed failure: the emulator saying plainly that it cannot make this output.
    "unsupported": 5003,
}


#: what each task code means, in WaveSpeed's words (docs: error-codes)
TASK_MESSAGES = {
    1200: "Content moderation: the input or the output was flagged",
    1400: "Missing parameter",
    1401: "Invalid parameter",
    1402: "Media URL not accessible",
    1403: "Execution failed",
    1405: "Task failed",
    5000: "Internal error",
    5003: "Service unavailable",
    5004: "Timeout",
}


def task_code(failure: Failure) -> int:
    details = failure.details
    if isinstance(details, dict) and isinstance(details.get("code"), int):
        return int(details["code"])
    if isinstance(details, list) and any(v.type == "content_policy_violation" for v in details):
        return 1200
    return TASK_CODES.get(failure.kind, 5000)


def failure_message(failure: Failure) -> str:
    """A failed prediction's ``error``: the failure's own words (a fault's message), else
    its code's meaning. A queue timeout's default words are fal's, so WaveSpeed's own for
    5004 stand in for them."""
    if failure.message and failure.message != QUEUE_TIMEOUT.message:
        return failure.message
    return TASK_MESSAGES.get(task_code(failure), "Task failed")


class WaveSpeedError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else {"code": status, "message": message, "data": None}
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


def method_not_allowed(*allowed: str) -> WaveSpeedError:
    return WaveSpeedError(405, "Method not allowed", headers={"Allow": ", ".join(allowed)})


Handler = Callable[[Request], Awaitable[Response]]


def only(method: str, handler: Handler) -> Handler:
    """``handler`` for ``method``; any other method answers 405 with ``Allow`` (a route
    that took ``method`` alone would leave the others to the model route, whose 404 names
    no model the caller meant)."""

    taken = ("GET", "HEAD") if method == "GET" else (method,)  # a GET's HEAD, as Starlette's

    async def checked(request: Request) -> Response:
        if request.method not in taken:
            raise method_not_allowed(*taken)
        return await handler(request)

    return checked


def http_error(status: int, detail: str, headers: Mapping[str, str] | None) -> Response:
    """A routing error (no such path, or a method it does not take), in the envelope."""
    return WaveSpeedError(status, detail, headers=headers).response()


def upstream_error(detail: str) -> Response:
    """Record mode's 502 when WaveSpeed's real API (its ``--upstream``) cannot be reached,
    in the envelope, as every other error of its paths."""
    return WaveSpeedError(502, detail).response()


def internal_error(message: str) -> Response:
    """An error no route answered (a bug in the emulator), in the envelope."""
    return WaveSpeedError(500, message).response()


def _describe(violation: Violation) -> str:
    where = ".".join(map(str, violation.loc)) or "body"
    return f"{where}: {violation.msg}"


def validation_error(violations: Iterable[Violation]) -> WaveSpeedError:
    return WaveSpeedError(400, "Invalid parameters: " + "; ".join(map(_describe, violations)))


def answer(error: Exception) -> Response | None:
    """WaveSpeed's response to an exception raised while handling a request."""
    if isinstance(error, WaveSpeedError):
        return error.response()
    if isinstance(error, PayloadError):
        return WaveSpeedError(
            error.status if error.status != 422 else 400, error.message
        ).response()
    if isinstance(error, JobsFull):
        return WaveSpeedError(429, str(error), headers={"Retry-After": "1"}).response()
    return None


def exchange_error(fault: Fault) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """A staged ``http_error``, in WaveSpeed's envelope."""
    status, phrase, headers = status_line(fault)
    body = encode_json({"code": status, "message": fault.message or phrase, "data": None})
    return status, [(b"content-type", b"application/json"), *headers], body
