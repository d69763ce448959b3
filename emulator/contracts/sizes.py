"""How big an output is, read from the input by convention (no model is named here).

Images: ``image_size`` (fal's presets, ``"WxH"``, or ``{width, height}``), else ``width``
and ``height``, else ``size`` (``"W*H"`` or a ``"W:H"`` ratio), else ``aspect_ratio``, its
sides scaled by a ``resolution`` tier beside it (``"2K"``).
Videos: the frame size from ``size`` (``"W*H"``) or ``video_size`` (fal's presets, or
``{width, height}``; ltx-2.3-quality's ``resolution`` alike), else ``width`` and
``height`` (one alone: the other in the input's aspect), else the short side from
``resolution`` (``480p``…) and the shape from ``aspect_ratio`` (``auto``: the input
picture's); the length from ``duration`` in seconds (or ``num_frames``, which overrides
it); a contract may give defaults for a model in ``x-emulator-media`` on the output field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

#: input fields that ask for an image size (see image_size)
SIZE_FIELDS = ("image_size", "width", "height", "size", "aspect_ratio")
#: input fields that size a video's frames: without any, an input video's size is kept
#: (``video_size: "auto"`` asks for none)
VIDEO_SIZE_FIELDS = ("video_size", "resolution", "aspect_ratio", "size", "width", "height")

#: fal's documented image size presets
IMAGE_SIZE_PRESETS = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
    "auto_2K": (2048, 2048),
    "auto_4K": (4096, 4096),
}
DEFAULT_SIZE = (1024, 1024)
#: an image's ``resolution`` tiers (nano-banana's and imagen's ``"1K"``…``"4K"``, bria's
#: ``"1MP"``) → how many times each side of the megapixel size ``aspect_ratio`` gives alone:
#: Gemini's and Imagen's documented sizes grow so (16:9: 1376x768, 2752x1536, 5504x3072)
RESOLUTION_TIERS = {"0.5K": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0, "1MP": 1.0, "4MP": 2.0}
# "auto": an input picture's shape (an image-to-video contract with no aspect field, as
# the providers keep it), else 16:9
DEFAULT_VIDEO = {"resolution": "720p", "aspect_ratio": "auto", "duration": 5, "fps": 24}


_RATIO = re.compile(r"([0-9]{1,5}):([0-9]{1,5})")
_PRODUCT = re.compile(r"\s*([0-9]{1,6})\s*\*\s*([0-9]{1,6})\s*")
_RESOLUTION = re.compile(r"([0-9]{2,5})[pP]?")
_RESOLUTION_K = {"2k": 1440, "4k": 2160}  # the short side of veo's "4k" and the like
#: a frame count written as text (hunyuan's ``num_frames`` enum, "129" or "85")
_FRAME_COUNT = re.compile(r"[0-9]{1,9}")
_FRAME_SIZE = re.compile(r"\s*([0-9]{1,5})\s*[x*×]\s*([0-9]{1,5})\s*")  # kandinsky's "768x512"
#: input fields that give a video's frame rate, first found first (an upscaler's
#: ``target_fps``: topaz's 60, bytedance's ``"60fps"``; cogvideox's and t2v-turbo's
#: ``export_fps``, an interpolator's ``output_fps``)
FPS_FIELDS = ("fps", "frames_per_second", "frame_rate", "target_fps", "export_fps", "output_fps")


def _ratio(text: Any) -> float | None:
    match = _RATIO.fullmatch(text) if isinstance(text, str) else None
    if match and int(match[1]) and int(match[2]):
        return int(match[1]) / int(match[2])
    return None


def even(value: float) -> int:
    """``value`` rounded to an even whole number, at least 2 (H.264 wants even sides)."""
    return max(2, round(value / 2) * 2)


def preset_size(size: Any) -> tuple[int, int] | None:
    """The size an ``image_size`` or ``video_size`` value names: one of fal's presets, a
    ``"WxH"`` string (gpt-image's ``"1536x1024"``), or ``{width, height}`` (a missing side
    is fal's ImageSize default, 512); else None."""
    if isinstance(size, Mapping):
        return int(size.get("width", 512)), int(size.get("height", 512))
    if not isinstance(size, str):
        return None
    spelled = _FRAME_SIZE.fullmatch(size)
    return (int(spelled[1]), int(spelled[2])) if spelled else IMAGE_SIZE_PRESETS.get(size)


def image_size(inputs: Mapping[str, Any], field_default: Any = None) -> tuple[int, int]:
    """``field_default`` is the input schema's default for ``image_size``: what ``auto``
    and other unknown presets fall back to, when it is an explicit size."""
    size = inputs.get("image_size")
    named = preset_size(size)
    if named:
        return named
    if isinstance(size, str):
        if isinstance(field_default, Mapping) and {"width", "height"} <= field_default.keys():
            return int(field_default["width"]), int(field_default["height"])
        return DEFAULT_SIZE
    width, height = inputs.get("width"), inputs.get("height")
    if isinstance(width, int) and isinstance(height, int):
        return width, height
    text = inputs.get("size")
    product = _PRODUCT.fullmatch(text) if isinstance(text, str) else None
    if product:
        return int(product[1]), int(product[2])
    for ratio in (_ratio(text), _ratio(inputs.get("aspect_ratio"))):
        if ratio:
            return megapixel_size(ratio)
    return DEFAULT_SIZE


def megapixel_size(ratio: float) -> tuple[int, int]:
    """About a megapixel (fal's default 1024²) of the shape ``ratio``, its sides multiples
    of 8."""
    area = DEFAULT_SIZE[0] * DEFAULT_SIZE[1]
    return round(math.sqrt(area * ratio) / 8) * 8, round(math.sqrt(area / ratio) / 8) * 8


def resolution_tier(inputs: Mapping[str, Any]) -> float | None:
    """How many times a megapixel size's sides an image's ``resolution`` tier asks
    (`RESOLUTION_TIERS`), with the ``aspect_ratio`` it sizes beside it; None if it asks
    none (smart-resize's tier, without an aspect, is a hint that sizes nothing)."""
    tier = inputs.get("resolution")
    if "aspect_ratio" not in inputs or not isinstance(tier, str):
        return None
    return RESOLUTION_TIERS.get(tier.upper())


def tier_size(aspect_ratio: Any, scale: float, picture: tuple[int, int] | None) -> tuple[int, int]:
    """The size of a ``resolution`` tier of ``scale`` at ``aspect_ratio`` (``auto``: the
    input ``picture``'s shape, else square)."""
    ratio = _ratio(aspect_ratio) or (picture[0] / picture[1] if picture else 1.0)
    width, height = megapixel_size(ratio)
    return round(width * scale), round(height * scale)


def within_pixels(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """``size``, or scaled down (its sides multiples of 8) to hold at most ``max_pixels``."""
    width, height = size
    if width * height <= max_pixels:
        return size
    scale = math.sqrt(max_pixels / (width * height))
    return max(8, int(width * scale) // 8 * 8), max(8, int(height * scale) // 8 * 8)


def video_shape(
    inputs: Mapping[str, Any], hints: Mapping[str, Any], picture: tuple[int, int] | None
) -> tuple[int, int, float, int]:
    """Width, height, seconds and frames per second of a video output."""
    # what the input asks, else the contract's hint, else the default
    settings = {
        name: inputs[name] if name in inputs else hints.get(name, default)
        for name, default in DEFAULT_VIDEO.items()
    }
    fps = min(max(1, round(_number(asked_fps(inputs, settings["fps"]), 24))), 120)
    size = inputs.get("size")
    product = _PRODUCT.fullmatch(size) if isinstance(size, str) else None
    product = product or _FRAME_SIZE.fullmatch(str(settings["resolution"]))
    if product:  # WaveSpeed's "832*480", kandinsky's "768x512": the exact frame size
        width, height = even(int(product[1])), even(int(product[2]))  # H.264: even sides
        return width, height, _number(settings["duration"], 5.0), fps
    seconds = _number(settings["duration"], 5.0)
    framed = frame_seconds(inputs.get("num_frames"), fps)
    if framed:
        seconds = _number(framed, seconds)  # fal: "if provided, will override duration"
    # ltx's and cogvideox's video_size, ltx-2.3-quality's resolution: fal's image presets
    # or {width, height}
    named = preset_size(inputs.get("video_size")) or preset_size(settings["resolution"])
    if named:
        return even(named[0]), even(named[1]), seconds, fps
    sided = sides_size(inputs, picture)  # scale-video's, controlnext's width and height
    if sided:
        return even(sided[0]), even(sided[1]), seconds, fps
    short = short_side(str(settings["resolution"]))
    ratio = _ratio(settings["aspect_ratio"])
    if ratio is None:  # "auto": the input picture's shape, else the default 16:9
        ratio = picture[0] / picture[1] if picture else 16 / 9
    width, height = (even(short * ratio), short) if ratio >= 1 else (short, even(short / ratio))
    return width, height, seconds, fps


def sides_size(inputs: Mapping[str, Any], shape: tuple[int, int] | None) -> tuple[int, int] | None:
    """The frame size a video's ``width`` and ``height`` ask (scale-video's, controlnext's):
    one side alone keeps ``shape``'s aspect (16:9 without one), as scale-video's
    description says; None if neither is asked."""
    across, down = _side(inputs.get("width")), _side(inputs.get("height"))
    if across and down:
        return across, down
    ratio = shape[0] / shape[1] if shape and shape[0] > 0 and shape[1] > 0 else 16 / 9
    if across:
        return across, round(across / ratio)
    if down:
        return round(down * ratio), down
    return None


def _side(value: Any) -> int | None:
    """A side in whole pixels (a catalogue's numbers may come as floats); None if not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return round(value) if 1 <= value <= 100_000 else None


def asks_frame_size(inputs: Mapping[str, Any]) -> bool:
    """Whether the input asks for a video's frame size (`VIDEO_SIZE_FIELDS`): a
    ``video_size`` or ``resolution`` of ``"auto"`` asks for none (depth-anything-video's
    "'auto' preserves input", ltx-2.3-quality's "follows the source video size")."""
    asked = (name for name in VIDEO_SIZE_FIELDS if name in inputs)
    return any(name not in _AUTO_SIZED or inputs[name] != "auto" for name in asked)


#: the size fields whose "auto" keeps an input video's size (an ``aspect_ratio`` of
#: "auto" beside them still asks for a shape of the emulator's choosing)
_AUTO_SIZED = ("video_size", "resolution")


def asked_fps(inputs: Mapping[str, Any], otherwise: Any = None) -> Any:
    """The frame rate the input asks, under any of its names (`FPS_FIELDS`)."""
    return next((inputs[name] for name in FPS_FIELDS if name in inputs), otherwise)


def short_side(resolution: str) -> int:
    """A video's short side from its ``resolution``: ``"1080p"``, ``"480"``, ``"4k"``;
    720 for anything else. Even, as H.264 wants."""
    found = _RESOLUTION.fullmatch(resolution)
    if found:
        return even(int(found[1]))
    return _RESOLUTION_K.get(resolution.lower(), 720)


def frame_seconds(frames: Any, fps: int) -> float:
    """How long ``frames`` (a ``num_frames`` input: a whole number, or hunyuan's text enum
    ``"129"``) last at ``fps``; 0 for no count. A count past a float's whole numbers lasts
    as long as 2**53 frames do (ages): an integer of hundreds of digits overflows a
    division."""
    if isinstance(frames, str) and _FRAME_COUNT.fullmatch(frames):
        frames = int(frames)
    if type(frames) is not int or frames <= 0:
        return 0.0
    return min(frames, 2**53) / fps


def number(value: Any) -> float | None:
    """``value`` as a number: ``5``, ``"5"``, fal's ``"5s"`` (veo, luma, kandinsky…) or
    ``"60fps"`` (bytedance's upscaler); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(str(value).removesuffix("fps").removesuffix("s"))
    except ValueError:
        return None


def _number(value: Any, default: float) -> float:
    found = number(value)
    return found if found is not None and 0 < found < 3600 else default
