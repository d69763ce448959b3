"""fal's SSE status stream and sync runs: the key's hold each gives back."""

import socket

import pytest
from starlette.testclient import TestClient

from emulator import BackgroundServer, EmulatorConfig, Progression, create_app
from tests.bounded import eventually
from tests.raw_http import json_post


def test_a_finished_stream_gives_its_keys_hold_back() -> None:
    config = EmulatorConfig(progression=Progression.parse("polls:1,1"), max_held_per_key=1)
    app = create_app(config)
    with TestClient(app, headers={"Authorization": "Key k"}) as client:
        submitted = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"}).json()
        for _ in range(2):  # the second is no 429: the first gave its hold back
            streamed = client.get(f"{submitted['status_url']}/stream")
            assert streamed.status_code == 200
            assert '"status": "COMPLETED"' in streamed.text
        assert app.state.engine.holds.of("k") == 0


@pytest.mark.parametrize("path", ["fal-ai/bitdance", "fal-ai/bitdance/stream"])
def test_a_sync_run_whose_client_leaves_gives_its_keys_hold_back_at_once(path: str) -> None:
    """A sync run (or its SSE form) held its key's slot for the model's whole time after
    its client had gone: 100 abandoned runs kept the key at 429 for 19 s (an audit)."""
    config = EmulatorConfig(progression=Progression.parse("wall:600,600,0"))
    with BackgroundServer(config) as server:
        request = json_post(f"/fal/run/{path}", {"prompt": "x"}, "Key k")
        holds = server.engine.holds
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
            client.sendall(request)
            assert eventually(lambda: holds.of("k") == 1, 10)
        # the run would hold for 1,200 s: only its client's leaving ends it this soon
        assert eventually(lambda: holds.of("k") == 0, 10)


@pytest.mark.slow  # a served run whose events are 2 s apart
def test_a_streaming_run_sends_its_events_one_by_one_over_the_runs_time() -> None:
    """A streaming run sent every event in one body at the run's end: a client could not
    see time to first event, nor abort half-way (an audit)."""
    config = EmulatorConfig(progression=Progression.parse("wall:0,8,0"))
    with BackgroundServer(config) as server:
        body = {"prompt": "hi there", "model": "google/gemini-2.5-flash"}
        request = json_post("/fal/run/openrouter/router/stream", body, "Key k")
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as client:
            client.sendall(request)
            received = b""
            while b"data: " not in received:  # bounded by the socket's timeout
                received += client.recv(65536)
            # the first events (of four, 2 s apart: a stalled test thread may read two), not
            # the run's whole answer at its end
            assert 1 <= received.count(b"data: ") < 4
        assert eventually(lambda: server.engine.holds.of("k") == 0, 10)  # left: slot back
