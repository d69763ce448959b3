"""What the emulator will make: bounds on output counts, pixels, durations and frame rates.

A contract's own bounds come first (its schema says ``maximum``); these are the emulator's
on top, for what a contract leaves open, so that no input can ask for an unbounded render.
They are checked with the input, before anything is rendered, and reported as validation
errors of the field that asks too much; and again of what synthesis settles on (an input
picture's size, an input clip's length), before it renders. A video file's size, known
only once its codec is settled, is checked only then: such a job fails as a model's 422.

Only fields the contract declares shape an output: an undeclared ``num_images`` or
``fps`` that a permissive schema lets through changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.contracts.documents import Endpoint
from emulator.contracts.memo import EndpointMemo
from emulator.contracts.sizes import (
    FPS_FIELDS,
    SIZE_FIELDS,
    asked_fps,
    frame_seconds,
    image_size,
    number,
    video_shape,
)
from emulator.contracts.validation import Violation, apply_defaults
from emulator.media.spec import MediaSpec

if TYPE_CHECKING:
    from emulator.contracts.plans import Plan

#: input fields that say how many media an output holds, first found first (a
#: ``batch_size`` is no count: live-portrait's and a trainer's say how work is batched)
COUNT_FIELDS = ("num_images", "num_samples", "num_results", "number_of_images")
#: input fields that shape a video
VIDEO_FIELDS = ("duration", "num_frames", *FPS_FIELDS, "resolution", "aspect_ratio", "video_size")
#: every input field the limits read
SHAPING_FIELDS = frozenset((*COUNT_FIELDS, *SIZE_FIELDS, *VIDEO_FIELDS))
#: the longest audio output the emulator renders, in seconds
MAX_AUDIO_SECONDS = 300
#: the largest video file it renders (held in memory while made): a ProRes 4444 cut-out
#: weighs 0.6 bytes a pixel of every frame, 1.8 GB at the pixel limit; every other codec
#: stays under 300 MB there
MAX_VIDEO_BYTES = 512 * 2**20


def output_count(value: Any) -> int | None:
    """A count field's value as a number of outputs, None if it is no count of at least
    one. A contract may type the field ``number`` (fal's published types do, for some
    models), so ``4.0`` asks for 4, as a whole number does; GUESS: a fraction asks for its
    whole part (``4.5``: 4), as a model's ``int(num_images)`` would."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    count = int(value)
    return count if count > 0 else None


@dataclass(frozen=True)
class Limits:
    """The bounds on what one job may ask the emulator to make, whatever its contract allows."""

    max_outputs: int = 16
    max_image_pixels: int = 4096 * 4096
    max_video_seconds: float = 60.0
    max_video_fps: int = 60
    #: width x height x frames of one video (1080p, 60 s, 24 fps)
    max_video_pixels: int = 1920 * 1080 * 24 * 60


