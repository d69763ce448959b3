"""What a video output takes from its input's video or audio (its clip: input_media.py):
its size, length and frame rate where none is asked or a ``match_*`` flag asks for them,
and whether it carries a sound track."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emulator.contracts.input_fields import (
    DESCRIBED_FIELDS,
    KEEP_SOUND_FIELDS,
    MATCH_FPS,
    MATCH_LENGTH,
    SOUND_FIELDS,
    gives_audio,
    speaking_seconds,
    spoken_text,
)
from emulator.contracts.kinds import makes_sound
from emulator.contracts.sizes import (
    FPS_FIELDS,
    VIDEO_SIZE_FIELDS,
    asks_frame_size,
    even,
    frame_seconds,
    sides_size,
)
from emulator.media.sources import Clip

#: a video's width, height, length in seconds and frame rate
Shape = tuple[int, int, float, int]


def _matches(inputs: Mapping[str, Any], flags: tuple[str, ...]) -> bool:
    return any(inputs.get(name) is True for name in flags)


def as_input_video(
    endpoint_id: str,
    inputs: Mapping[str, Any],
    shape: Shape,
    clip: Clip | None,
    upscale: Callable[[tuple[int, int]], float],
) -> Shape:
    """A video's ``shape`` (as asked), with its input ``clip``'s size, length and frame
    rate where none is asked or a ``match_*`` flag asks for them (a lipsync; an upscaler's
    size times its factor, by ``upscale``), or its input audio's length."""
    width, height, seconds, fps = shape
    length_asked = "duration" in inputs or "num_frames" in inputs
    if clip is None:  # a talking video of no asked length lasts as its text takes to say
        spoken = spoken_text(endpoint_id, inputs)
        if spoken and not length_asked:
            seconds = speaking_seconds(spoken)
        return width, height, seconds, fps
    # no frame rate asked (topaz's target_fps unset: no interpolation): the clip's
    fps_asked = any(inputs.get(name) is not None for name in FPS_FIELDS)
    if clip.fps and (_matches(inputs, MATCH_FPS) or not fps_asked):
        fps = clip.fps
        framed = frame_seconds(inputs.get("num_frames"), fps)
        seconds = framed or seconds
    if _matches(inputs, MATCH_LENGTH) or not length_asked:
        seconds = clip.seconds
    if clip.width and not asks_frame_size(inputs):
        factor = upscale((clip.width, clip.height))
        width, height = even(clip.width * factor), even(clip.height * factor)
    elif clip.width and _one_side_only(inputs):  # the other side in the clip's aspect
        sided = sides_size(inputs, (clip.width, clip.height))
        width, height = (even(sided[0]), even(sided[1])) if sided else (width, height)
    return width, height, seconds, fps


def _one_side_only(inputs: Mapping[str, Any]) -> bool:
    """Whether an input sizes a video by its ``width`` or ``height`` alone."""
    asked = {name for name in VIDEO_SIZE_FIELDS if name in inputs}
    return asked in ({"width"}, {"height"})


def carries_sound(
    endpoint_id: str, inputs: Mapping[str, Any], clip: Callable[[], Clip | None]
) -> bool:
    """Whether a video output carries sound: asked for, made from input audio, kept from
    its input video (``clip``, read only then), what its endpoint adds (mmaudio's, a
    foley's, a sound-effects video's), or the text a talking avatar says."""
    if _matches(inputs, SOUND_FIELDS) or gives_audio(inputs) or _keeps_sound(inputs, clip):
        return True
    return makes_sound(endpoint_id) or bool(spoken_text(endpoint_id, inputs))


def _keeps_sound(inputs: Mapping[str, Any], clip: Callable[[], Clip | None]) -> bool:
    """Whether the output keeps the input video's sound track (a flag asks it to, or the
    output describes the input) and it has one: an input the emulator cannot read (fal's
    example URL; any, with synthetic fallback) is taken as having one."""
    described = any(isinstance(inputs.get(name), str) for name in DESCRIBED_FIELDS)
    if not described and not _matches(inputs, KEEP_SOUND_FIELDS):
        return False
    read = clip()
    return read is None or read.sound
