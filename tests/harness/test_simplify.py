"""The simpler variants of a failing scenario, and when two failures are alike."""

from __future__ import annotations

from emulator.config import EmulatorConfig
from emulator.contracts.loading import load_contracts
from emulator.harness.scenario import Scenario
from emulator.harness.simplify import kinds, simpler, size

ENDPOINT = load_contracts(EmulatorConfig().contracts).get("fal", "fal-ai/bitdance")
RULE = {"effect": "fail", "error_type": "runner_disconnected"}
DRAWN = Scenario("p", {"prompt": "x", "num_images": 2}, "polls:1,1", faults=(RULE,), seed=972)


def test_everything_simplified_at_once_comes_first() -> None:
    first = next(simpler(DRAWN, {"prompt": ""}, ENDPOINT, drop_faults=True))
    assert first == Scenario("p", {"prompt": ""}, "polls:1,1")


def test_the_fault_rules_stay_when_the_property_needs_them() -> None:
    variants = list(simpler(DRAWN, {"prompt": ""}, ENDPOINT, drop_faults=False))
    assert all(variant.faults == (RULE,) for variant in variants)
    # and each input field is dropped, or set as in the simplest input, once
    assert {"prompt": "", "num_images": 2} in [v.input for v in variants]
    assert {"prompt": "x"} in [v.input for v in variants]


def test_an_invalid_input_is_kept() -> None:
    broken = Scenario("p", {"prompt": 3}, seed=5, broken_field="prompt")
    assert {
        v.input["prompt"] for v in simpler(broken, {"prompt": ""}, ENDPOINT, drop_faults=True)
    } == {3}


def test_failures_alike_differ_only_in_ids_and_figures() -> None:
    one = kinds(
        ["polled job 3cc44b7f-1c77-4349-ab9e-07d69e5f46c9 1 more time(s) after it was done"]
    )
    other = kinds(
        ["polled job 00000000-1c77-4349-ab9e-07d69e5f46c9 2 more time(s) after it was done"]
    )
    assert one == other != kinds(["fetched the result of 3cc44b7f 2 times"])


def test_fewer_fault_rules_is_simpler_than_a_shorter_input() -> None:
    assert size(Scenario("p", {"prompt": "long"})) < size(Scenario("p", {}, faults=(RULE,)))
