"""What kind of media an output field holds, and in which format, read by convention.

fal's published types say little: a media output is an object with a ``url`` (fal's
``File``, ``Image``, ``VideoFile``…), and what it holds is mostly in its field's name
(``video``, ``audio_file``, ``model_glb``, ``frames_zip``, ``diffusers_lora_file``).
The rules below are checked in order; a name they do not cover takes the endpoint's own
kind (``hint``: an audio endpoint's ``target`` is audio), else an arbitrary file. A
content type the file's schema fixes (its ``content_type``'s ``const`` or ``enum``) has
the last word: a kind none of whose formats it names gives way to one that does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulator.contracts.described import Resolve, allowed_types, kinds_of

#: name fragment → (kind, format or None for the kind's default), first match wins
_NAME_RULES: tuple[tuple[str, str, str | None], ...] = (
    ("zip", "archive", "zip"),
    ("dataset", "archive", "zip"),
    ("fbx", "mesh", "fbx"),
    ("mtl", "file", "mtl"),
    ("exr", "file", "exr"),
    ("lora", "file", "safetensors"),
    ("safetensors", "file", "safetensors"),
    ("weights", "file", "safetensors"),
    ("embedding", "file", "safetensors"),
    ("latent", "file", "bin"),
    ("config", "file", "json"),
    ("json", "file", "json"),
    ("lottie", "file", "json"),
    ("caption_file", "file", "srt"),
    ("subtitle", "file", "srt"),
    ("srt", "file", "srt"),
    ("vtt", "file", "vtt"),
    ("svg", "file", "svg"),
    ("obj", "mesh", "obj"),
    ("glb", "mesh", "glb"),
    ("_stl", "mesh", "stl"),  # not "stl" alone: "castle", "bristle"
    ("_ply", "mesh", "ply"),  # not "ply" alone: "reply", "apply"
    ("usdz", "mesh", "usdz"),
    ("splat", "mesh", "ply"),  # a Gaussian splat's file is mostly a PLY (sam-3's says so)
    ("mesh", "mesh", None),
    ("3d", "mesh", None),
    ("model", "mesh", None),
    ("world", "mesh", None),
    ("video", "video", None),
    ("mp4", "video", None),
    ("audio", "audio", None),
    ("speech", "audio", None),
    ("voice", "audio", None),
    ("music", "audio", None),
    ("sound", "audio", None),
    ("song", "audio", None),
    ("vocals", "audio", None),
    ("image", "image", None),
    ("mask", "image", None),
    ("thumbnail", "image", None),
    ("texture", "image", None),
    ("depth", "image", None),
    ("render", "image", None),
    ("visual", "image", None),
    ("overlay", "image", None),
    ("layer", "image", None),
    ("frame", "image", None),
    ("photo", "image", None),
    ("preview", "image", None),
)
#: a category word → the kind its unnamed outputs hold
CATEGORY_KINDS = (("3d", "mesh"), ("video", "video"), ("audio", "audio"), ("speech", "audio"))
_MEDIA_TYPES = {"image": "image", "video": "video", "audio": "audio", "model": "mesh"}
#: fields any one of which makes a file this kind (a picture needs both sides)
_STRUCTURE_RULES = (
    (("fps", "num_frames", "frame_count"), "video"),
    (("sample_rate",), "audio"),
    (("width",), "image"),
)


def _by_name(name: str) -> tuple[str, str | None] | None:
    lowered = name.lower()
    for fragment, kind, media_format in _NAME_RULES:
        if fragment in lowered:
            return kind, media_format
    return None


def media_kind(
    name: str, schema: Mapping[str, Any], resolve: Resolve, hint: str | None = None
) -> str | None:
    """The kind of media field ``name`` of (resolved) ``schema`` holds; None if none
    (``resolve`` follows the ``$ref`` of its content type)."""
    if schema.get("type") == "string":
        declared = schema.get("contentMediaType")
        if isinstance(declared, str):
            top = declared.split("/", 1)[0]
            return _MEDIA_TYPES.get(top, "archive" if declared.endswith("zip") else "file")
        if name.endswith("_url") and schema.get("format") != "data-url":
            named = _by_name(name[:-4])
            return named[0] if named else None
        return None
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        return None
    if "url" not in properties:
        # fal's realtime RawImage: an image carried as its bytes, with its size
        carried = {"content", "width", "height"} <= properties.keys()
        return "image" if carried else None
    named = _by_name(name) or _by_name(str(schema.get("title", "")))
    structured = (
        kind for fields, kind in _STRUCTURE_RULES if not properties.keys().isdisjoint(fields)
    )
    kind = named[0] if named else next(structured, hint or "file")
    # a content type the schema fixes (a const, an enum) says what the file is
    allowed = allowed_types(schema, resolve)
    fitting = kinds_of(allowed) if allowed else []
    return kind if not fitting or kind in fitting else fitting[0]


def media_kinds(
    name: str, schema: Mapping[str, Any], resolve: Resolve, hint: str | None = None
) -> dict[str, Mapping[str, Any]]:
    """The kinds of media field ``name`` of (resolved) ``schema`` holds, each with the
    schema of one file: its own, or its ``anyOf``/``oneOf`` branches that are one, the
    first of each kind (bria's ``anyOf: [Video, File]``: a video); empty if it holds none."""
    kind = media_kind(name, schema, resolve, hint)
    if kind:
        return {kind: schema}
    found: dict[str, Mapping[str, Any]] = {}
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, ()):
            resolved = resolve(branch)
            kind = media_kind(name, resolved, resolve, hint)
            if kind:
                found.setdefault(kind, resolved)
    return found


