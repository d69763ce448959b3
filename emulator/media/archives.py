"""Synthetic zip archives: a few small frames (PNG) and a manifest, reproducibly packed.

Endpoints return archives of frames, masks or datasets; what matters to a client is a
real archive that ``zipfile`` opens, holding real files.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

from emulator.media.spec import MediaSpec

_FRAMES = 3
_FRAME_SIDE = 64
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed member dates: same spec, same bytes


def _member(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, _EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def render_archive(spec: MediaSpec) -> bytes:
    from emulator.media.images import render_image  # Pillow: with the first archive

    out = io.BytesIO()
    width, height = spec.width or _FRAME_SIDE, spec.height or _FRAME_SIDE
    with zipfile.ZipFile(out, "w") as archive:
        names = []
        for index in range(_FRAMES):
            frame = dataclasses.replace(
                spec, kind="image", format="png", width=width, height=height, index=index
            )
            names.append(f"frame_{index:04d}.png")
            _member(archive, names[-1], render_image(frame))
        manifest = {"generator": "provider-emulator", "endpoint": spec.label, "files": names}
        _member(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
    return out.getvalue()
