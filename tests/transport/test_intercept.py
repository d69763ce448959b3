import asyncio
import threading

import fal_client
import httpx
import pytest
import requests
import requests.adapters
import respx

from emulator import ConcurrentEmulation, UnmatchedRequest, emulate
from emulator.providers.registry import HOST_SURFACES


@pytest.mark.parametrize("host", sorted(HOST_SURFACES))
def test_every_provider_host_reaches_the_app(host: str) -> None:
    with emulate() as emulation:
        assert httpx.get(f"https://{host}/nothing-here").status_code in (401, 404, 405)
        assert requests.get(f"https://{host}/nothing-here").status_code in (401, 404, 405)
    assert {entry.host for entry in emulation.requests} == {host}


def test_interception_ends_with_the_emulation() -> None:
    with emulate():
        pass
    _reaches_for_the_network()


def test_a_nested_emulation_answers_until_it_ends_then_the_outer_one_again() -> None:
    def submit() -> str:
        answer = httpx.post(
            "https://queue.fal.run/fal-ai/bitdance", json={"prompt": "x"}, headers=FAL_KEY
        )
        return answer.json()["request_id"]

    with emulate(seed=1) as outer:
        with emulate(seed=2) as inner:
            inner_id = submit()
        outer_id = submit()
        with emulate(unmatched="pass"):  # passes what it does not stand for, not the rest
            submit()
    assert [job.id for job in inner.engine.jobs] == [inner_id]
    assert [job.id for job in outer.engine.jobs] == [outer_id]
    _reaches_for_the_network()  # all three ended: nothing intercepts


def test_an_emulation_in_another_thread_while_one_runs_is_refused_not_misrouted() -> None:
    # interception is process-wide: the one started last answered both threads' calls,
    # and the other emulation recorded none, silently
    outcome: list[BaseException | None] = []
    started, done = threading.Event(), threading.Event()

    def other_thread() -> None:
        with emulate(seed=1):
            started.set()
            done.wait(10)

    thread = threading.Thread(target=other_thread)
    thread.start()
    try:
        assert started.wait(10)
        try:
            with emulate(seed=2):
                pass
        except ConcurrentEmulation as error:
            outcome.append(error)
    finally:
        done.set()
        thread.join(10)
    assert len(outcome) == 1 and "another thread's emulation is active" in str(outcome[0])
    with emulate() as emulation:  # the other's has ended: this one starts
        httpx.post("https://queue.fal.run/fal-ai/bitdance", json={"prompt": "x"}, headers=FAL_KEY)
    assert len(emulation.calls()) == 1


@pytest.mark.parametrize("level", ["httpcore", "httpx"])  # respx's default, and the other
def test_a_tests_own_respx_mocks_answer_beside_the_emulation(level: str) -> None:
    with respx.mock(using=level) as own:
        own.get("https://api.example.com/user").respond(json={"name": "ada"})
        with emulate():
            assert httpx.get("https://api.example.com/user").json() == {"name": "ada"}
            submitted = httpx.post(
                "https://queue.fal.run/fal-ai/bitdance", json={"prompt": "x"}, headers=FAL_KEY
            )
            assert submitted.json()["status"] == "IN_QUEUE"
            with pytest.raises(AssertionError, match="not mocked"):  # respx's own refusal
                httpx.get("https://api.example.org/")
        assert own.calls.call_count == 1  # its route alone: the provider's request never came


def _reaches_for_the_network() -> None:
    # The guard in conftest refuses the real network: the request went to httpx's own transport.
    with pytest.raises(httpx.ConnectError, match="tried to resolve a network name"):
        httpx.get("https://queue.fal.run/", timeout=1)


FAL_KEY = {"Authorization": "Key k"}


def test_what_no_host_answers_is_refused_as_a_client_would_read_it() -> None:
    with emulate():
        # a data: URI fetched as if it were a URL: httpx's own error, as without emulation
        with pytest.raises(httpx.UnsupportedProtocol):
            httpx.get("data:image/png;base64,AAAA")
        with pytest.raises(UnmatchedRequest) as refused:
            httpx.get("https://example.com/x")
    # the public class by name, in tracebacks and reprs
    assert type(refused.value).__name__ == "UnmatchedRequest"
    assert repr(refused.value).startswith("UnmatchedRequest(")


def test_a_client_with_a_transport_of_its_own_keeps_it() -> None:
    """A test of a user's web app drives it through its own transport (ASGITransport,
    Starlette's TestClient, a MockTransport): none reaches the network, so unmatched="fail"
    does not refuse them; the app's own calls to the providers are still emulated."""
    import fal_client
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def generate(request: object) -> JSONResponse:
        made = await fal_client.run_async("fal-ai/bitdance", arguments={"prompt": "x"})
        return JSONResponse({"url": made["images"][0]["url"]})

    app = Starlette(routes=[Route("/generate", generate)])

    async def through_the_app() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return (await client.get("/generate")).json()["url"]

    mocked = httpx.MockTransport(lambda request: httpx.Response(204))
    with emulate() as emulation:
        assert asyncio.run(through_the_app()).startswith("https://v3.fal.media/")
        assert httpx.Client(transport=mocked).get("http://service.test/").status_code == 204
        with pytest.raises(UnmatchedRequest):
            httpx.get("http://service.test/")  # the network's transport: refused
        assert emulation.calls("fal-ai/bitdance").call_count == 1


def test_emulations_of_two_asyncio_tasks_at_once_are_refused_not_misrouted() -> None:
    """Two tasks of one thread, each in its own emulation: the one started last answered
    both tasks' calls (the other recorded none), and requests stayed patched after both."""

    async def run(delay: float) -> int:
        with emulate() as emulation:
            await asyncio.sleep(delay)
            await fal_client.subscribe_async("fal-ai/bitdance", arguments={"prompt": "x"})
            return emulation.calls().call_count

    async def both() -> list[object]:
        return await asyncio.gather(run(0.05), run(0.1), return_exceptions=True)

    first, second = asyncio.run(both())
    assert first == 1 and isinstance(second, ConcurrentEmulation)
    with pytest.raises(UnmatchedRequest):  # nothing left patched
        with emulate():
            requests.get("https://service.test/")
    assert requests.Session.get_adapter.__module__ == "requests.sessions"


def test_emulations_stopped_out_of_order_say_so() -> None:
    outer, inner = emulate(), emulate()
    outer.start()
    inner.start()
    with pytest.raises(RuntimeError, match="reverse order"):
        outer.stop()
    inner.stop()
    outer.stop()
    assert requests.Session.get_adapter.__module__ == "requests.sessions"


def test_a_transport_that_wraps_the_network_is_still_refused_unmatched_hosts() -> None:
    """A wrapper (fal_client's backup-domain transport, a retrying one) may reach the
    network itself: only transports known to answer in-process keep other hosts."""

    class Wrapping(httpx.BaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return self.inner.handle_request(request)

    with emulate():
        client = httpx.Client(transport=Wrapping())
        # the emulator answers the provider host (its 401: no key), never the network
        assert client.get("https://queue.fal.run/fal-ai/bitdance/requests/x").status_code == 401
        with pytest.raises(UnmatchedRequest):
            client.get("http://service.test/")
