"""Where synthetic media lives: a bounded registry of specs and a bounded render cache.

A result names its media by the spec's digest; the bytes are rendered the first time
anyone needs them (a download, a ``file_size``, a data URI) and kept in an LRU cache
bounded in bytes. An evicted render is simply rendered again: specs are deterministic.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from emulator.media.images import render_image
from emulator.media.spec import MediaSpec
from emulator.media.video import render_video

__all__ = ["MediaStore", "UnsupportedMedia"]


class UnsupportedMedia(Exception):
    """The emulator cannot synthesise this kind of media (yet)."""


class MediaStore:
    def __init__(
        self,
        *,
        cache_bytes: int = 256 * 2**20,
        max_specs: int = 200_000,
        salt: str = "",
        load_source: Callable[[str], bytes | None] = lambda _: None,
    ) -> None:
        """``load_source`` gives the bytes of a video's start picture by storage id."""
        self._cache_bytes = cache_bytes
        self._max_specs = max_specs
        self._salt = salt
        self._specs: OrderedDict[str, MediaSpec] = OrderedDict()
        self._renders: OrderedDict[MediaSpec, bytes] = OrderedDict()
        self._rendered_size = 0
        # Rendering runs in worker threads; one lock keeps both maps consistent.
        self._lock = threading.Lock()
        self._rendering: dict[MediaSpec, threading.Lock] = {}  # one render per spec at a time
        self._load_source = load_source
        self.renders = 0  # how many times anything was actually rendered
        #: when this store began: the Last-Modified of what it serves (media never change)
        self.created = time.time()

    def register(self, spec: MediaSpec) -> str:
        """The media id under which ``spec`` can be fetched."""
        media_id = spec.digest(self._salt)
        with self._lock:
            self._specs[media_id] = spec
            self._specs.move_to_end(media_id)
            while len(self._specs) > self._max_specs:
                self._specs.popitem(last=False)
        return media_id

    def lookup(self, media_id: str) -> MediaSpec | None:
        with self._lock:
            return self._specs.get(media_id)

    def content(self, spec: MediaSpec) -> bytes:
        """The bytes of ``spec``, rendered now unless cached."""
        with self._lock:
            cached = self._renders.get(spec)
            if cached is not None:
                self._renders.move_to_end(spec)
                return cached
            in_flight = self._rendering.setdefault(spec, threading.Lock())
        try:
            with in_flight:  # a second asker waits for the first render, not repeating it
                with self._lock:
                    cached = self._renders.get(spec)
                data = cached if cached is not None else self._render(spec)
        finally:
            with self._lock:
                if self._rendering.get(spec) is in_flight:
                    del self._rendering[spec]
        with self._lock:
            if spec not in self._renders and len(data) <= self._cache_bytes:
                self._renders[spec] = data
                self._rendered_size += len(data)
                while self._rendered_size > self._cache_bytes:
                    _, evicted = self._renders.popitem(last=False)
                    self._rendered_size -= len(evicted)
        return data

    def _render(self, spec: MediaSpec) -> bytes:
        if spec.kind not in ("image", "video"):
            raise UnsupportedMedia(f"provider-emulator does not synthesise {spec.kind} yet")
        self.renders += 1
        if spec.kind == "video":
            return render_video(spec, self._load_source)
        return render_image(spec)
