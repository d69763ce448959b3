"""Exchange faults held (``delay``, ``hang``): a client that leaves meanwhile is recorded
499, in-process as on a server; one that stays is answered by the route, body and all."""

import httpx
import pytest

from emulator import BackgroundServer, emulate
from tests.transport.alike import FAL_QUEUE, recorded_when_left

KEY = {"Authorization": "Key k"}


@pytest.mark.parametrize(
    ("method", "path", "rule"),
    [
        ("POST", "fal-ai/bitdance", {"effect": "delay", "seconds": 30, "method": "POST"}),
        ("GET", "fal-ai/bitdance/requests/x/status", {"effect": "hang", "seconds": 30}),
    ],
    ids=["delay on a submit", "hang on a status poll"],
)
def test_a_request_left_while_held_is_recorded_499_as_served(
    server: BackgroundServer, method: str, path: str, rule: dict
) -> None:
    served, in_process = recorded_when_left(server, method, FAL_QUEUE, path, KEY, rule)
    assert served == in_process == [499]


def test_a_request_held_by_a_delay_reaches_its_route_whole() -> None:
    with emulate() as emulation:
        emulation.add_fault("delay", seconds=0.01, method="POST", times=1)
        submitted = httpx.post(
            "https://queue.fal.run/fal-ai/bitdance", json={"prompt": "kept"}, headers=KEY
        )
        assert submitted.status_code == 200
        result = httpx.get(submitted.json()["response_url"], headers=KEY)
        assert result.json()["prompt"] == "kept"
