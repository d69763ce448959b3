"""Where synthetic media lives: a bounded registry of specs and a bounded render cache.

A result names its media by the spec's digest; the bytes are rendered the first time
anyone needs them (a download, a ``file_size``, a data URI) and kept in an LRU cache
bounded in bytes, across resets too. An evicted render is simply rendered again: specs
are deterministic.

With a shared `Store`, every spec registered is also written there (as JSON, under
``media:spec:{id}``, the newest ``max_specs`` kept), and a lookup this process cannot answer
asks the store: any worker, or a restarted one, renders any media URL another handed out.
Media ids depend on the salt, so every process on one store must be given the same salt.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from emulator.core.store import Store
from emulator.media import shared_specs
from emulator.media.archives import render_archive
from emulator.media.meshes import render_mesh
from emulator.media.plain_files import render_file
from emulator.media.spec import KINDS, MediaSpec


class UnsupportedMedia(Exception):
    """The emulator cannot synthesise this kind of media (yet)."""


#: videos rendered at once, by one store: each takes a core and, at its largest (1080p,
#: 60 s), about 250 MB while it is made; others wait their turn (twenty downloads of
#: twenty videos at once rendered them all together, 5 GB)
VIDEOS_AT_ONCE = 2
#: images made from an input picture rendered at once: each decodes its source whole (up
#: to 64 MP, about 280 MB and 2 s for an 8192² RGBA PNG); others wait their turn
SOURCED_IMAGES_AT_ONCE = 2


class MediaStore:
    def __init__(
        self,
        *,
        cache_bytes: int = 256 * 2**20,
        max_specs: int = 200_000,
        salt: str = "",
        load_source: Callable[[str], bytes | None] = lambda _: None,
        store: Store | None = None,
    ) -> None:
        """``load_source`` gives the bytes of an image's or a video's input picture by
        storage id."""
        self._store = store
        self._cache_bytes = cache_bytes
        self._max_specs = max_specs
        self._salt = salt
        self._specs: OrderedDict[str, MediaSpec] = OrderedDict()
        self._renders: OrderedDict[MediaSpec, bytes] = OrderedDict()
        self._rendered_size = 0
        # Rendering runs in worker threads; one lock keeps both maps consistent.
        self._lock = threading.Lock()
        self._rendering: dict[MediaSpec, threading.Lock] = {}  # one render per spec at a time
        self._video_turns = threading.BoundedSemaphore(VIDEOS_AT_ONCE)
        self._sourced_image_turns = threading.BoundedSemaphore(SOURCED_IMAGES_AT_ONCE)
        self._load_source = load_source
        self.renders = 0  # how many times anything was actually rendered
        self.epoch = 0  # how many times it was restarted (links.py)
        #: when this store began: the Last-Modified of what it serves (media never change)
        self.created = time.time()

    def restart(self, salt: str) -> None:
        """Forget every spec and take up ``salt``, as a new store would: the media ids
        handed out so far are served no more. The renders are kept: a spec's bytes are the
        same whatever the salt, and an input picture's storage id is its bytes' digest (a
        harness check or a test suite resetting between runs rendered the same pictures
        again and again)."""
        with self._lock:
            self._salt = salt
            self._specs.clear()
            self.created = time.time()
            self.epoch += 1

    def register(self, spec: MediaSpec) -> str:
        """The media id under which ``spec`` can be fetched."""
        media_id = spec.digest(self._salt)
        with self._lock:
            known = media_id in self._specs
        if self._store is not None and not known:
            # saved before it is known here: one known here but never saved (the store
            # failing once) would never be saved, and no other process could serve it
            shared_specs.save(self._store, media_id, spec, self._max_specs)
        with self._lock:
            self._remember(media_id, spec)
        return media_id

    def _remember(self, media_id: str, spec: MediaSpec) -> None:
        self._specs[media_id] = spec
        self._specs.move_to_end(media_id)
        while len(self._specs) > self._max_specs:
            self._specs.popitem(last=False)

    def lookup(self, media_id: str) -> MediaSpec | None:
        with self._lock:
            spec = self._specs.get(media_id)
        if spec is None and self._store is not None:
            spec = shared_specs.load(self._store, media_id)
            if spec is not None:  # a spec never changes: kept as this process's own
                with self._lock:
                    self._remember(media_id, spec)
        return spec

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
        if spec.format not in KINDS.get(spec.kind, ()):
            raise UnsupportedMedia(f"provider-emulator does not synthesise {spec.kind} yet")
        self.renders += 1
        if spec.format == "svg":  # a vector picture: an image's, or a file's
            from emulator.media.vectors import render_vector  # with images.py's Pillow

            return render_vector(spec)
        if spec.kind == "video":
            # PyAV (≈40 ms to import) loads with the first video, not with the emulator
            from emulator.media.video import render_video

            with self._video_turns:
                return render_video(spec, self._load_source)
        if spec.kind == "image":
            from emulator.media.images import render_image  # Pillow: with the first picture

            if not spec.source:  # drawn: small and quick
                return render_image(spec, self._load_source)
            with self._sourced_image_turns:
                return render_image(spec, self._load_source)
        return _RENDERERS[spec.kind](spec)


def _render_audio(spec: MediaSpec) -> bytes:
    from emulator.media.audio import render_audio  # PyAV, as for video: on first use

    return render_audio(spec)


_RENDERERS = {
    "audio": _render_audio,
    "mesh": render_mesh,
    "archive": render_archive,
    "file": render_file,
}
