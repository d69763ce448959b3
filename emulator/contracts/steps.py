"""The steps of a plan (outputs.py) that make one value for a job whatever the schema
around them: a constant, the seed, the model's text, the length made, the NSFW flags, the
images counted, a frame size, the time taken, an id or bytes the model made, the kind of
media chosen among a field's; and how many items an array of them holds."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from emulator.contracts.output_checks import OutputUnmade

if TYPE_CHECKING:
    from emulator.contracts.limits import Limits
    from emulator.contracts.outputs import MediaPlan


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
    @property
    def limits(self) -> Limits: ...
    @property  # the objects being made, outermost first, each by its properties
    def making(self) -> list[Mapping[str, Any]]: ...

    def text(self) -> str: ...
    def audio_seconds(self) -> float: ...
    def image_count(self) -> int: ...
    def clip_kind(self) -> str | None: ...
    def media(self, plan: MediaPlan, index: int) -> dict[str, Any] | str: ...
    def input_size(self) -> tuple[int, int] | None: ...
    def frame_size(self, plan: MediaPlan) -> tuple[int, int] | None: ...


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


def _made_at_most(schema: Mapping[str, Any], limits: Limits) -> None:
    """Raises `OutputUnmade` if an array schema's ``minItems`` asks for more items than
    ``limits.max_outputs`` (which bounds every render and every list, whatever a contract
    says)."""
    fewest = schema.get("minItems")
    if isinstance(fewest, int) and fewest > limits.max_outputs:
        # not the number itself: it may be too long to show
        reason = f"its minItems is more than the {limits.max_outputs} items provider-emulator makes"
        raise OutputUnmade(reason)


def items_made(count: int, schema: Mapping[str, Any], limits: Limits) -> int:
    """``count`` within an array schema's bounds and at most ``limits.max_outputs``."""
    _made_at_most(schema, limits)
    return min(within_items(count, schema), limits.max_outputs)


class ImageArrays:
    """The arrays of an output object holding one item per image (its images, their NSFW
    flags): each as long as the others, the count asked within all their ``minItems`` and
    ``maxItems``."""

    def __init__(self) -> None:
        self.bounds: dict[str, int] = {}
        self.held = False  # whether the object holds any

    def add(self, schema: Mapping[str, Any]) -> None:
        """One more array of them (its schema resolved)."""
        self.held = True
        fewest, most = schema.get("minItems"), schema.get("maxItems")
        if isinstance(fewest, int):
            self.bounds["minItems"] = max(fewest, self.bounds.get("minItems", fewest))
        if isinstance(most, int):
            self.bounds["maxItems"] = min(most, self.bounds.get("maxItems", most))

    def count(self, job: Job, schema: Mapping[str, Any]) -> int:
        """How many items each holds; `OutputUnmade` if ``schema``, one of them, asks for
        more than the emulator makes."""
        _made_at_most(schema, job.limits)
        return min(within_items(job.image_count(), self.bounds), job.limits.max_outputs)


class MediaChoice:
    """A field that is one of several kinds of media (ffmpeg-api's metadata: ``anyOf:
    [Video, Audio]``): of the kind of the input's clip (an audio's, for an input audio),
    else of its first."""

    def __init__(self, plans: Mapping[str, MediaPlan]) -> None:
        self.plans, self.first = plans, next(iter(plans.values()))

    def make(self, job: Job) -> Any:
        return self.plans.get(job.clip_kind() or "", self.first).make(job)


class ImageCount:
    """How many images an output object holds (extract-nth-frame's ``frame_count``): as
    many as each of its arrays of them; in an object without one, ``otherwise``'s value."""

    def __init__(self, images: ImageArrays, otherwise: Step) -> None:
        self.images, self.otherwise = images, otherwise

    def make(self, job: Job) -> Any:
        if self.images.held:  # known once the whole object is compiled, as it is by now
            return self.images.count(job, {})
        return self.otherwise.make(job)


class Side:
    """A side of a frame size, in pixels (``axis`` 0: the width): of the input picture or
    video (``media`` None), else of the file ``media`` makes; ``otherwise``'s value where
    there is none. `ObjectPlan` gives it its object's file."""

    def __init__(self, axis: int, of_input: bool, otherwise: Step) -> None:
        self.axis, self.of_input, self.otherwise = axis, of_input, otherwise
        self.media: MediaPlan | None = None

    def make(self, job: Job) -> Any:
        if self.of_input:
            size = job.input_size()
        else:
            size = job.frame_size(self.media) if self.media is not None else None
        return size[self.axis] if size else self.otherwise.make(job)


class Flags:
    """``has_nsfw_concepts``: one flag per image, as many as the images."""

    def __init__(self, schema: Mapping[str, Any], images: ImageArrays) -> None:
        self.schema, self.images = schema, images
        images.add(schema)

    def make(self, job: Job) -> Any:
        return [job.flagged] * self.images.count(job, self.schema)


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
