import asyncio
import gc
import os
import threading
import warnings

import fal_client
import httpx
import pytest

from emulator import emulate
from emulator.transport import AppDispatcher, answers, loops
from emulator.transport.answers import AnswerTimeout

#: the scope of a plain GET, for `AppDispatcher.answer_sync`
_GET = {"type": "http", "method": "GET", "path": "/", "headers": []}


def _app_noting_its_thread(threads: list[int]):  # noqa: ANN202
    async def app(scope, receive, send) -> None:
        threads.append(threading.get_ident())
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def _get(dispatcher: AppDispatcher) -> bytes:
    response = dispatcher.handle_sync(httpx.Request("GET", "https://h/"))
    return response.read()


def test_a_sync_request_is_answered_in_the_callers_thread() -> None:
    threads: list[int] = []
    dispatcher = AppDispatcher(_app_noting_its_thread(threads))
    try:
        assert _get(dispatcher) == b"ok"
        assert threads == [threading.get_ident()]
        assert "provider-emulator" not in {thread.name for thread in threading.enumerate()}
    finally:
        dispatcher.close()


def test_a_thread_that_runs_a_loop_hands_the_request_over() -> None:
    threads: list[int] = []
    dispatcher = AppDispatcher(_app_noting_its_thread(threads))

    async def from_async_code() -> bytes:
        return _get(dispatcher)  # a sync client called inside a coroutine

    try:
        assert asyncio.run(from_async_code()) == b"ok"
        assert len(threads) == 1 and threads[0] != threading.get_ident()
    finally:
        dispatcher.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
def test_threads_that_end_leave_no_loop_behind() -> None:
    dispatcher = AppDispatcher(_app_noting_its_thread([]))
    try:
        _get(dispatcher)  # this thread's loop, which stays
        gc.collect()
        before = len(os.listdir("/proc/self/fd"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(40):  # each loop holds three descriptors: 120 if they stayed
                caller = threading.Thread(target=_get, args=(dispatcher,))
                caller.start()
                caller.join(5)
            gc.collect()
        assert len(os.listdir("/proc/self/fd")) <= before + 3
        # closed as its thread ends, not left for the collector (which warns of each)
        assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    finally:
        dispatcher.close()


def test_an_answer_may_be_read_in_another_thread() -> None:
    release = threading.Event()

    async def two_chunks(scope, receive, send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        while not release.is_set():
            await asyncio.sleep(0.001)
        await send({"type": "http.response.body", "body": b"second"})

    dispatcher = AppDispatcher(two_chunks)
    try:
        started: list[httpx.Response] = []
        opener = threading.Thread(
            target=lambda: started.append(
                dispatcher.handle_sync(httpx.Request("GET", "https://h/"))
            )
        )
        opener.start()
        opener.join(5)
        chunks = started[0].iter_raw()
        assert next(chunks) == b"first"
        release.set()
        assert list(chunks) == [b"second"]  # this thread ran the opener's loop
    finally:
        dispatcher.close()


def _answering_after(turns: int):  # noqa: ANN202
    """An app that yields to its loop ``turns`` times before it answers."""

    async def app(scope, receive, send) -> None:
        for _ in range(turns):
            await asyncio.sleep(0)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(turns).encode()})

    return app


def test_an_app_that_answers_at_once_is_read_after_one_turn_with_no_timer() -> None:
    callers, scope = loops.CallerLoops(), {"type": "http", "method": "GET", "headers": []}
    try:
        caller = callers._caller()
        timers: list[float] = []
        call_later = caller.loop.call_later
        caller.loop.call_later = lambda delay, *args, **kw: (  # type: ignore[method-assign]
            timers.append(delay) or call_later(delay, *args, **kw)
        )
        for turns in (0, 1, 3):
            answer = callers.answer(_answering_after(turns), scope, b"", 5)
            assert answer is not None and list(answer) == [str(turns).encode()]
            assert not caller.apps  # the finished app is let go now, not at the next turn
        assert timers == [5, 5]  # only the apps that waited past the first turn
    finally:
        callers.close()


async def _failing(scope, receive, send) -> None:  # noqa: ANN001
    raise ConnectionError("the app broke off")


def test_an_app_that_fails_at_once_is_let_go_as_its_error_is_raised() -> None:
    callers, scope = loops.CallerLoops(), {"type": "http", "method": "GET", "headers": []}
    try:
        caller = callers._caller()
        with pytest.raises(ConnectionError):
            callers.answer(_failing, scope, b"", 5)
        assert not caller.apps  # as an app that answered: not held until the loop's next turn
    finally:
        callers.close()


async def _until_cancelled(seen: list[str]) -> None:
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        seen.append("cancelled")
        raise


def test_an_app_still_at_work_when_its_answer_is_closed_is_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(answers, "SETTLE", 0.05)
    seen: list[str] = []

    async def deaf(scope, receive, send) -> None:  # never listens for the disconnect
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        await _until_cancelled(seen)

    dispatcher = AppDispatcher(deaf)
    try:
        dispatcher.handle_sync(httpx.Request("GET", "https://h/")).close()
        assert seen == ["cancelled"]
    finally:
        dispatcher.close()


def test_a_caller_who_gives_up_waiting_is_heard_leaving_before_its_timeout_is_raised() -> None:
    # as a server's app hears its client go, and answers what the record then keeps
    seen: list[str] = []

    async def listening(scope, receive, send) -> None:
        await receive()
        seen.append((await receive())["type"])
        await send({"type": "http.response.start", "status": 499, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    _give_up_on(listening)
    assert seen == ["http.disconnect"]


def test_a_caller_who_gives_up_on_a_deaf_app_cancels_it_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(answers, "SETTLE", 0.05)
    seen: list[str] = []

    async def slow(scope, receive, send) -> None:
        await _until_cancelled(seen)

    _give_up_on(slow)
    assert seen == ["cancelled"]


def _give_up_on(app) -> None:
    """A sync caller's request to ``app``, given up after 10 ms."""
    dispatcher = AppDispatcher(app)
    try:
        with pytest.raises(AnswerTimeout):
            dispatcher.answer_sync(_GET, b"", 0.01)
    finally:
        dispatcher.close()


def test_the_real_client_subscribes_from_a_thread_and_from_async_code() -> None:
    with emulate(seed=1):
        client = fal_client.SyncClient(key="k")

        def subscribe() -> dict:
            return client.subscribe("fal-ai/bitdance", arguments={"prompt": "a lighthouse"})

        async def from_async_code() -> dict:
            return subscribe()

        here, handed_over = subscribe(), asyncio.run(from_async_code())
    assert here["images"][0]["url"] and handed_over["images"][0]["url"]
