"""A completed run is charged to its key once, by the first answer that says it completed;
a failed one costs nothing."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app
from emulator.core.ledger import Spent
from emulator.providers.wavespeed.pricing import DEFAULT_PRICES

MODEL = "bytedance/seedream-v4"


@pytest.mark.parametrize(("prompt", "spent"), [("fine", 1), ("doomed", 0)])
def test_a_result_charges_a_completed_run_once(prompt: str, spent: int) -> None:
    engine = Engine(EmulatorConfig(progression=Progression.parse("immediate")))
    engine.faults.add({"effect": "fail", "provider": "wavespeed", "inputs": {"prompt": "doomed"}})
    try:
        with TestClient(
            create_app(engine=engine),
            base_url="http://testserver/wavespeed/api/v3",
            headers={"Authorization": "Bearer key-1"},
        ) as client:
            task = client.post(f"/{MODEL}", json={"prompt": prompt}).json()["data"]["id"]
            for _ in range(3):  # polled again and again: charged once
                client.get(f"/predictions/{task}/result")
        assert engine.ledger.spent("key-1") == Spent(spent * DEFAULT_PRICES["image"], spent)
        assert engine.ledger.spent("key-2") == Spent(0.0, 0)
    finally:
        engine.close()
