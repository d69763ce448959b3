"""The fence around a client's work left running after a check: that work reaches nothing,
by any library, while every other thread's requests pass; the fence comes down once the
work has ended."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import requests
import requests.adapters

from emulator import emulate
from emulator.harness import ClientRanAway
from emulator.harness.fence import fence_off, fenceable_sleeps, fenced
from emulator.harness.pool_threads import Work, pool_task

URL = "https://queue.fal.run/fal-ai/bitdance/requests/0000/status"
HEADERS = {"Authorization": "Key k"}


def _wait_until(done: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def _no_fence_up() -> Iterator[None]:
    """Each test puts the fence up itself, and leaves it down."""
    # another test's fenced work, winding down (fal_client's sleeps 30 s at most)
    _wait_until(lambda: not fenced(), 60)
    assert not fenced(), "another test's fenced work still runs"
    yield
    _wait_until(lambda: not fenced())  # down before a test's spies go: it wraps them
    assert not fenced()


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request that reaches httpx's or requests' transport to the network, and every
    name lookup and connection, from any thread: none leaves (each fails as on a machine
    without a network)."""
    left: list[str] = []
    sync, later = httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request
    adapter = requests.adapters.HTTPAdapter.send

    def handle_request(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        left.append(f"httpx {request.url}")
        return sync(transport, request)

    async def handle_async_request(transport: object, request: httpx.Request) -> httpx.Response:
        left.append(f"httpx {request.url}")
        return await later(transport, request)  # type: ignore[arg-type]

    def send(
        session_adapter: object, request: requests.PreparedRequest, **kwargs: object
    ) -> object:
        left.append(f"requests {request.url}")
        return adapter(session_adapter, request, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)

    def connect(sock: socket.socket, address: object) -> None:
        left.append(f"connect {address}")
        raise ConnectionRefusedError(f"(the test's network) {address}")

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        left.append(f"lookup {host}")
        raise socket.gaierror(f"(the test's network) {host}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return left


def _httpx(url: str) -> object:
    return httpx.get(url)


def _httpx_async(url: str) -> object:
    async def get() -> httpx.Response:
        async with httpx.AsyncClient() as http:
            return await http.get(url)

    return asyncio.run(get())


def _requests(url: str) -> object:
    return requests.get(url, timeout=5)


def _urllib(url: str) -> object:
    return urllib.request.urlopen(url, timeout=5)  # noqa: S310 (a fixed https URL)


def _outcome(send: Callable[[str], object]) -> BaseException | None:
    try:
        send(URL)
    except BaseException as error:  # noqa: BLE001 (ClientRanAway is what is looked for)
        return error
    return None


@pytest.mark.parametrize("send", [_httpx, _httpx_async, _requests, _urllib])
def test_fenced_work_reaches_nothing_and_the_rest_passes(
    network: list[str], send: Callable[[str], object]
) -> None:
    go, outcome = threading.Event(), []

    def left_running() -> None:
        go.wait(10)
        outcome.append(_outcome(send))

    leftover = threading.Thread(target=left_running, daemon=True)
    leftover.start()
    fence_off([Work(leftover)])
    assert fenced()
    assert not isinstance(_outcome(send), ClientRanAway)  # this thread's passes, to fail
    assert network  # on the (absent) network
    passed = list(network)
    go.set()
    leftover.join(10)
    assert isinstance(outcome[0], ClientRanAway)
    assert network == passed  # nothing more left the process
    _wait_until(lambda: not fenced())
    assert not fenced()  # and down: the test's spies are as they were
    assert socket.socket.connect.__qualname__ == "network.<locals>.connect"
    assert httpx.HTTPTransport.handle_request.__qualname__ == "network.<locals>.handle_request"


def test_a_pools_task_is_fenced_not_the_next_task_of_its_worker(network: list[str]) -> None:
    go, fenced_work, outcomes = threading.Event(), [], []

    def left_running() -> None:
        fenced_work.append(Work(threading.current_thread(), pool_task(sys._getframe())))
        go.wait(10)
        outcomes.append(_outcome(_httpx))

    with ThreadPoolExecutor(1) as pool:
        pool.submit(left_running)
        _wait_until(lambda: bool(fenced_work))
        fence_off(fenced_work)
        go.set()
        next_task = pool.submit(_outcome, _httpx).result(10)
    assert isinstance(outcomes[0], ClientRanAway)
    assert isinstance(next_task, httpx.ConnectError)  # on to the (absent) network
    assert network


def test_fenced_work_is_refused_by_an_emulation_too() -> None:
    """A later check's (or a test's own): a poller left by an earlier check passed as its
    own, counted against its call's limits."""
    go, outcome = threading.Event(), []
    submit = "https://queue.fal.run/fal-ai/bitdance"

    def left_running() -> None:
        go.wait(10)
        outcome.append(_outcome(lambda url: httpx.post(submit, json={"prompt": "x"})))

    leftover = threading.Thread(target=left_running, daemon=True)
    leftover.start()
    fence_off([Work(leftover)])
    with emulate() as emulation:
        assert httpx.post(submit, json={"prompt": "x"}, headers=HEADERS).status_code == 200
        go.set()
        leftover.join(10)
        assert isinstance(outcome[0], ClientRanAway)
        assert len(emulation.requests) == 1  # this thread's alone


def test_work_that_has_ended_is_not_fenced() -> None:
    ended = threading.Thread(target=lambda: None)
    ended.start()
    ended.join()
    fence_off([Work(ended)])
    assert not fenced()


def _sleeping(sleep: Callable[[], object], outcome: list) -> threading.Thread:
    """A thread of the client's that sleeps ``sleep``, its outcome put in ``outcome``."""
    thread = threading.Thread(target=lambda: outcome.append(_outcome(lambda _: sleep())))
    thread.daemon = True
    thread.start()
    return thread


def _runs(thread: threading.Thread, function: Callable[[], None]) -> bool:
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None and frame.f_code is not function.__code__:
        frame = frame.f_back
    return frame is not None


def test_fenced_work_asleep_in_a_check_ends_at_once() -> None:
    """fal_client's poller asleep in its backoff (30 s at most, or the user's polling
    interval) slept on, and a script that ran a check waited for it to exit."""
    outcome: list = []

    def an_hour() -> None:
        time.sleep(3600)

    with fenceable_sleeps():
        asleep = _sleeping(an_hour, outcome)
        _wait_until(lambda: _runs(asleep, an_hour))
        fence_off([Work(asleep)])
        time.sleep(0.1)  # this thread's sleep passes
    asleep.join(10)
    assert isinstance(outcome[0], ClientRanAway)
    assert "a sleep by work a client left running" in str(outcome[0])


def test_fenced_work_falling_asleep_after_its_check_is_refused_its_sleep() -> None:
    go, outcome = threading.Event(), []
    asleep = _sleeping(lambda: go.wait(10) and time.sleep(3600), outcome)
    fence_off([Work(asleep)])
    go.set()
    asleep.join(10)
    assert isinstance(outcome[0], ClientRanAway)
    time.sleep(0)  # time.sleep's own answers, to every other thread
    with pytest.raises(ValueError, match="must be non-negative"):
        time.sleep(-1)


SCRIPT = """
import atexit, socket
from emulator.harness import Options, check
from tests.harness.official import fal_subscribe_polling_hourly

looked_up, lookup = [], socket.getaddrinfo

def getaddrinfo(host, *rest, **named):
    looked_up.append(host)
    return lookup(host, *rest, **named)

socket.getaddrinfo = getaddrinfo
atexit.register(lambda: print("looked up:", looked_up))  # run once the poller has ended
report = check(fal_subscribe_polling_hourly, provider="fal", endpoint="fal-ai/bitdance",
               properties=["cancels_abandoned_jobs"], options=Options(max_examples=1))
print(report.outcomes[0].status)
"""


@pytest.mark.slow  # a process of its own, through a property's runs: 6 s
def test_a_script_that_ran_a_check_ends_though_the_client_left_a_poller_asleep() -> None:
    """fal_client's pool joins its workers as Python exits, and the poller a sync
    `subscribe` with a `client_timeout` leaves asleep slept on, fenced: the script waited
    its hour (the command line ends at its verdict: `os._exit`, which a script has not)."""
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, cwd=root
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-3:] == ["held", "looked up: []", ""], done.stdout
