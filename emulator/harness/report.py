"""The structured report of a conformance run: property → outcome, minimal scenario, replay."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from emulator.harness.scenario import Scenario

__all__ = ["HELD", "FAILED", "NOT_APPLICABLE", "PropertyOutcome", "Report"]

HELD, FAILED, NOT_APPLICABLE = "held", "failed", "not_applicable"
_LABELS = {HELD: "held", FAILED: "FAILED", NOT_APPLICABLE: "not applicable"}


@dataclass
class PropertyOutcome:
    name: str
    status: str  # held, failed or not_applicable
    behaviour: str = ""
    reason: str | None = None  # why not applicable
    examples: int = 0  # scenarios run (probes, generation and shrinking)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    scenario: Scenario | None = None  # the minimal failing scenario
    replay: str | None = None  # one shell line that replays it
    notes: list[str] = field(default_factory=list)  # what was seen beside the verdict

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "scenario"}
        data["scenario"] = self.scenario.as_dict() if self.scenario else None
        data["replay_seed"] = self.scenario.seed if self.scenario else None
        return data

    def line(self) -> str:
        text = f"{self.name:28} {_LABELS[self.status]}"
        if self.reason:
            text += f" ({self.reason})"
        runs = f"{self.examples} run" + ("" if self.examples == 1 else "s")
        return text + f"   [{runs}, {self.seconds:.1f} s]"

    def summary(self) -> list[str]:
        """Its line in the report's summary, and its notes under it."""
        return ["  " + self.line(), *(f"      note: {note}" for note in self.notes)]


def heading(target: str, provider: str, endpoint: str) -> str:
    """The report's first line: who was checked against what."""
    return f"{target} against {provider} {endpoint}:"


@dataclass
class Report:
    provider: str
    endpoint: str
    target: str
    outcomes: list[PropertyOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(outcome.status != FAILED for outcome in self.outcomes)

    @property
    def failed(self) -> list[PropertyOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == FAILED]

    def outcome(self, name: str) -> PropertyOutcome:
        return next(outcome for outcome in self.outcomes if outcome.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "endpoint": self.endpoint,
            "target": self.target,
            "ok": self.ok,
            "properties": {o.name: o.as_dict() for o in self.outcomes},
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, default=repr)

    def text(self) -> str:
        lines = [self.heading(), *(line for o in self.outcomes for line in o.summary())]
        return "\n".join([*lines, *self.details()])

    def heading(self) -> str:
        return heading(self.target, self.provider, self.endpoint)

    def details(self) -> list[str]:
        """What each failed property found, its scenario and its replay line."""
        lines: list[str] = []
        for outcome in self.failed:
            lines += ["", f"{outcome.name} FAILED:"]
            lines += [f"  - {problem}" for problem in outcome.problems]
            if outcome.scenario is not None:
                lines += ["  minimal scenario:"]
                lines += ["    " + line for line in outcome.scenario.describe().splitlines()]
            if outcome.replay:
                lines += ["  replay:", "    " + outcome.replay]
        return lines
