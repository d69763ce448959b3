"""How a result describes a synthetic file (fal's ``File``, ``Image``, ``VideoFile``,
``Audio``… fields), and which format a schema declares for one."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from emulator.media.spec import FORMATS, KINDS, SOUND_TRACK_BITRATE, MediaSpec
from emulator.media.video_facts import video_facts

#: how a schema's ``$ref`` is followed (`Endpoint.resolve`, or the catalogue import's own)
Resolve = Callable[[Mapping[str, Any]], Mapping[str, Any]]
#: how deep ``allOf`` parts inside parts are read (a part may point back to its whole)
_DEEPEST_PART = 8


def content_type_schema(schema: Mapping[str, Any], resolve: Resolve) -> Mapping[str, Any]:
    """A file object's ``content_type`` schema, its ``$ref`` followed (empty: none)."""
    properties = schema.get("properties", {})
    content_type = properties.get("content_type") if isinstance(properties, Mapping) else None
    return resolve(content_type) if isinstance(content_type, Mapping) else {}


def allowed_types(schema: Mapping[str, Any], resolve: Resolve) -> tuple[str, ...] | None:
    """The content types a file object's schema allows its ``content_type``: its
    ``const``, or its ``enum``'s, narrowed by those of its ``allOf`` parts (None: any)."""
    return _allowed(content_type_schema(schema, resolve), resolve, 0)


def _allowed(schema: Mapping[str, Any], resolve: Resolve, depth: int) -> tuple[str, ...] | None:
    if "const" in schema:
        allowed: tuple[str, ...] | None = (schema["const"],)
    else:
        enum = schema.get("enum")
        allowed = tuple(enum) if isinstance(enum, list) else None
    parts = schema.get("allOf")
    if not isinstance(parts, list) or depth >= _DEEPEST_PART:
        return allowed
    for part in parts:
        narrowed = (
            _allowed(resolve(part), resolve, depth + 1) if isinstance(part, Mapping) else None
        )
        if narrowed is not None:
            allowed = narrowed if allowed is None else tuple(t for t in allowed if t in narrowed)
    return allowed


def declared_format(
    schema: Mapping[str, Any], field: Mapping[str, Any], kind: str, resolve: Resolve
) -> str | None:
    """The format a schema declares: its ``contentMediaType``, its content type's default,
    else the first its content type allows."""
    for node in (schema, field):
        declared = node.get("contentMediaType")
        content_type = content_type_schema(node, resolve).get("default")
        for wanted in (declared, content_type, *(allowed_types(node, resolve) or ())):
            for name in KINDS[kind]:
                if isinstance(wanted, str) and FORMATS[name][0] == wanted:
                    return name
    return None


def declared_types(schema: Mapping[str, Any], resolve: Resolve) -> tuple[str, ...] | None:
    """The content types a file's schema declares: a URL's ``contentMediaType``
    (WaveSpeed's ``outputs``), else its ``content_type``'s (fal's ``File``: `allowed_types`);
    None if it declares none."""
    declared = schema.get("contentMediaType")
    if isinstance(declared, str):
        return (declared,)
    return allowed_types(schema, resolve)


def unmade_types(schema: Mapping[str, Any], resolve: Resolve) -> tuple[str, ...]:
    """The content types a file's schema declares when the emulator makes a file of none
    of them (``application/x-acme``); empty when it makes one, or none is declared."""
    declared = declared_types(schema, resolve)
    return declared if declared and not kinds_of(declared) else ()


def kinds_of(content_types: tuple[str, ...]) -> list[str]:
    """The kinds of media with a format of one of ``content_types``, in `KINDS` order."""
    return [
        kind for kind, names in KINDS.items() if any(FORMATS[n][0] in content_types for n in names)
    ]


def described_file(spec: MediaSpec, url: str, size: int, index: int) -> dict[str, Any]:
    """What fal's file types say of a file, by field name."""
    file_name = (
        url.rsplit("/", 1)[-1] if not url.startswith("data:") else f"{index}.{spec.extension}"
    )
    seconds = spec.duration or None
    sized = spec.kind in ("image", "video")
    described = {
        "url": url,
        "content_type": spec.content_type,
        "file_name": file_name,
        "file_size": size,
        "width": spec.width if sized else None,
        "height": spec.height if sized else None,
        "duration": seconds,
        "fps": spec.fps or None,
        "num_frames": spec.frames if spec.kind == "video" else None,
        "frame_count": spec.frames if spec.kind == "video" else None,
        "sample_rate": spec.sample_rate or (44100 if spec.kind == "audio" else None),
        "channels": spec.channels if spec.kind == "audio" else None,
        "media_type": spec.kind if spec.kind in ("image", "video", "audio") else None,
        "container": spec.extension,
        "bitrate": round(size * 8 / seconds) if seconds else None,
    }
    if spec.kind == "video":
        described |= _video_described(spec, size)
    elif spec.kind == "audio":  # fal's Audio requires it: "" said no codec at all
        described["codec"] = spec.audio_codec
    return described


def _video_described(spec: MediaSpec, size: int) -> dict[str, Any]:
    """What fal's ``Video`` says of a video beyond a file's plain facts, as FFmpeg's probe
    reads the file: its resolution, format, time base and sound track."""
    facts = video_facts(spec)
    sound = facts.sound_codec and {
        "codec": facts.sound_codec,
        "sample_rate": facts.sound_rate,
        "channels": 1,
        "bitrate": SOUND_TRACK_BITRATE,
    }
    whole = round(size * 8 / spec.duration) if spec.duration else 0
    divisor = math.gcd(spec.width, spec.height) or 1
    return {
        "codec": spec.video_codec,
        "resolution": {
            "width": spec.width,
            "height": spec.height,
            "aspect_ratio": f"{spec.width // divisor}:{spec.height // divisor}",
        },
        "format": {
            "container": spec.extension,
            "video_codec": spec.video_codec,
            "pixel_format": facts.pixel_format,
            "profile": facts.profile,
            "level": facts.level,
            "bitrate": max(0, whole - (SOUND_TRACK_BITRATE if sound else 0)),
        },
        "timebase": facts.time_base,
        "audio": sound or None,
    }
