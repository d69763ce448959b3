"""fal's SSE status stream: its events, and the key's hold it gives back."""

from starlette.testclient import TestClient

from emulator import EmulatorConfig, Progression, create_app


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
