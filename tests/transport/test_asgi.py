import asyncio
import threading

import httpx
import pytest

from emulator.transport import AppDispatcher

RELEASE = threading.Event()


async def chunked_app(scope, receive, send) -> None:
    """Sends one chunk, waits until the test has read it, then sends the rest."""
    body = (await receive())["body"]
    await send({"type": "http.response.start", "status": 201, "headers": [(b"x-echo", body)]})
    await send({"type": "http.response.body", "body": b"first", "more_body": True})
    while not RELEASE.is_set():
        await asyncio.sleep(0.001)
    await send({"type": "http.response.body", "body": b"second", "more_body": False})


async def failing_app(scope, receive, send) -> None:
    raise RuntimeError("the app broke")


def test_sync_requests_stream_chunk_by_chunk() -> None:
    RELEASE.clear()
    dispatcher = AppDispatcher(chunked_app)
    try:
        response = dispatcher.handle_sync(httpx.Request("POST", "https://h/x", content=b"hi"))
        assert (response.status_code, response.headers["x-echo"]) == (201, "hi")
        chunks = response.iter_raw()
        assert next(chunks) == b"first"  # before the app may send the rest
        RELEASE.set()
        assert list(chunks) == [b"second"]
    finally:
        dispatcher.close()


def test_async_requests_stream_chunk_by_chunk() -> None:
    RELEASE.clear()

    async def scenario() -> None:
        response = await AppDispatcher(chunked_app).handle_async(
            httpx.Request("POST", "https://h/x", content=b"yo")
        )
        chunks = response.aiter_raw()
        assert await chunks.__anext__() == b"first"
        RELEASE.set()
        assert [chunk async for chunk in chunks] == [b"second"]

    asyncio.run(scenario())


def test_app_errors_reach_the_caller() -> None:
    dispatcher = AppDispatcher(failing_app)
    try:
        with pytest.raises(RuntimeError, match="the app broke"):
            dispatcher.handle_sync(httpx.Request("GET", "https://h/"))
        with pytest.raises(RuntimeError, match="the app broke"):
            asyncio.run(dispatcher.handle_async(httpx.Request("GET", "https://h/")))
    finally:
        dispatcher.close()


def test_closing_a_stream_disconnects_the_app() -> None:
    seen = []

    async def app(scope, receive, send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        seen.append((await receive())["type"])

    dispatcher = AppDispatcher(app)
    try:
        response = dispatcher.handle_sync(httpx.Request("GET", "https://h/"))
        response.close()
        for _ in range(100):
            if seen:
                break
            threading.Event().wait(0.01)
        assert seen == ["http.disconnect"]
    finally:
        dispatcher.close()


def test_closing_answers_callers_still_waiting() -> None:
    async def never_answers(scope, receive, send) -> None:
        await asyncio.Event().wait()

    dispatcher = AppDispatcher(never_answers)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            dispatcher.handle_sync(httpx.Request("GET", "https://h/"))
        except BaseException as error:  # what the caller is told
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    threading.Event().wait(0.1)
    dispatcher.close()
    caller.join(5)
    assert not caller.is_alive()
    assert "ended before the app answered" in str(outcome[0])
    with pytest.raises(RuntimeError, match="has ended"):
        dispatcher.handle_sync(httpx.Request("GET", "https://h/"))


def test_a_stream_may_be_closed_after_the_dispatcher() -> None:
    RELEASE.clear()
    dispatcher = AppDispatcher(chunked_app)
    response = dispatcher.handle_sync(httpx.Request("POST", "https://h/x", content=b"hi"))
    dispatcher.close()
    response.close()  # no error: the loop is gone, there is nothing to tell
