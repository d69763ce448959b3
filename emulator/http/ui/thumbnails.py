"""Thumbnails: drawn small from a medium's spec (never its full-size render), kept."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING

from emulator.core.engine import Engine
from emulator.media.spec import MediaSpec

if TYPE_CHECKING:  # Pillow loads with the first thumbnail
    from PIL import Image

#: the longest side of a thumbnail, in pixels
EDGE = 192
#: thumbnails kept (about 5 KB each)
KEPT = 4096


def thumbnail_size(width: int, height: int, edge: int = EDGE) -> tuple[int, int]:
    """``width`` x ``height`` scaled to fit ``edge`` (never enlarged), aspect kept."""
    scale = min(1.0, edge / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


class Thumbnails:
    """JPEG thumbnails of the engine's media by spec, in an LRU cache."""

    def __init__(self, engine: Engine, kept: int = KEPT) -> None:
        self.engine = engine
        self.kept = kept
        self._cache: OrderedDict[MediaSpec, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.drawn = 0  # how many were drawn (the rest came from the cache)

    def of(self, media_id: str) -> bytes | None:
        """The thumbnail of a medium the engine serves, or None if it serves none."""
        spec = self.engine.media.lookup(media_id)
        if spec is None:
            return None
        with self._lock:
            cached = self._cache.get(spec)
            if cached is not None:
                self._cache.move_to_end(spec)
                return cached
        data = self._draw(spec)
        with self._lock:
            self._cache[spec] = data
            while len(self._cache) > self.kept:
                self._cache.popitem(last=False)
        return data

    def _draw(self, spec: MediaSpec) -> bytes:
        from emulator.media.images import render_picture

        self.drawn += 1
        size = thumbnail_size(spec.width, spec.height)
        picture = self._source(spec, size) or render_picture(spec, caption=False, size=size)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=80)
        return out.getvalue()

    def _source(self, spec: MediaSpec, size: tuple[int, int]) -> Image.Image | None:
        """A medium's input picture, when it starts from an uploaded one, as its render
        starts from it (a picture Pillow cannot read is drawn)."""
        from emulator.media.images import start_picture

        small = replace(spec, width=size[0], height=size[1])
        return start_picture(small, self.engine.stored_bytes)
