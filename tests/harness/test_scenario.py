"""A scenario prints as JSON and replays as exactly the same scenario."""

import json
import shlex
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.harness.scenario import Scenario

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(
    scenario=st.builds(
        Scenario,
        property=st.sampled_from(["surfaces_validation_errors", "retries_transient_errors"]),
        input=JSON,
        progression=st.sampled_from(["immediate", "polls:1,2"]),
        faults=st.lists(st.fixed_dictionaries({"effect": st.just("fail")}), max_size=2).map(tuple),
        seed=st.integers(0, 2**32),
        broken_field=st.none() | st.just("prompt"),
        lose_submit_answer=st.booleans(),
    )
)
def test_a_scenario_replays_as_itself(scenario: Scenario) -> None:
    assert Scenario.from_json(scenario.to_json()) == scenario


def test_an_empty_input_is_printed_for_its_replay() -> None:
    # the smallest broken input of an endpoint with one required field is {}: its replay
    # line once left it out, and the line was refused
    scenario = Scenario("surfaces_validation_errors", {}, broken_field="prompt", seed=1)
    assert '"input":{}' in scenario.to_json()
    line = scenario.replay_command("client:run", "fal", "fal-ai/bitdance")
    assert Scenario.from_json(shlex.split(line)[-1]) == scenario


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"extra": 1}, "unknown field 'extra': a scenario has property, input, progression, "
                       "faults, seed, broken_field, lose_submit_answer"),
        ({"faults": 5}, "faults must be a list of fault rules (JSON objects), not 5"),
        ({"faults": [5]}, "faults must be a list of fault rules (JSON objects), not [5]"),
        ({"lose_submit_answer": "yes"}, "lose_submit_answer must be true or false, not 'yes'"),
        ({"broken_field": 5}, "broken_field must be a field's name (text) or null, not 5"),
        ({"seed": True}, "seed must be a whole number, not True"),
        ({"progression": 1}, "progression must be text, e.g. polls:1,2, not 1"),
    ],
)  # fmt: skip
def test_a_field_none_of_a_scenarios_or_of_the_wrong_kind_is_named(
    field: dict[str, Any], message: str
) -> None:
    # a hand-edited replay: an unknown field and faults 5 raised Python's own TypeErrors
    # ("Scenario.__init__() got an unexpected keyword argument"), and an ill-typed
    # lose_submit_answer or broken_field was staged as it was
    text = json.dumps({"property": "returns_valid_output", "input": {"prompt": "a"}, **field})
    with pytest.raises(ValueError) as refused:
        Scenario.from_json(text)
    assert str(refused.value) == message
