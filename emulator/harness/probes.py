"""The runs a check's properties ask for to decide whether they apply (`Property.applies`),
shared across the check.

Many of them ask the same: the simplest input with nothing staged (does the client fail
it anyway?), once at once and once with a job that takes polls. Each is a call of the
client, seconds of its polls and backoff for some, so a check runs each such scenario
once, and a property probing it again (under its own name) is given the first run. A
probe decides from its run alone, which another run may since have reset the emulation
under (a property's own examples are judged against the emulation as their run left it,
its media among it: each runs afresh).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from emulator.harness.scenario import Scenario
from emulator.harness.session import Observation

__all__ = ["Probes"]


class Probes:
    """A check's probe runs, by scenario, whichever property's name it bears."""

    def __init__(self, run: Callable[[Scenario], Observation]) -> None:
        self._run = run
        self._runs: dict[str, Observation] = {}

    def probe(self, scenario: Scenario) -> tuple[Observation, bool]:
        """``scenario``'s run, and whether it ran now (not given from an earlier probe)."""
        key = replace(scenario, property="").to_json()
        ran = key not in self._runs
        if ran:
            self._runs[key] = self._run(scenario)
        return replace(self._runs[key], scenario=scenario), ran
