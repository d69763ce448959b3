"""Whether a request's slow work holds the event loop: the work is held, a health check is
asked meanwhile, and the hold lets go once that check is answered (or at its bound)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def answered_while_held(
    app: Any,
    monkeypatch: pytest.MonkeyPatch,
    owner: object,
    name: str,
    request: Request,
    bound: float,
) -> tuple[int, int, bool]:
    """Hold ``owner.name`` (a call ``request`` makes on ``app``) until a health check made
    meanwhile is answered, at most ``bound`` seconds: the request's status, the check's,
    and whether the check's answer let the hold go (made on the event loop, the held work
    keeps the check waiting, and only the bound lets it go)."""
    held_now, answered, released = threading.Event(), threading.Event(), []
    call = getattr(owner, name)

    def held(*args: object, **kwargs: object) -> object:
        held_now.set()
        released.append(answered.wait(bound))
        return call(*args, **kwargs)

    monkeypatch.setattr(owner, name, held)

    async def both() -> tuple[int, int]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            asked = asyncio.create_task(request(http))
            while not held_now.is_set():
                await asyncio.sleep(0.01)
            health = await asyncio.wait_for(http.get("/_emulator/health"), 5)
            answered.set()
            return (await asked).status_code, health.status_code

    statuses = asyncio.run(both())
    return *statuses, released == [True]
