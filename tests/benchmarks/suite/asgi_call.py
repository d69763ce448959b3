"""One request straight into an ASGI app, no network and no client: what the app itself
costs per request."""

from __future__ import annotations

import asyncio
import time
from typing import Any

__all__ = ["call", "http_scope", "post", "timed_calls"]


async def post(app: Any, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    sent = {**headers, "content-type": "application/json", "content-length": str(len(body))}
    return await call(app, path, sent, method="POST", body=body)


def http_scope(method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """The ASGI scope of a request from a loopback client to ``127.0.0.1:8000``."""
    target, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": target,
        "raw_path": target.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def call(
    app: Any,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    method: str = "GET",
    body: bytes = b"",
    complete: bool = True,
) -> tuple[int, bytes]:
    """One request: its status and body. ``complete=False`` sends ``body`` as the start of
    a body whose rest never comes."""
    scope = http_scope(method, path, headers or {})
    answer: dict[str, Any] = {"status": 0, "body": b""}

    pending = [{"type": "http.request", "body": body, "more_body": not complete}]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()  # no disconnect: wait until the app stops listening
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], answer["body"]


async def timed_calls(app: Any, path: str, headers: dict[str, str], count: int) -> list[float]:
    """Milliseconds per request, ``count`` requests, after one unmeasured."""
    status, body = await call(app, path, headers)
    if not 200 <= status < 300:
        raise RuntimeError(f"{path}: {status} {body[:200]!r}")
    times = []
    for _ in range(count):
        start = time.perf_counter()
        await call(app, path, headers)
        times.append((time.perf_counter() - start) * 1000)
    return times
