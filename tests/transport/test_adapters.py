"""requests, intercepted: bodies and streams, faults and timeouts as over a connection,
and adapters a test mounts itself."""

import asyncio
import threading

import pytest
import requests
import requests.adapters
import urllib3

from emulator import BackgroundServer, UnmatchedRequest, emulate
from tests.transport.alike import IN_PROCESS, fault_cases, meets_fault_alike


def test_requests_bodies_and_streamed_downloads() -> None:
    with emulate():
        submitted = requests.post(
            "https://api.wavespeed.ai/api/v3/wavespeed-ai/bitdance-14b/text-to-image",
            data=b'{"prompt": "bytes body", "enable_sync_mode": true}',
            headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
        ).json()
        url = submitted["data"]["outputs"][0]
        with requests.get(url, stream=True) as download:
            streamed = b"".join(download.iter_content(1000))
        assert streamed == requests.get(url).content and streamed[:2] == b"\xff\xd8"


SUBMIT = "/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
#: the read timeout of the exchanges: a held answer outlasts it, a first render on a loaded
#: machine does not (0.3 s did not, in the lowest-bound environment with four workers)
READ = 1.0
FAULTS = [
    # effect, its rule, and what requests raises for it over a real connection
    ("reset", {}, requests.exceptions.ChunkedEncodingError),
    ("hang", {"seconds": READ + 2}, requests.exceptions.ReadTimeout),
    ("media_truncated", {}, requests.exceptions.ChunkedEncodingError),
    ("media_slow", {"seconds": READ + 2}, requests.exceptions.ReadTimeout),
]


def _exchange(base: str, effect: str) -> bytes:
    """A submit, or for a media fault a download of its output, within the `READ`
    timeout."""
    answer = requests.post(
        base + SUBMIT,
        json={"prompt": "x", "enable_sync_mode": effect.startswith("media")},
        headers={"Authorization": "Bearer k"},
        timeout=(1, READ if not effect.startswith("media") else 5),
    )
    if not effect.startswith("media"):
        return answer.content
    return requests.get(answer.json()["data"]["outputs"][0], timeout=(1, READ)).content


@pytest.mark.parametrize(("effect", "rule", "error"), fault_cases(FAULTS))
def test_requests_meets_a_fault_in_process_as_over_a_connection(
    server: BackgroundServer, effect: str, rule: dict, error: type[Exception]
) -> None:
    # A client's retries catch requests' own errors (the WaveSpeed SDK's catch
    # ConnectionError and Timeout): in-process it must meet those a socket gives.
    meets_fault_alike(server, effect, rule, error, _exchange)


@pytest.mark.parametrize(("effect", "rule", "error"), fault_cases(FAULTS))
def test_requests_meets_a_fault_alike_when_called_from_async_code(
    effect: str, rule: dict, error: type[Exception]
) -> None:
    # A sync client called inside a coroutine cannot run the app on its own thread's loop
    # (the thread runs one already): the emulation's thread answers it, with the same errors.
    async def from_async_code() -> bytes:
        with pytest.raises(error):
            _exchange(IN_PROCESS, effect)
        assert "provider-emulator" in _thread_names()  # it answered
        return _exchange(IN_PROCESS, effect)  # the rule is spent

    with emulate() as emulation:
        emulation.add_fault(effect, times=1, **rule)
        assert asyncio.run(from_async_code())
    assert "provider-emulator" not in _thread_names()  # it ends with the emulation


def _thread_names() -> set[str]:
    return {thread.name for thread in threading.enumerate()}


@pytest.mark.parametrize(
    "timeout",
    [0.3, (1, 0.3), urllib3.Timeout(total=0.3)],
    ids=["one number", "connect and read", "urllib3 total"],
)
def test_requests_read_timeout_is_the_clients_own(timeout: object) -> None:
    with emulate() as emulation:
        # held 5 s: a client that waited it out would get its answer, not a timeout
        emulation.add_fault("hang", seconds=5, times=1)
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.post(IN_PROCESS + SUBMIT, json={"prompt": "x"}, timeout=timeout)


def test_requests_refuses_a_timeout_as_requests_does() -> None:
    with emulate(), pytest.raises(ValueError, match="Invalid timeout"):
        requests.post(IN_PROCESS + SUBMIT, json={"prompt": "x"}, timeout=(1,))


def test_requests_host_header_is_as_a_connection_writes_it() -> None:
    with emulate() as emulation:
        requests.get("https://api.wavespeed.ai:443/api/v3/balance")
        requests.get("https://api.wavespeed.ai:8443/api/v3/balance")
    assert [entry.host for entry in emulation.requests] == [
        "api.wavespeed.ai",
        "api.wavespeed.ai:8443",
    ]


def test_a_requests_adapter_of_the_tests_own_answers_its_host() -> None:
    """A session mounting a mock adapter for the user's own service (as requests-mock's
    adapters are) keeps it; requests' own HTTPAdapter, the network, is still refused."""

    class Answering(requests.adapters.BaseAdapter):
        def send(self, request: requests.PreparedRequest, **_: object) -> requests.Response:
            answer = requests.Response()
            answer.status_code, answer.url = 299, request.url or ""
            return answer

        def close(self) -> None:
            pass

    with emulate():
        session = requests.Session()
        session.mount("https://service.test/", Answering())
        assert session.get("https://service.test/x").status_code == 299
        with pytest.raises(UnmatchedRequest):
            requests.get("https://service.test/x")
