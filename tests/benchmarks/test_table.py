"""The benchmark's table: a ratio is shown precisely enough to explain its verdict."""

from __future__ import annotations

import pytest

from tests.benchmarks.suite.table import Figure, at_least, at_most, render


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
