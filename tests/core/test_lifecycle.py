import random

import pytest

from emulator.core.lifecycle import Phase, Progression


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("immediate", Progression("immediate", 0, 0, 0)),
        ("polls:1,2", Progression("polls", 1, 2, 0)),
        ("wall:0.5,2", Progression("wall", 0.5, 2, 0.2)),
        ("wall:0.5,2,0", Progression("wall", 0.5, 2, 0)),
    ],
)
def test_parse(text: str, expected: Progression) -> None:
    assert Progression.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "soon",
        "polls:1",
        "polls:1,2,3",
        "wall:a,b",
        "wall:-1,2",
        "wall:1,1,1.5",
        # not finite: accepted once, then every GET of the progression was a 500
        "wall:inf,1",
        "wall:1e999,1",
        "wall:nan,1",
        "wall:1,2,nan",
        "polls:1.5,1",  # polls are counted whole
    ],
)
def test_parse_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read progression"):
        Progression.parse(text)


def test_polls_policy_counts_polls_per_phase() -> None:
    policy = Progression.parse("polls:2,1")
    phases = [policy.locate(polls, 2, 1)[0] for polls in range(5)]
    assert phases == [Phase.QUEUED, Phase.QUEUED, Phase.RUNNING, Phase.DONE, Phase.DONE]


def test_immediate_is_done_at_once() -> None:
    assert Progression.parse("immediate").locate(0, 0, 0) == (Phase.DONE, 1.0)


def test_wall_spans_jitter_within_bounds_and_replay_by_seed() -> None:
    policy = Progression.parse("wall:1,2,0.5")
    spans = [policy.spans(random.Random(7)) for _ in range(2)]
    assert spans[0] == spans[1]
    queue, run = spans[0]
    assert 0.5 <= queue <= 1.5 and 1 <= run <= 3


def test_fraction_within_a_phase() -> None:
    assert Progression.parse("wall:2,4,0").locate(3, 2, 4) == (Phase.RUNNING, 0.25)


def test_a_wall_span_is_at_most_a_day() -> None:
    """wall:1e308,1e308 was accepted: a sync run held its request for good."""
    with pytest.raises(ValueError, match="at most 86400 seconds"):
        Progression.parse("wall:1e308,1")
    assert Progression.parse("wall:86400,1").queue == 86400
