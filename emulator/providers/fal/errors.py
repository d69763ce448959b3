"""fal's error bodies.

Request errors are ``{"detail": str, "error_type": str}`` with an ``X-Fal-Error-Type``
header; model validation errors are Pydantic's ``{"detail": [{loc, msg, type}]}``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from emulator.contracts.validation import Violation
from emulator.core.faults import Fault
from emulator.core.jobs import Failure, JobsFull
from emulator.http.bodies import PayloadError
from emulator.http.exchange import status_line
from emulator.http.responses import encode_json, json_response

#: fal's documented request error types and the HTTP status each comes with.
REQUEST_ERROR_STATUS = {
    "request_timeout": 504,
    "startup_timeout": 504,
    "runner_scheduling_failure": 503,
    "runner_connection_timeout": 503,
    "runner_disconnected": 503,
    "runner_connection_refused": 503,
    "runner_connection_error": 503,
    "runner_incomplete_response": 502,
    "runner_server_error": 500,
    "client_disconnected": 499,
    "client_cancelled": 499,
    "bad_request": 400,
    "internal_error": 500,
}

#: the request error types a retry may cure (a guess from the types' meanings: fal's docs
#: name the header, not the set)
RETRYABLE = frozenset(
    {
        "request_timeout",
        "startup_timeout",
        "runner_scheduling_failure",
        "runner_connection_timeout",
        "runner_disconnected",
        "runner_connection_refused",
        "runner_connection_error",
        "runner_incomplete_response",
        "internal_error",
    }
)

#: engine failure kinds that are not fal error types → (fal error type, status)
_FAILURE_TYPES = {
    "cancelled": ("client_cancelled", 499),
    # Not a fal type: the emulator saying plainly that it cannot make this output.
    "unsupported": ("emulator_unsupported", 501),
}


class FalError(Exception):
    """An error answered in fal's format."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(body)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    @classmethod
    def detail(cls, status: int, message: str, error_type: str | None = None) -> FalError:
        if error_type is None:
            return cls(status, {"detail": message})
        return cls(
            status, {"detail": message, "error_type": error_type}, {"X-Fal-Error-Type": error_type}
        )

    def response(self, extra_headers: Mapping[str, str] | None = None) -> Response:
        return json_response(self.body, self.status, {**self.headers, **(extra_headers or {})})


def method_not_allowed(*allowed: str) -> FalError:
    error = FalError.detail(405, "Method Not Allowed")
    error.headers["Allow"] = ", ".join(allowed)
    return error


def _detail_item(violation: Violation) -> dict[str, Any]:
    item: dict[str, Any] = {
        "loc": ["body", *violation.loc],
        "msg": violation.msg,
        "type": violation.type,
    }
    if violation.ctx:
        item["ctx"] = dict(violation.ctx)
    return item


def validation_error(violations: Iterable[Violation]) -> FalError:
    return FalError(422, {"detail": [_detail_item(v) for v in violations]})


def payload_error(error: PayloadError) -> FalError:
    if error.kind in ("json_invalid", "too_deep"):
        item = {"loc": ["body", 0], "msg": error.message, "type": error.kind}
        return FalError(422, {"detail": [item]})
    return FalError.detail(error.status, error.message)


#: How fal's models report an input file they cannot download, or cannot load once
#: downloaded (docs: model errors) → error type, message
INPUT_MEDIA_ERRORS = {
    "media_not_accessible": (
        "file_download_error",
        "Failed to download the file. Please check if the URL is accessible.",
    ),
    "media_not_decodable": (  # GUESS: its wording; the type is in fal's model errors
        "image_load_error",
        "Failed to load the image. Please ensure the image is valid and in a supported format.",
    ),
}


