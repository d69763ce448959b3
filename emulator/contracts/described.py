"""How a result describes a synthetic file (fal's ``File``, ``Image``, ``VideoFile``,
``Audio``… fields), and which format a schema declares for one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.media.spec import FORMATS, KINDS, MediaSpec


def allowed_types(schema: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The content types a file object's schema allows its ``content_type``: its
    ``const``, or its ``enum``'s (None: any)."""
    content_type = schema.get("properties", {}).get("content_type", {})
    if not isinstance(content_type, Mapping):
        return None
    if "const" in content_type:
        return (content_type["const"],)
    allowed = content_type.get("enum")
    return tuple(allowed) if isinstance(allowed, list) else None


def declared_format(schema: Mapping[str, Any], field: Mapping[str, Any], kind: str) -> str | None:
    """The format a schema declares: its ``contentMediaType``, its content type's default,
    else the first its content type allows."""
    for node in (schema, field):
        declared = node.get("contentMediaType")
        content_type = node.get("properties", {}).get("content_type", {}).get("default")
        for wanted in (declared, content_type, *(allowed_types(node) or ())):
            for name in KINDS[kind]:
                if isinstance(wanted, str) and FORMATS[name][0] == wanted:
                    return name
    return None


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
        "channels": 1 if spec.kind == "audio" else None,
        "media_type": spec.kind if spec.kind in ("image", "video", "audio") else None,
        "container": spec.extension,
        "bitrate": round(size * 8 / seconds) if seconds else None,
    }
    if spec.kind == "video":  # (an audio file's codec is left to the schema's plain value)
        described["codec"] = spec.video_codec
    return described
