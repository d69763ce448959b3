"""Figures: a measured value beside its reference, their ratio and the goal it is held to."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Figure", "paired", "render"]


@dataclass(frozen=True)
class Figure:
    """One row: ``value`` and ``reference`` name samples (medians are shown).

    ``reference`` may instead be a fixed number (an absolute goal such as 5 ms).
    ``meets`` judges the ratio value/reference; None for a row shown beside its reference
    with no goal of its own.
    """

    label: str
    value: str
    reference: str | float
    unit: str
    goal: str
    meets: Callable[[float], bool] | None

    def ratio(self, samples: dict[str, list[float]]) -> tuple[float, float, float] | None:
        """The medians of value and reference, and the median of the rounds' own ratios
        (the medians' ratio where there are no rounds' ratios)."""
        value = _median(samples, self.value)
        reference = (
            self.reference
            if isinstance(self.reference, (int, float))
            else _median(samples, self.reference)
        )
        if value is None or reference is None or reference == 0:
            return None
        rounds = self.round_ratios(samples)
        return value, reference, statistics.median(rounds) if rounds else value / reference

    def round_ratios(self, samples: dict[str, list[float]]) -> list[float]:
        """The ratio in each round: recorded by a case that measured the two back to back
        (``paired``), else value and reference of the same round (empty for a fixed
        reference, or when a round lost one of the two)."""
        if isinstance(self.reference, (int, float)):
            return []
        if paired(self.value, self.reference) in samples:
            return samples[paired(self.value, self.reference)]
        values, references = samples.get(self.value, []), samples.get(self.reference, [])
        if len(values) != len(references) or 0 in references:
            return []
        return [value / reference for value, reference in zip(values, references, strict=True)]


def paired(value: str, reference: str) -> str:
    """The samples' key of the ratios of ``value`` to ``reference`` measured back to back."""
    return f"{value} / {reference}"


def at_least(x: float) -> Callable[[float], bool]:
    return lambda ratio: ratio >= x


def at_most(x: float) -> Callable[[float], bool]:
    return lambda ratio: ratio <= x


def _median(samples: dict[str, list[float]], key: str) -> float | None:
    values = samples.get(key)
    return statistics.median(values) if values else None


def _number(value: float, unit: str) -> str:
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    if unit == "ms":
        if value < 1:
            return f"{value * 1000:.1f} µs"
        return f"{value:.2f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "instructions":
        return f"{value:,.0f}"
    return f"{value:g} {unit}".strip()


def _ratio(ratio: float, meets: Callable[[float], bool] | None) -> str:
    """``ratio`` to two decimals, or three where two would seem to contradict its verdict
    (0.897 shown as 0.90 beside a goal of 0.9, "not met")."""
    shown = f"{ratio:.2f}"
    if meets is not None and meets(float(shown)) != meets(ratio):
        shown = f"{ratio:.3f}"
    return shown + "×"


def _spread(rounds: list[float]) -> str:
    """The range of the rounds' own ratios, where there are two rounds or more."""
    return f" ({min(rounds):.2f}–{max(rounds):.2f})" if len(rounds) > 1 else ""


def _verdict(figure: Figure, ratio: float, rounds: list[float]) -> str:
    """Met or not by the ratio; on a noisy machine, also how many rounds agree."""
    if figure.meets is None:
        return ""
    met = figure.meets(ratio)
    agreeing = sum(figure.meets(each) == met for each in rounds)
    verdict = ": met" if met else ": not met"
    if agreeing == len(rounds):
        return verdict
    dissent = "not met" if met else "met"
    return f"{verdict} ({dissent} in {len(rounds) - agreeing} of {len(rounds)} rounds)"


def render(figures: list[Figure], samples: dict[str, list[float]]) -> str:
    """The table, as Markdown (readable as plain text too). Value and reference are
    medians; a ratio is the median of the rounds' own ratios, and in brackets their range."""
    lines = [
        "| figure | value | reference | ratio | goal |",
        "| --- | --- | --- | --- | --- |",
    ]
    for figure in figures:
        measured = figure.ratio(samples)
        if measured is None:
            lines.append(f"| {figure.label} | not measured | | | {figure.goal} |")
            continue
        value, reference, ratio = measured
        rounds = figure.round_ratios(samples)
        ref = figure.reference if isinstance(figure.reference, str) else "goal"
        lines.append(
            f"| {figure.label} | {_number(value, figure.unit)} | "
            f"{_number(reference, figure.unit)} ({ref}) | "
            f"{_ratio(ratio, figure.meets)}{_spread(rounds)} | "
            f"{figure.goal}{_verdict(figure, ratio, rounds)} |"
        )
    return "\n".join(lines)
