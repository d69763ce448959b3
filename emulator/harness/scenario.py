"""One staged example: an input, a progression, fault rules and a seed, replayable.

A scenario is plain data so that a shrunk failure prints readably and replays exactly:
``Scenario.from_json(scenario.to_json())`` stages the same emulator again.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterable
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["Scenario"]


@dataclass(frozen=True)
class Scenario:
    property: str
    input: Any
    progression: str = "immediate"
    faults: tuple[dict[str, Any], ...] = ()
    seed: int = 0
    #: the field an invalid input breaks (surfaces_validation_errors)
    broken_field: str | None = None
    #: the harness drops the answer to the first submit after the job was created
    lose_submit_answer: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Its property and input always (an input may be ``{}``), the rest where it is not
        the default."""
        data = {
            field.name: getattr(self, field.name)
            for field in fields(self)
            if field.default is MISSING or getattr(self, field.name) != field.default
        }
        if "faults" in data:
            data["faults"] = list(self.faults)
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"), default=repr)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        """The scenario ``text`` writes (a report's, or one edited by hand); a
        `ValueError` naming the field that is none of a scenario's or not of its kind."""
        data = json.loads(text)
        if not isinstance(data, dict) or "property" not in data or "input" not in data:
            raise ValueError("a scenario is a JSON object with at least property and input")
        known = [field.name for field in fields(cls)]
        unknown = [name for name in data if name not in known]
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}: a scenario has {', '.join(known)}")
        for name, (kind, fits) in _KINDS.items():
            if name in data and not fits(data[name]):
                raise ValueError(f"{name} must be {kind}, not {data[name]!r}")
        data["faults"] = tuple(data.get("faults", ()))
        return cls(**data)

    def describe(self) -> str:
        """The scenario in a few readable lines."""
        lines = [
            f"input:       {json.dumps(self.input, default=repr)[:400]}",
            f"progression: {self.progression}",
            f"seed:        {self.seed}",
        ]
        lines += [f"fault rule:  {json.dumps(rule, sort_keys=True)}" for rule in self.faults]
        if self.broken_field:
            lines.append(f"broken:      the field {self.broken_field!r}")
        if self.lose_submit_answer:
            lines.append("lost:        the answer to the first submit, after the job was created")
        return "\n".join(lines)

    def replay_command(
        self,
        target: str,
        provider: str,
        endpoint: str,
        contracts: Iterable[Path | str] = (),
        settings: Iterable[str] = (),
    ) -> str:
        """One shell line that runs exactly this scenario again (with ``contracts``, the
        user's own documents its endpoint may be one of, and the command line's
        ``settings`` it was judged under)."""
        words = ["provider-emulator", "conformance", target, "--provider", provider]
        words += ["--endpoint", endpoint, "--property", self.property]
        for path in contracts:
            words += ["--contracts", str(path)]
        return shlex.join([*words, *settings, "--replay", self.to_json()])


#: what each field of a scenario read from JSON must be, in a usage error's words, and the
#: check (its property and input are the caller's to judge: an unknown property is named
#: as such, and the Python API takes any input)
_KINDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "progression": ("text, e.g. polls:1,2", lambda value: isinstance(value, str)),
    "faults": (
        "a list of fault rules (JSON objects)",
        lambda value: isinstance(value, list) and all(isinstance(r, dict) for r in value),
    ),
    "seed": ("a whole number", lambda value: type(value) is int),  # (True is an int too)
    "broken_field": (
        "a field's name (text) or null",
        lambda value: value is None or isinstance(value, str),
    ),
    "lose_submit_answer": ("true or false", lambda value: isinstance(value, bool)),
}
