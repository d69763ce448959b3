"""The lifetime of the loops sync callers drive (transport/loops.py): each is closed when
nothing can read from it any more, wherever that happens, and one caller's wait never holds
up another's request."""

import asyncio
import gc
import os
import threading
import warnings
from collections.abc import Callable, Iterator

import httpx
import pytest

from emulator import emulate
from emulator.transport import AppDispatcher

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")


def _descriptors() -> int:
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


async def far_off_events(scope, receive, send) -> None:
    """An event stream whose second event is far off (cancelled when the test ends)."""
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
    await asyncio.sleep(60)


def _open_and_leave(dispatcher: AppDispatcher) -> Iterator[bytes]:
    """A stream read to its first event and left open, as a reader that stops early does."""
    chunks = dispatcher.handle_sync(httpx.Request("GET", "https://h/events")).iter_raw()
    next(chunks)
    return chunks


@needs_proc
def test_threads_that_end_with_an_answer_open_leave_no_loop_behind() -> None:
    dispatcher = AppDispatcher(far_off_events)
    try:
        before = _descriptors()
        for _ in range(10):  # each loop holds three descriptors: 30 if they stayed
            caller = threading.Thread(target=_open_and_leave, args=(dispatcher,))
            caller.start()
            caller.join(5)
        # Nothing can read those answers any more: a socket would be closed with them.
        assert _descriptors() <= before + 3
    finally:
        dispatcher.close()


def _poll_from_threads(count: int) -> None:
    def poll() -> None:
        with httpx.Client() as client:
            client.get("https://queue.fal.run/fal-ai/bitdance/requests/r/status")

    callers = [threading.Thread(target=poll) for _ in range(count)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(5)


def test_a_loop_whose_thread_ended_is_closed_even_by_a_collector_inside_a_coroutine() -> None:
    # The collector runs wherever an allocation triggers it: often inside a coroutine, or
    # inside the app on another caller's loop, where a second loop cannot run.
    async def collect() -> None:
        gc.collect()

    with emulate(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.disable()
        try:
            _poll_from_threads(4)
            asyncio.run(collect())
        finally:
            gc.enable()
        gc.collect()
    unclosed = [w for w in caught if "unclosed event loop" in str(w.message)]
    assert not unclosed, [str(w.message) for w in unclosed]


def test_an_emulation_may_end_inside_a_coroutine_while_a_threads_answer_is_open() -> None:
    # `with emulate():` in an async test, a sync client run with asyncio.to_thread
    dispatcher = AppDispatcher(far_off_events)

    async def from_async_code() -> None:
        left_open = await asyncio.to_thread(_open_and_leave, dispatcher)
        dispatcher.close()  # as emulate() exits, inside the coroutine
        with pytest.raises(RuntimeError, match="emulation ended"):
            next(left_open)

    asyncio.run(from_async_code())
    assert "provider-emulator" not in {thread.name for thread in threading.enumerate()}


def _held_up(
    opener: Callable[[], None], release: threading.Event, readers: list[threading.Thread]
) -> bool:
    """Whether ``opener``, run in a thread of its own, was still at it after 4 s; then the
    app may end, and the opener and its reader are waited for."""
    asker = threading.Thread(target=opener)
    asker.start()
    asker.join(4)
    held_up = asker.is_alive()
    release.set()
    asker.join(5)
    readers[0].join(5)
    return held_up


def test_reading_an_answer_in_another_thread_does_not_hold_up_its_openers_requests() -> None:
    release = threading.Event()
    driven_by: set[int] = set()  # the threads that ran the app while its stream waited

    async def app(scope, receive, send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/events":  # its next event comes when the test says (<= 10 s)
            await send({"type": "http.response.body", "body": b"1", "more_body": True})
            for _ in range(1000):
                driven_by.add(threading.get_ident())
                if release.is_set():
                    break
                await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"ok"})

    dispatcher = AppDispatcher(app)
    readers: list[threading.Thread] = []
    answered: list[bytes] = []

    def opener() -> None:
        chunks = dispatcher.handle_sync(httpx.Request("GET", "https://h/events")).iter_raw()
        next(chunks)
        reader = threading.Thread(target=lambda: list(chunks))  # reads on in its own thread
        readers.append(reader)
        reader.start()
        for _ in range(100):  # until the reader waits for the next event (here, at most 1 s)
            if reader.ident in driven_by:
                break
            threading.Event().wait(0.01)
        # This thread's next request, as over a second connection, 1 s read timeout.
        ask = httpx.Request("GET", "https://h/status", extensions={"timeout": {"read": 1.0}})
        answered.append(dispatcher.handle_sync(ask).read())

    try:
        held_up = _held_up(opener, release, readers)
        assert not held_up and answered == [b"ok"]
    finally:
        release.set()
        dispatcher.close()


def test_an_answer_is_read_and_closed_while_another_thread_reads_one_opened_beside_it() -> None:
    release = threading.Event()

    async def app(scope, receive, send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"1", "more_body": True})
        if scope["path"] == "/held":  # its end comes when the test says (<= 10 s)
            for _ in range(1000):
                if release.is_set():
                    break
                await asyncio.sleep(0.01)
        else:  # its next chunk soon, then nothing until the reader goes
            await asyncio.sleep(0.05)
            await send({"type": "http.response.body", "body": b"2", "more_body": True})
            await asyncio.sleep(60)
        await send({"type": "http.response.body", "body": b"end"})

    dispatcher = AppDispatcher(app)
    done: list[bytes] = []
    readers: list[threading.Thread] = []

    def opener() -> None:
        held = dispatcher.handle_sync(httpx.Request("GET", "https://h/held")).iter_raw()
        beside = dispatcher.handle_sync(
            httpx.Request("GET", "https://h/beside", extensions={"timeout": {"read": 1.0}})
        )
        chunks = beside.iter_raw()
        next(held)
        reader = threading.Thread(target=lambda: list(held))  # drives this thread's loop
        readers.append(reader)
        reader.start()
        done.extend([next(chunks), next(chunks)])  # 1, then 2 within its read timeout
        beside.close()  # a reader that stops early
        done.append(b"closed")

    try:
        held_up = _held_up(opener, release, readers)
        assert not held_up and done == [b"1", b"2", b"closed"]
    finally:
        release.set()
        dispatcher.close()


