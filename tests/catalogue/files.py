"""Open an output file with the library its kind calls for, and say what it holds."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from typing import Any

import av
from PIL import Image

_VIDEO = ("mp4", "mov", "mkv", "webm")
_AUDIO = ("wav", "mp3", "flac", "ogg", "opus", "aac", "m4a")


def opened(data: bytes, extension: str) -> dict[str, Any]:
    """What the file is, as its library reads it; raises if the library refuses it."""
    if extension in ("jpg", "jpeg", "png", "webp", "gif"):
        picture = Image.open(io.BytesIO(data))
        picture.load()
        return {"kind": "image", "size": picture.size, "frames": getattr(picture, "n_frames", 1)}
    if extension in (*_VIDEO, *_AUDIO):
        with av.open(io.BytesIO(data)) as container:
            streams = {s.type: s for s in container.streams}
            info: dict[str, Any] = {"kind": "video" if "video" in streams else "audio"}
            if "audio" in streams:
                audio = streams["audio"]
                samples = sum(frame.samples for frame in container.decode(audio))
                info |= {"sample_rate": audio.rate, "seconds": samples / audio.rate}
            if "video" in streams:
                video = streams["video"]
                info |= {"size": (video.width, video.height), "fps": float(video.average_rate)}
                info["codec"] = video.codec_context.name
                info["seconds"] = float(container.duration / 1_000_000)
            return info
    if extension in ("glb", "obj", "stl", "ply"):
        # imported when a mesh is opened, not as every test process collects this module
        import trimesh

        mesh = trimesh.load(io.BytesIO(data), file_type=extension, force="mesh")
        assert len(mesh.faces) > 0
        return {"kind": "mesh", "faces": len(mesh.faces)}
    if extension in ("zip", "usdz"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.testzip() is None
            return {"kind": "archive", "members": archive.namelist()}
    if extension == "json":
        return {"kind": "json", "value": json.loads(data)}
    if extension == "safetensors":
        (length,) = struct.unpack("<Q", data[:8])
        return {"kind": "safetensors", "header": json.loads(data[8 : 8 + length])}
    assert data, "an empty file"
    return {"kind": "file", "bytes": len(data)}


def urls_in(value: Any) -> list[str]:
    """Every media URL in an output (dicts' ``url`` fields and URL-valued strings)."""
    if isinstance(value, dict):
        return [u for v in value.values() for u in urls_in(v)]
    if isinstance(value, list):
        return [u for v in value for u in urls_in(v)]
    if isinstance(value, str) and value.startswith("http") and "/fal/cdn/" in value:
        return [value]
    return []
