"""The steps of a plan (plans.py) that make one value for a job whatever the schema
around them: a constant, the seed, the model's text, the length made, the NSFW flags,
the time taken, an id or bytes the model made."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from emulator.contracts.plans import MediaPlan


class Job(Protocol):
    """What a plan asks of the job it makes an output for (synthesis.py's `Synthesis`)."""

    @property
    def inputs(self) -> Mapping[str, Any]: ...
    @property
    def seed(self) -> int: ...
    @property
    def flagged(self) -> bool: ...
    @property
    def prompt(self) -> str: ...

    def text(self) -> str: ...
    def audio_seconds(self) -> float: ...
    def image_count(self) -> int: ...
    def media(self, plan: MediaPlan, index: int) -> dict[str, Any] | str: ...


class Step(Protocol):
    def make(self, job: Job) -> Any: ...


class Const:
    """A value from the schema (a default, an example…): a fresh copy for every output."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.mutable = isinstance(value, dict | list)

    def make(self, job: Job) -> Any:
        return copy.deepcopy(self.value) if self.mutable else self.value


class Seed:
    """``seed``: the seed the job used."""

    def make(self, job: Job) -> Any:
        return job.seed


class Text:
    """What the model "wrote" (see texts.py)."""

    def make(self, job: Job) -> Any:
        return job.text()


class Duration:
    """The length of what was made, in seconds or (``duration_ms``) milliseconds."""

    def __init__(self, milliseconds: bool) -> None:
        self.milliseconds = milliseconds

    def make(self, job: Job) -> Any:
        seconds = job.audio_seconds()
        return round(seconds * 1000) if self.milliseconds else seconds


def within_items(count: int, schema: Mapping[str, Any]) -> int:
    """``count`` within an array schema's ``minItems`` and ``maxItems``."""
    fewest, most = schema.get("minItems"), schema.get("maxItems")
    if isinstance(most, int):
        count = min(count, most)
    return max(count, fewest) if isinstance(fewest, int) else count


class Flags:
    """``has_nsfw_concepts``: one flag per image (as many as its schema allows)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema

    def make(self, job: Job) -> Any:
        return [job.flagged] * within_items(job.image_count(), self.schema)


class Timings:
    """``timings`` left open by its schema: fal's ``{"inference": seconds}``, a plausible
    time of 0.5 to 2.5 s drawn from the seed (a guess: the real one is the model's)."""

    def make(self, job: Job) -> Any:
        return {"inference": 0.5 + job.seed % 2000 / 1000}


def _digest(name: str, job: Job) -> bytes:
    return hashlib.sha256(f"{name}\x1f{job.seed}".encode()).digest()


class Identifier:
    """An id the model made (a ``voice_id``, a ``style_id``): 32 hex digits from the
    field's name and the seed."""

    def __init__(self, name: str) -> None:
        self.name = name

    def make(self, job: Job) -> Any:
        return _digest(self.name, job).hex()[:32]


class Encoded:
    """Bytes the model made, carried as base64 (sam-3's ``embedding_b64``): 32 of them
    from the field's name and the seed."""

    def __init__(self, name: str) -> None:
        self.name = name

    def make(self, job: Job) -> Any:
        return base64.b64encode(_digest(self.name, job)).decode()
