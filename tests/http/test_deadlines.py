import asyncio
from typing import Any

import pytest

from emulator.http import bodies, deadlines
from emulator.http.bodies import PayloadError, read_body


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadlines, "TICK", 0.01)
    monkeypatch.setattr(bodies, "BODY_SECONDS", 0.05)


def _scope() -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}


async def _never() -> dict[str, Any]:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def _whole() -> dict[str, Any]:
    return {"type": "http.request", "body": b"{}", "more_body": False}


def test_a_body_that_never_arrives_is_a_408_once_its_deadline_passes() -> None:
    async def read() -> PayloadError:
        with pytest.raises(PayloadError) as refused:
            await asyncio.wait_for(read_body(_scope(), _never, 1024), timeout=5)
        return refused.value

    refused = asyncio.run(read())
    assert (refused.status, refused.kind) == (408, "too_slow")


def test_a_body_read_in_time_leaves_no_deadline_behind() -> None:
    async def read() -> tuple[bytes, bool]:
        body = await read_body(_scope(), _whole, 1024)
        await asyncio.sleep(0.1)  # past the deadline: nothing may cancel the task now
        return body, deadlines.deadlines()._pending == {}

    assert asyncio.run(read()) == (b"{}", True)


def test_another_cancellation_is_not_taken_for_the_deadline() -> None:
    async def read() -> None:
        task = asyncio.ensure_future(read_body(_scope(), _never, 1024))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(read())


def test_each_loop_has_deadlines_of_its_own_and_keeps_them() -> None:
    async def twice() -> tuple[deadlines.Deadlines, deadlines.Deadlines]:
        return deadlines.deadlines(), deadlines.deadlines()

    first, again = asyncio.run(twice())
    other, _ = asyncio.run(twice())  # a new loop, maybe where the first one was
    assert first is again and other is not first
