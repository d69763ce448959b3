"""WaveSpeed's error answers: the ``{code, message, data}`` envelope, and task codes.

The body of a non-2xx answer was never captured from the live API; the envelope with
``data: null`` is the documented success shape, and both SDKs only echo the body text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.responses import Response

from emulator.contracts.validation import Violation
from emulator.core.faults import Fault
from emulator.core.jobs import Failure
from emulator.http.bodies import PayloadError
from emulator.http.middleware import status_line
from emulator.http.responses import encode_json, json_response

__all__ = ["WaveSpeedError", "answer", "task_code", "validation_error"]

#: engine failure kinds → WaveSpeed's documented task codes (docs: error-codes)
TASK_CODES = {
    "moderated": 1200,
    "missing_parameter": 1400,
    "invalid": 1401,
    "media_not_accessible": 1402,
    "execution_failed": 1403,
    "task_failed": 1405,
    "internal_error": 5000,
    "request_timeout": 5004,
    "unavailable": 5003,
    "timeout": 5004,
    # Not a WaveSpeed failure: the emulator saying plainly that it cannot make this output.
    "unsupported": 5003,
}


def task_code(failure: Failure) -> int:
    if isinstance(failure.details, dict) and isinstance(failure.details.get("code"), int):
        return failure.details["code"]
    return TASK_CODES.get(failure.kind, 5000)


class WaveSpeedError(Exception):
    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else {"code": status, "message": message, "data": None}

    def response(self) -> Response:
        return json_response(self.body, self.status)


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
    return None


def exchange_error(fault: Fault) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """A staged ``http_error``, in WaveSpeed's envelope."""
    status, phrase, headers = status_line(fault)
    body = encode_json({"code": status, "message": fault.message or phrase, "data": None})
    return status, [(b"content-type", b"application/json"), *headers], body