def field_format(name: str, kind: str) -> str | None:
    """The format the field's name implies (``model_obj``: OBJ), if any."""
    named = _by_name(name)
    return named[1] if named and named[0] == kind else None


def category_kind(category: str | None) -> str | None:
    """The kind an endpoint of ``category`` makes (``image-to-video``: video)."""
    made = (category or "").rsplit("-to-", 1)[-1]
    for word, kind in CATEGORY_KINDS:
        if word in made:
            return kind
    return "image" if "image" in made else None


#: id fragments → category, first match wins (fal's own category names; WaveSpeed's ids
#: put ``-t2v-``, ``-i2v``, ``-v2v-`` inside a model's name)
_ID_RULES = (
    (r"train|trainer|fine-?tun", "training"),
    (r"speech-to-text|whisper|wizper|transcri|/stt\b|speech-to-text", "speech-to-text"),
    (
        r"text-to-speech|\btts\b|-tts|tts-|/speech|voice-clone|voice-design|dubbing|kokoro",
        "text-to-speech",
    ),
    (r"text-to-3d", "text-to-3d"),
    (r"image-to-3d|to-3d|3d|mesh|rodin|tripo|trellis|rigging", "image-to-3d"),
    (r"text-to-video|/t2v|-t2v\b", "text-to-video"),
    (r"image-to-video|/i2v|-i2v\b|reference-to-video|start-end", "image-to-video"),
    (
        r"video-to-video|/v2v|-v2v\b|video-edit|lipsync|lip-sync|upscale/video|video-upscal",
        "video-to-video",
    ),
    (r"video-to-audio|text-to-audio|music|sfx|sound|song", "text-to-audio"),
    (r"audio-to-audio|separat|demucs|isolation|denois", "audio-to-audio"),
    (r"text-to-image|/t2i", "text-to-image"),
    (r"image-to-image|edit|upscal|inpaint|outpaint|remov|redux|i2i", "image-to-image"),
    (r"llm|router|chat|/completions|any-llm", "llm"),
    (r"vision|caption|vlm|understand|ocr|detect|segment|query|moondream|florence", "vision"),
)


#: ids of background removers: their pictures are cut-outs, their masks the subject's shape
#: (BEN is the "background erase network")
_CUTOUT_ID = re.compile(
    r"background-remov|remove-background|background/remove|remove-bg|rembg|birefnet|matting"
    r"|/ben/"
)


def matte(endpoint_id: str, field: str) -> str:
    """How an image output of field ``field`` shows its subject: ``"cutout"`` (transparent
    around it) or ``"mask"`` (white on black) for a background remover, else ``""``."""
    if not _CUTOUT_ID.search(endpoint_id.lower()):
        return ""
    return "mask" if "mask" in field.lower() else "cutout"


#: ids of models that put sound to a video (mmaudio, a foley, sound effects)
_SOUND_ID = re.compile(r"audio|sound|foley|sfx")


def makes_sound(endpoint_id: str) -> bool:
    """Whether the videos an endpoint makes carry the sound its id names."""
    return _SOUND_ID.search(endpoint_id.lower()) is not None


#: well-known models' names → the category they make, first match wins: for an id whose
#: words name none (WaveSpeed's ``google/veo3``, ``minimax/hailuo-02/standard``)
_MODEL_RULES = (
    # sound put to a video: the video, with the sound (`makes_sound`), as its contract makes
    (r"mmaudio", "video-to-video"),
    (r"\bveo\d|hailuo|seedance|kling(?!-image)|pixverse|\bwan(?:\b|\d)", "text-to-video"),
)


def category_from_id(endpoint_id: str) -> str | None:
    """fal's category as an endpoint's id names it (``…/image-to-video``), if it does."""
    return _first_category(_ID_RULES, endpoint_id)


def category_from_model(endpoint_id: str) -> str | None:
    """The category of a well-known model an id names (veo: ``text-to-video``), if it
    names one. Only for an id nothing else categorises (the generic contract's): a model's
    endpoints make other kinds too (``fal-ai/kling-video/create-voice``), which fal's
    catalogue reads from their types."""
    return _first_category(_MODEL_RULES, endpoint_id)


def _first_category(rules: tuple[tuple[str, str], ...], endpoint_id: str) -> str | None:
    lowered = endpoint_id.lower()
    for pattern, category in rules:
        if re.search(pattern, lowered):
            return category
    return None