def declared(endpoint: Endpoint, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs the contract declares: the only ones that shape an output."""
    names = _endpoint_limits(endpoint).plan.input_names
    return {name: value for name, value in inputs.items() if name in names}


def _limit(field: str, message: str, **context: Any) -> Violation:
    return Violation((field,), f"provider-emulator: {message}", "emulator_limit", context)


def check_limits(
    endpoint: Endpoint, inputs: Any, limits: Limits, *, payload: Any = None
) -> list[Violation]:
    """What in ``inputs`` (valid by the contract) asks for more than the emulator makes.

    ``payload`` is the input before its defaults were filled in. When it sets none of the
    fields the limits read, ``inputs`` holds only their defaults there, so the verdict is
    the endpoint's own, worked out once per endpoint and limits (most submits set none)."""
    if not isinstance(inputs, Mapping):
        return []
    if isinstance(payload, Mapping):
        defaults = _endpoint_limits(endpoint)
        if defaults.shaping.isdisjoint(payload):
            return defaults.verdict(limits)
    return _check(endpoint, inputs, limits)


def limit_violations(endpoint: Endpoint, payload: Any, limits: Limits) -> list[Violation]:
    """`check_limits` of ``payload`` (valid by the contract), its defaults filled in only
    when it sets a field the limits read: a submit that sets none (most) makes no copy."""
    # a dict first: the ABC's isinstance is Python code, 1,300 instructions (issue 17)
    if type(payload) is dict or isinstance(payload, Mapping):
        defaults = _endpoint_limits(endpoint)
        if defaults.shaping.isdisjoint(payload):
            return defaults.verdict(limits)
    inputs = apply_defaults(endpoint, endpoint.input_schema, payload)
    return check_limits(endpoint, inputs, limits, payload=payload)


class _EndpointLimits:
    """What the limits read of an endpoint: its plan, the fields of its input they read,
    and its verdict on the inputs that set none of them."""

    def __init__(self, endpoint: Endpoint) -> None:
        # Loaded with the first endpoint checked, not with this module: the plans and the
        # output machinery they load are no part of `serve`'s start-up (issue 17: about 4 ms).
        from emulator.contracts.plans import plan_of

        self.endpoint = endpoint
        self.plan: Plan = plan_of(endpoint)
        self.shaping = SHAPING_FIELDS.intersection(self.plan.input_names)
        self._verdicts: dict[Limits, tuple[Violation, ...]] = {}
        # the limits asked last and their verdict: an engine asks with the same limits
        # submit after submit, which then costs no hash of them (a dataclass's, in Python)
        self._last: tuple[Limits | None, tuple[Violation, ...]] = (None, ())

    def verdict(self, limits: Limits) -> list[Violation]:
        last_limits, last = self._last
        if limits is last_limits:
            return list(last)
        verdict = self._verdicts.get(limits)
        if verdict is None:
            # an input that sets no field the limits read holds their defaults there, as
            # the empty input does
            endpoint = self.endpoint
            defaults = apply_defaults(endpoint, endpoint.input_schema, {})
            verdict = self._verdicts[limits] = tuple(_check(endpoint, defaults, limits))
        self._last = limits, verdict
        return list(verdict)


#: what the limits read of an endpoint, worked out on its first check
_endpoint_limits = EndpointMemo(_EndpointLimits).get


def shaping_fields(endpoint: Endpoint) -> frozenset[str]:
    """The fields of ``endpoint``'s input the limits read: an input that sets none of them
    gets the verdict its defaults get."""
    return _endpoint_limits(endpoint).shaping


def shown(number: int) -> str:
    """A number as a message shows it: in full, or past a dozen digits as ``1e+300``
    (a 300-digit number says no more, and an answer need not carry it)."""
    return str(number) if abs(number) < 10**12 else f"{number:.3g}"


def _check(endpoint: Endpoint, inputs: Mapping[str, Any], limits: Limits) -> list[Violation]:
    shaping = declared(endpoint, inputs)
    problems = []
    for name in COUNT_FIELDS:
        count = output_count(shaping.get(name))
        if count is not None and count > limits.max_outputs:
            message = f"at most {limits.max_outputs} outputs per request, not {shown(count)}"
            problems.append(_limit(name, message, max_outputs=limits.max_outputs))
    plan = _endpoint_limits(endpoint).plan
    width, height = image_size(shaping, plan.image_size_field.get("default"))
    where = next((n for n in ("image_size", "width", "size") if n in shaping), "image_size")
    too_big = image_beyond(width, height, limits, where)
    if too_big is not None:
        problems.append(too_big)
    makes = plan.makes
    if makes not in ("audio", "mesh") and any(name in shaping for name in VIDEO_FIELDS):
        problems += _video_limits(shaping, limits)  # a song's duration is not a video's
    return problems


def _video_limits(inputs: Mapping[str, Any], limits: Limits) -> list[Violation]:
    width, height, seconds, fps = video_shape(inputs, {}, None)
    # As asked, not as video_shape settles it (it falls back to defaults on odd values).
    framed = frame_seconds(inputs.get("num_frames"), fps)
    seconds = max(seconds, number(inputs.get("duration")) or 0, framed)
    fps = max(fps, round(number(asked_fps(inputs)) or 0))
    length = "num_frames" if framed and framed >= seconds else "duration"  # what asked for it
    if seconds > limits.max_video_seconds:
        message = f"videos of up to {limits.max_video_seconds:g} s, not {seconds:g} s"
        return [_limit(length, message, max_seconds=limits.max_video_seconds)]
    if fps > limits.max_video_fps:
        message = f"videos of up to {limits.max_video_fps} fps, not {shown(fps)}"
        # named as asked: wan's frames_per_second, ltx's frame_rate
        where = next((name for name in FPS_FIELDS if name in inputs), "fps")
        return [_limit(where, message, max_fps=limits.max_video_fps)]
    too_big = video_beyond(width, height, seconds, fps, limits, length)
    return [] if too_big is None else [too_big]


# The bounds on what is rendered, each asked both of the input (above, at submission where
# the provider validates then) and of what synthesis settles on (the size of an input
# picture, the length of an input clip, a file's codec), in the same words.


def image_beyond(
    width: int, height: int, limits: Limits, where: str = "image_size"
) -> Violation | None:
    """Why an image (or a video's frame) of this size is not made, if it is not."""
    max_pixels = limits.max_image_pixels
    if width < 1 or height < 1 or width * height > max_pixels:
        message = f"images of 1 to {max_pixels} pixels, not {shown(width)}x{shown(height)}"
        return _limit(where, message, max_pixels=max_pixels)
    return None


def video_beyond(
    width: int, height: int, seconds: float, fps: int, limits: Limits, length: str = "duration"
) -> Violation | None:
    """Why a video of this shape is not made, if it is not."""
    if width * height * seconds * fps > limits.max_video_pixels:
        message = (
            f"videos of up to {limits.max_video_pixels} pixels (1080p, 60 s, 24 fps); "
            f"{shown(width)}x{shown(height)}, {seconds:g} s, {shown(fps)} fps is more"
        )
        return _limit(length, message, max_pixels=limits.max_video_pixels)
    return None


def file_beyond(spec: MediaSpec) -> Violation | None:
    """Why a video file of ``spec`` is not made, if it is not: its size (known only once
    synthesis has settled its codec, so asked of the result, not at submission)."""
    size = spec.byte_size or 0
    if size > MAX_VIDEO_BYTES:
        message = (
            f"video files of up to {MAX_VIDEO_BYTES // 2**20} MB; {spec.width}x{spec.height}, "
            f"{spec.duration:g} s at {spec.fps} fps in {spec.video_codec} would be "
            f"{size // 2**20} MB"
        )
        return _limit("duration", message, max_bytes=MAX_VIDEO_BYTES)
    return None


def audio_beyond(seconds: float, where: str = "duration") -> Violation | None:
    """Why audio this long is not made, if it is not; ``where`` is the field that asked
    for the length (stable-audio's ``seconds_total``)."""
    if seconds > MAX_AUDIO_SECONDS:
        message = f"audio of up to {MAX_AUDIO_SECONDS} s"
        return _limit(where, message, max_seconds=MAX_AUDIO_SECONDS)
    return None
