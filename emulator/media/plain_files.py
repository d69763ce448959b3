"""Other files endpoints return, made by content type: JSON, LoRA weights, subtitles, text.

Each is a small real file of its type (a ``safetensors`` file with a valid header, an SRT
with one cue…), deterministic from the spec; a type with no structure worth imitating
gets bytes naming what it stands for.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable

from emulator.media.spec import MediaSpec


def _about(spec: MediaSpec) -> dict[str, object]:
    return {"generator": "provider-emulator", "endpoint": spec.label, "seed": spec.seed}


def _json(spec: MediaSpec) -> bytes:
    return json.dumps({**_about(spec), "prompt": spec.prompt}, indent=2).encode()


def _safetensors(spec: MediaSpec) -> bytes:
    """One 4x4 float32 tensor: 8-byte header length, JSON header, data."""
    data = hashlib.sha512(spec.digest("weights").encode()).digest()[:64]
    header = {
        "__metadata__": {k: str(v) for k, v in _about(spec).items()},
        "lora.weight": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, len(data)]},
    }
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def _subtitles(spec: MediaSpec) -> bytes:
    text = spec.prompt or "provider-emulator"
    if spec.format == "vtt":
        return f"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n{text}\n".encode()
    return f"1\n00:00:00,000 --> 00:00:02,000\n{text}\n".encode()


def _text(spec: MediaSpec) -> bytes:
    return f"provider-emulator {spec.format} file for {spec.label} (seed {spec.seed})\n".encode()


_MAKERS: dict[str, Callable[[MediaSpec], bytes]] = {
    "json": _json,
    "safetensors": _safetensors,
    "srt": _subtitles,
    "vtt": _subtitles,
}


def render_file(spec: MediaSpec) -> bytes:
    return _MAKERS.get(spec.format, _text)(spec)