def failure_error(failure: Failure) -> FalError:
    if failure.kind == "invalid":
        return validation_error(failure.details)
    if failure.kind in INPUT_MEDIA_ERRORS:
        error_type, message = INPUT_MEDIA_ERRORS[failure.kind]
        item = {
            "loc": ["body", failure.details["field"]],
            "msg": message,
            "type": error_type,
            "url": f"https://docs.fal.ai/errors#{error_type}",
            "input": failure.details["url"],
        }
        return FalError(422, {"detail": [item]})
    error_type, status = _FAILURE_TYPES.get(
        failure.kind, (failure.kind, REQUEST_ERROR_STATUS.get(failure.kind, 500))
    )
    message = failure.message or error_type.replace("_", " ").capitalize()
    error = FalError.detail(status, message, error_type)
    details = failure.details if isinstance(failure.details, dict) else {}
    if details.get("timeout_type") == "user":
        # The caller's own start timeout: the clients see this pair and do not retry.
        error.headers["X-Fal-Request-Timeout-Type"] = "user"
    retryable = error_type in RETRYABLE and details.get("timeout_type") != "user"
    error.headers["X-Fal-Retryable"] = "true" if retryable else "false"
    return error


def failure_message(failure: Failure) -> str:
    """The words a client is told of a job's failure: its own, else its error type's
    (a bare ``error_type`` fault: "Runner disconnected"); a validation error's are its
    items."""
    if failure.message:
        return failure.message
    detail = failure_error(failure).body["detail"]
    return detail if isinstance(detail, str) else ""


def failure_response(failure: Failure, request_id: str) -> Response:
    return failure_error(failure).response({"x-fal-request-id": request_id})


def status_error_fields(failure: Failure | None) -> dict[str, str]:
    """The ``error``/``error_type`` a COMPLETED status carries. A model's own 422 shows
    only at the result, as on the real queue."""
    if failure is None or failure.kind == "invalid" or failure.kind in INPUT_MEDIA_ERRORS:
        return {}
    error = failure_error(failure)
    return {"error": error.body["detail"], "error_type": error.body["error_type"]}


def answer(error: Exception) -> Response | None:
    """fal's response to an exception raised while handling a request."""
    if isinstance(error, FalError):
        return error.response()
    if isinstance(error, PayloadError):
        return payload_error(error).response()
    if isinstance(error, JobsFull):  # as its queue answers a full queue, to be tried again
        return FalError(429, {"detail": str(error)}, {"Retry-After": "1"}).response()
    return None


_NGINX = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def exchange_error(fault: Fault) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """A staged ``http_error``: fal's ingress 502/503/504 are nginx pages without an
    ``x-fal-request-id`` (the Python client retries those); other errors ``{"detail"}``."""
    status, phrase, headers = status_line(fault)
    if status in (502, 503, 504) and not fault.message:
        body = _NGINX.format(code=status, phrase=phrase).encode()
        return status, [(b"content-type", b"text/html"), *headers], body
    payload: dict[str, Any] = {"detail": fault.message or phrase}
    if fault.error_type:
        payload["error_type"] = fault.error_type
        headers.append((b"x-fal-error-type", fault.error_type.encode()))
    return status, [(b"content-type", b"application/json"), *headers], encode_json(payload)


def http_error(status: int, detail: str, headers: Mapping[str, str] | None) -> Response:
    """A routing error (no such path, or a method it does not take), in fal's format; a
    502-504 (the emulator's state store away) as fal's ingress answers one, an nginx page
    without a request id, which fal_client retries (a JSON 503 it raised at once), with
    ``detail`` in a comment."""
    if status in (502, 503, 504):
        phrase = HTTPStatus(status).phrase
        page = _NGINX.format(code=status, phrase=phrase) + f"<!-- {html.escape(detail)} -->\r\n"
        return Response(page, status, dict(headers or {}), media_type="text/html")
    return FalError(status, {"detail": detail}, headers).response()


def upstream_error(detail: str) -> Response:
    """Record mode's 502 when fal's real API (its ``--upstream``) cannot be reached:
    ``{"detail"}``, which fal_client raises at once, ``detail`` and all; an ingress page
    (`http_error`'s 502) it would retry, against an API that is not there."""
    return FalError.detail(502, detail).response()


def internal_error(message: str) -> Response:
    """An error no route answered (a bug in the emulator), as fal's ``internal_error``."""
    return FalError.detail(500, message, "internal_error").response()
