import asyncio
import gc
import threading
from collections.abc import Callable

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


def _hearing_its_caller_leave(seen: list[str]):  # noqa: ANN202
    async def app(scope, receive, send) -> None:
        await receive()
        seen.append((await receive())["type"])
        await send({"type": "http.response.start", "status": 499, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


@pytest.mark.parametrize("where", ["async", "handed over"])
def test_an_app_hears_a_caller_who_gives_up_leave_before_its_timeout_is_raised(
    where: str,
) -> None:
    # as a server's app hears its client go (and answers what the record keeps)
    seen: list[str] = []
    dispatcher = AppDispatcher(_hearing_its_caller_leave(seen))
    request = httpx.Request("GET", "https://h/", extensions={"timeout": {"read": 0.01}})

    async def call() -> None:
        with pytest.raises(httpx.ReadTimeout):
            if where == "async":
                await dispatcher.handle_async(request)
            else:  # a sync client inside a coroutine
                dispatcher.handle_sync(request)
        assert seen == ["http.disconnect"]

    try:
        asyncio.run(call())
    finally:
        dispatcher.close()


def test_an_app_hears_a_caller_cancelled_from_outside_leave() -> None:
    # asyncio.wait_for around a client's call cancelled the app at once: its request was
    # never recorded, where a server records it (a helper's note)
    seen: list[str] = []
    dispatcher = AppDispatcher(_hearing_its_caller_leave(seen))

    async def call() -> None:
        with pytest.raises(asyncio.TimeoutError):
            request = httpx.Request("GET", "https://h/")
            await asyncio.wait_for(dispatcher.handle_async(request), 0.01)
        await asyncio.sleep(0.05)  # the app answers once it hears its caller go
        assert seen == ["http.disconnect"]

    try:
        asyncio.run(call())
    finally:
        dispatcher.close()


def test_a_stream_may_be_closed_after_the_dispatcher() -> None:
    RELEASE.clear()
    dispatcher = AppDispatcher(chunked_app)
    response = dispatcher.handle_sync(httpx.Request("POST", "https://h/x", content=b"hi"))
    dispatcher.close()
    response.close()  # no error: the loop is gone, there is nothing to tell


async def json_app(scope, receive, send) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


class _Sync(httpx.BaseTransport):
    def __init__(self, dispatcher: AppDispatcher) -> None:
        self.dispatcher = dispatcher

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.dispatcher.handle_sync(request)


class _Async(httpx.AsyncBaseTransport):
    def __init__(self, dispatcher: AppDispatcher) -> None:
        self.dispatcher = dispatcher

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.dispatcher.handle_async(request)


def _cyclic_garbage(run: Callable[[], None]) -> list[str]:
    """The names of the types of what ``run`` left for the collector alone to free."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run()
        gc.collect()
        return [type(item).__name__ for item in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_an_answer_read_leaves_the_apps_run_to_reference_counting() -> None:
    # httpx's response is a reference cycle; what it holds once read waits for the
    # collector. The app's run (its task, its chunks) must not be among it: a sync
    # client's in-process requests then made a third more cyclic garbage (issue 17).
    dispatcher = AppDispatcher(json_app)

    def sync_requests() -> None:
        with httpx.Client(transport=_Sync(dispatcher)) as client:
            for _ in range(3):
                assert client.get("https://h/x").json() == {}

    def async_requests() -> None:
        async def scenario() -> None:
            async with httpx.AsyncClient(transport=_Async(dispatcher)) as client:
                for _ in range(3):
                    assert (await client.get("https://h/x")).json() == {}

        asyncio.run(scenario())

    try:
        for run in (sync_requests, async_requests):
            garbage = _cyclic_garbage(run)
            assert "Response" in garbage  # httpx's own cycle: what the test looks inside
            assert not {"Task", "Chunks", "coroutine", "Event"} & set(garbage)
    finally:
        dispatcher.close()
