"""One call to a provider as its clients make it: submit, poll until done, fetch.

Used against the real provider (live runs) and against the emulator (parity replay); it
records each request's status code, the headers the clients read and the body.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from emulator.http.recordings import KEPT_RESPONSE_HEADERS
from emulator.http.upstream import Upstreams

__all__ = [
    "CLIENT_HEADERS",
    "CallError",
    "Caller",
    "Exchange",
    "KeyRejected",
    "RETRY_WAIT_LIMIT",
    "Step",
    "TRANSIENT",
    "restated",
    "retry_wait",
    "status_in",
]

#: the response headers the official clients read (the ones recordings keep too)
CLIENT_HEADERS = KEPT_RESPONSE_HEADERS
KEY_VARIABLES = {"fal": "FAL_KEY", "wavespeed": "WAVESPEED_API_KEY"}
_AUTH = {"fal": "Key {}", "wavespeed": "Bearer {}"}
_PROBE_ID = "00000000-0000-0000-0000-000000000000"
_DONE = {"fal": {"COMPLETED"}, "wavespeed": {"completed", "failed"}}
#: what a provider answers while it is busy or briefly down: worth trying again, never a
#: statement about the call itself
TRANSIENT = frozenset({429, 502, 503, 504})
#: the longest a transient answer's Retry-After is waited out, in seconds
RETRY_WAIT_LIMIT = 30.0


class CallError(RuntimeError):
    """A call that could not be made or finished."""


class KeyRejected(CallError):
    """The provider answered 401 or 403: ``exchange``'s last step."""

    def __init__(self, message: str, exchange: Exchange) -> None:
        super().__init__(message)
        self.exchange = exchange

    @property
    def at_submit(self) -> bool:
        """Whether it was the submit that was refused (no job made, nothing billed)."""
        return len(self.exchange.steps) == 1


@dataclass
class Step:
    method: str
    url: str
    status: int
    headers: dict[str, str]
    body: Any


def status_in(provider: str, body: Any) -> str | None:
    """The job's status an answer's ``body`` states (fal's ``status``, WaveSpeed's
    ``data.status``), if it states one."""
    if not isinstance(body, Mapping):
        return None
    if provider == "wavespeed":
        data = body.get("data")
        return data.get("status") if isinstance(data, Mapping) else None
    return body.get("status") if isinstance(body.get("status"), str) else None


def retry_wait(step: Step, attempt: int) -> float | None:
    """Seconds to wait before sending ``step``'s request again, the ``attempt``-th time (from
    0): its Retry-After, else 1, 2, 4… s; None when ``step`` is no `TRANSIENT` answer, or
    asks for a longer wait than `RETRY_WAIT_LIMIT`."""
    if step.status not in TRANSIENT:
        return None
    try:
        wait = float(step.headers.get("retry-after", ""))
    except ValueError:  # none, or an HTTP date
        wait = float(2**attempt)
    return wait if 0 <= wait <= RETRY_WAIT_LIMIT else None


def restated(provider: str, body: Any, status: str) -> Any:
    """A copy of ``body``, an answer that states a status (`status_in`), stating
    ``status`` instead."""
    if provider == "wavespeed":
        return {**body, "data": {**body["data"], "status": status}}
    return {**body, "status": status}


@dataclass
class Exchange:
    """One call as the client sees it."""

    provider: str
    endpoint: str
    arguments: dict[str, Any]
    steps: list[Step] = field(default_factory=list)

    def status_of(self, step: Step) -> str | None:
        return status_in(self.provider, step.body)

    def statuses(self) -> list[str]:
        return [word for step in self.steps if (word := self.status_of(step))]


class Caller:
    def __init__(
        self,
        provider: str,
        upstreams: Upstreams,
        key: str,
        *,
        timeout: float = 300.0,
        poll_interval: float = 0.5,
        retries: int = 0,
    ) -> None:
        """``retries``: how many times a poll or a result answered `TRANSIENT` is sent again
        (after `retry_wait`) before that answer is taken; a submit is sent once (a second
        one may be billed: the caller decides)."""
        self.provider = provider
        self.upstreams = upstreams
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.retries = retries
        self._http = httpx.Client(
            headers={"Authorization": _AUTH[provider].format(key)}, timeout=60.0
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, exchange: Exchange, method: str, url: str, body: Any = None) -> Step:
        """``exchange``'s next step: the answer to the request, a GET's transient answers
        retried (`retries`) and left out, as a client that retries them sees the call."""
        step = self._send(method, url, body)
        for attempt in range(self.retries if method == "GET" else 0):
            wait = retry_wait(step, attempt)
            if wait is None:
                break
            time.sleep(wait)
            step = self._send(method, url, body)
        exchange.steps.append(step)
        if step.status in (401, 403):
            variable = KEY_VARIABLES[self.provider]
            raise KeyRejected(f"{self.provider} rejected {variable} ({step.status})", exchange)
        return step

    def _send(self, method: str, url: str, body: Any) -> Step:
        try:
            answer = self._http.request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise CallError(f"{self.provider} is unreachable at {url}: {exc}") from None
        try:
            content: Any = answer.json()
        except ValueError:
            content = None
        headers = {k: answer.headers[k] for k in CLIENT_HEADERS if k in answer.headers}
        return Step(method, url, answer.status_code, headers, content)

    def probe(self) -> None:
        """A non-billable call (the status of a request that does not exist)."""
        probe = Exchange(self.provider, "", {})
        if self.provider == "fal":
            url = f"{self.upstreams.base('fal/queue')}/fal-ai/any/requests/{_PROBE_ID}/status"
        else:
            url = f"{self.upstreams.base('wavespeed')}/api/v3/predictions/{_PROBE_ID}/result"
        self._call(probe, "GET", url)

    def run(self, endpoint_id: str, arguments: Mapping[str, Any]) -> Exchange:
        exchange = Exchange(self.provider, endpoint_id, dict(arguments))
        if self.provider == "fal":
            base = self.upstreams.base("fal/queue")
            submitted = self._call(exchange, "POST", f"{base}/{endpoint_id}", exchange.arguments)
            body = submitted.body if isinstance(submitted.body, Mapping) else {}
            if submitted.status < 400 and "status_url" in body:
                self._poll(exchange, body["status_url"])
                self._call(exchange, "GET", body["response_url"])
            return exchange
        base = f"{self.upstreams.base('wavespeed')}/api/v3"
        submitted = self._call(exchange, "POST", f"{base}/{endpoint_id}", exchange.arguments)
        data = submitted.body.get("data") if isinstance(submitted.body, Mapping) else None
        if submitted.status < 400 and isinstance(data, Mapping) and "id" in data:
            self._poll(exchange, f"{base}/predictions/{data['id']}/result")
        return exchange

    def _poll(self, exchange: Exchange, url: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            step = self._call(exchange, "GET", url)
            if step.status >= 400 or exchange.status_of(step) in _DONE[self.provider]:
                return
            time.sleep(self.poll_interval)
        raise CallError(f"{exchange.endpoint} did not finish within {self.timeout:.0f}s")
