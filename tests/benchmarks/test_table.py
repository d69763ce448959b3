"""The benchmark's table: a ratio is the median of the rounds' own ratios, shown precisely
enough to explain its verdict, with their range and how many rounds disagree with it."""

from __future__ import annotations

import pytest

from tests.benchmarks.suite.table import Figure, at_least, at_most, paired, render


@pytest.mark.parametrize(
    ("value", "meets", "shown"),
    [
        (0.897, at_least(0.9), "| 0.897× | goal: not met |"),  # not "0.90×: not met"
        (0.9, at_least(0.9), "| 0.90× | goal: met |"),
        (0.93, at_least(0.9), "| 0.93× | goal: met |"),
        (1.302, at_most(1.3), "| 1.302× | goal: not met |"),
        (1.298, at_most(1.3), "| 1.30× | goal: met |"),
        (0.897, None, "| 0.90× | goal |"),  # no goal: nothing to explain
    ],
)
def test_a_ratio_is_shown_as_precisely_as_its_verdict_needs(
    value: float, meets: object, shown: str
) -> None:
    figure = Figure("f", "value", 1.0, "ms", "goal", meets)  # type: ignore[arg-type]
    row = render([figure], {"value": [value]}).splitlines()[-1]
    assert row.endswith(shown), row


def test_the_ratio_is_the_median_of_the_rounds_own() -> None:
    figure = Figure("f", "ours", "bare", "req/s", "goal", at_least(0.75))
    samples = {"ours": [70.0, 81.0, 62.0], "bare": [100.0, 100.0, 80.0]}
    row = render([figure], samples).splitlines()[-1]
    # medians 70 and 100 (their ratio 0.70); the rounds: 0.70, 0.81, 0.775
    assert row.startswith("| f | 70 req/s | 100 req/s (bare) |"), row
    assert row.endswith("| 0.78× (0.70–0.81) | goal: met (not met in 1 of 3 rounds) |"), row


def test_ratios_measured_back_to_back_are_the_rounds_ratios() -> None:
    figure = Figure("f", "ours", "bare", "req/s", "goal", at_least(0.9))
    # Three slices of each, paired; the plain samples alone would say 0.8 in every round.
    samples = {
        "ours": [80.0, 80.0, 80.0],
        "bare": [100.0, 100.0, 100.0],
        paired("ours", "bare"): [0.95, 1.0, 0.85],
    }
    row = render([figure], samples).splitlines()[-1]
    assert row.endswith("| 0.95× (0.85–1.00) | goal: met (not met in 1 of 3 rounds) |"), row


def test_a_verdict_every_round_agrees_with_says_so_plainly() -> None:
    figure = Figure("f", "ours", "bare", "ms", "goal", at_most(2))
    row = render([figure], {"ours": [1.0, 1.2], "bare": [1.0, 1.0]}).splitlines()[-1]
    assert row.endswith("| 1.10× (1.00–1.20) | goal: met |"), row


def test_rounds_that_lost_a_sample_show_no_range() -> None:
    figure = Figure("f", "ours", "bare", "req/s", "goal", at_least(0.75))
    row = render([figure], {"ours": [80.0, 90.0], "bare": [100.0]}).splitlines()[-1]
    assert row.endswith("| 0.85× | goal: met |"), row
