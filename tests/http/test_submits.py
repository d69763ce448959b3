"""A submit to a shared store writes a large input from a worker thread: other keys' polls
do not wait for it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from emulator import EmulatorConfig, Engine, create_app
from emulator.http.asgi import BODY
from emulator.http.bodies import retained_size
from emulator.http.submits import OFFLOADED_BYTES, offloads
from tests.held_calls import answered_while_held

LARGE = {"prompt": "x" * OFFLOADED_BYTES}


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/fal/queue/fal-ai/bitdance", {"Authorization": "Key k"}),
        (
            "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image",
            {"Authorization": "Bearer k"},
        ),
    ],
    ids=["fal", "wavespeed"],
)
def test_a_large_input_is_written_to_a_data_dir_off_the_event_loop(
    path: str, headers: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 19 MB inputs to --data-dir held another key's polls up to 2.8 s (an audit)
    engine = Engine(EmulatorConfig(data_dir=tmp_path, max_body_bytes=2 * OFFLOADED_BYTES))

    async def submitted(http: httpx.AsyncClient) -> httpx.Response:
        return await http.post(path, json=LARGE, headers=headers)

    try:
        held = answered_while_held(create_app(engine=engine), monkeypatch, engine, "submit",
                                   submitted, 10)  # fmt: skip
    finally:
        engine.close()
    assert held == (200, 200, True)


def test_a_submit_is_offloaded_by_its_bodys_size_not_by_its_inputs_weight(
    tmp_path: Path,
) -> None:
    # what is written to the store is the body: a mid-size one of many numbers, which the
    # budgets count as weighing more, is written at once
    engine = Engine(EmulatorConfig(data_dir=tmp_path))
    try:
        many = json.dumps([0.5] * 20_000).encode()
        assert retained_size({BODY: many}) >= OFFLOADED_BYTES > len(many)
        assert not offloads(engine, {BODY: many})
        assert offloads(engine, {BODY: b"x" * OFFLOADED_BYTES})
    finally:
        engine.close()
