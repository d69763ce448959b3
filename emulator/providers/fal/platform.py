"""fal's platform headers and parameters ("common parameters" in fal's docs), read once per
submit or run, validated, and applied where their effect can be observed.

- ``X-Fal-Request-Timeout`` (the clients' ``start_timeout``, seconds, above 1): a request
  that has not started by then ends with fal's 504 and ``X-Fal-Request-Timeout-Type:
  user``, which both clients deliberately do not retry.
- ``X-Fal-Queue-Priority``: ``normal``, ``low`` or ``high`` (the clients send the first
  two; fal's generic queue spec lists all three); a low-priority request waits behind
  normal ones, a high-priority one ahead of them (the emulator's model: twice, or half,
  the queue span and the queue position).
- ``?fal_max_queue_length=N``: a 429 when the app's emulated queue already holds N.
- ``X-Fal-Runner-Hint``, ``X-Fal-No-Retry``, ``X-Fal-Disable-Fallbacks``,
  ``X-Fal-Store-IO``, ``X-Fal-Object-Lifecycle-Preference``: accepted and recorded (the
  request record keeps every header); the emulator has no runners, retries, fallbacks or
  object store whose behaviour they would change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from starlette.types import Scope

from emulator.http.bodies import query_value
from emulator.providers.fal.errors import FalError

#: the clients refuse timeouts of 1 second or less; so does the emulator
MIN_TIMEOUT = 1.0
#: how much longer (or shorter) a request of each priority waits in the emulated queue
PRIORITY_WEIGHTS = {"normal": 1.0, "low": 2.0, "high": 0.5}


@dataclass(frozen=True)
class Platform:
    """The fal platform options a queue request sets in its headers."""

    start_timeout: float | None = None
    queue_weight: float = 1.0
    max_queue_length: int | None = None


#: the options of a request that sets none
_NONE_SET = Platform()


def _bad(message: str) -> FalError:
    return FalError.detail(422, message)


#: the platform headers read here (lower case, as ASGI gives header names)
_TIMEOUT, _PRIORITY = b"x-fal-request-timeout", b"x-fal-queue-priority"


def _platform_headers(scope: Scope) -> dict[bytes, str]:
    """The first value of each platform header present, in one pass over the raw headers
    (a submit's hot path)."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if (name == _TIMEOUT or name == _PRIORITY) and name not in found:
            found[name] = value.decode("latin-1")
    return found


def platform_options(scope: Scope) -> Platform:
    """The platform options of the request in ``scope``; fal's 422 for a value it would
    refuse (a guess: the real wording was not observed)."""
    headers = _platform_headers(scope)
    if not headers and not scope["query_string"]:
        return _NONE_SET  # most requests set none: a frozen dataclass costs 0.6 µs to make
    timeout = None
    if _TIMEOUT in headers:
        try:
            timeout = float(headers[_TIMEOUT])
        except ValueError:
            timeout = math.nan
        if not math.isfinite(timeout) or timeout <= MIN_TIMEOUT:
            raise _bad(f"X-Fal-Request-Timeout must be a number of seconds above {MIN_TIMEOUT:g}")
    weight = PRIORITY_WEIGHTS.get(headers.get(_PRIORITY, "normal"))
    if weight is None:
        raise _bad("X-Fal-Queue-Priority must be 'normal', 'low' or 'high'")
    length = query_value(scope, "fal_max_queue_length")
    if length is not None and not (length.isascii() and length.isdigit()):
        raise _bad("fal_max_queue_length must be a whole number")
    if length is not None:
        # int() reads at most 4,300 digits (a 500): a number that long is past any queue
        length = length.lstrip("0") or "0"
    return Platform(
        start_timeout=timeout,
        queue_weight=weight,
        max_queue_length=int(length) if length is not None and len(length) <= 18 else None,
    )