def _live_event_loops() -> int:
    gc.collect()
    return sum(isinstance(thing, asyncio.AbstractEventLoop) for thing in gc.get_objects())


def test_threads_that_sent_a_body_leave_no_event_loop_object_behind() -> None:
    def submit() -> None:  # a body: read under a deadline of its loop's (http/deadlines.py)
        httpx.post(
            "https://api.wavespeed.ai/api/v3/wavespeed-ai/bitdance-14b/text-to-image",
            json={"prompt": "x"},
            headers={"Authorization": "Bearer k"},
        )

    with emulate():
        submit()
        before = _live_event_loops()
        for _ in range(10):  # each kept about 8 KB, for good
            caller = threading.Thread(target=submit)
            caller.start()
            caller.join(5)
        assert _live_event_loops() <= before + 1


def test_an_answer_opened_in_sync_code_may_be_read_and_closed_inside_a_coroutine() -> None:
    async def app(scope, receive, send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"1", "more_body": True})
        await asyncio.sleep(0.05 if scope["path"] == "/soon" else 60)
        await send({"type": "http.response.body", "body": b"2"})

    def ask(path: str) -> httpx.Response:
        request = httpx.Request("GET", f"https://h{path}", extensions={"timeout": {"read": 2}})
        return dispatcher.handle_sync(request)

    dispatcher = AppDispatcher(app)
    try:
        soon, far_off = ask("/soon"), ask("/far-off")

        async def consume() -> bytes:  # its thread runs this coroutine's loop meanwhile
            body = soon.read()
            next(far_off.iter_raw())
            far_off.close()  # a reader that stops early
            return body

        assert asyncio.run(consume()) == b"12"
    finally:
        dispatcher.close()
