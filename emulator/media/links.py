"""How a result names its media: a URL on a CDN surface, or the bytes inline.

A field that carries the media itself (``content``, as fal's realtime apps send raw image
bytes) gets `raw`: the bytes where the wire carries bytes (msgpack), else base64 text.

A linker is a value (equal linkers link equally), so an output made with one can be kept
and served again to every poll that would link the same way. It carries its store's
``epoch``: an output made before a reset, by a request still under way, is kept under a
linker no later request has (the same job id, at the same time of a manual clock, names
another job after a seeded reset).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from emulator.core.file_urls import media_url
from emulator.media.cache import MediaStore
from emulator.media.spec import MediaSpec


class WouldBlock(Exception):
    """Raised, while `without_blocking`, by what would render or decode media."""


_NOT_BLOCKING: ContextVar[bool] = ContextVar("not_blocking", default=False)


@contextmanager
def without_blocking() -> Iterator[None]:
    """Within it, rendering or decoding media raises `WouldBlock`: an output that needs
    neither is made on the event loop, without a worker thread's hop."""
    token = _NOT_BLOCKING.set(True)
    try:
        yield
    finally:
        _NOT_BLOCKING.reset(token)


def check_may_block() -> None:
    """Raise `WouldBlock` if blocking work is not allowed here."""
    if _NOT_BLOCKING.get():
        raise WouldBlock


class _RawContent:
    """A linker's `raw`: a medium's own bytes (or, unless ``raw_bytes``, their base64)."""

    store: MediaStore
    raw_bytes: bool

    def raw(self, spec: MediaSpec) -> bytes | str:
        check_may_block()
        return _raw(self.store.content(spec), self.raw_bytes)


@dataclass(frozen=True, eq=True)
class UrlLinker(_RawContent):
    """Media as URLs on the CDN surface at ``cdn_base``."""

    store: MediaStore
    cdn_base: str
    raw_bytes: bool = False
    epoch: int = 0

    def __call__(self, spec: MediaSpec) -> tuple[str, int]:
        # A fixed-size format is rendered only when downloaded; any other, now, to size it.
        size = spec.byte_size
        if size is None:
            check_may_block()
            size = len(self.store.content(spec))
        return media_url(self.cdn_base, self.store.register(spec), spec.extension), size


@dataclass(frozen=True, eq=True)
class InlineLinker(_RawContent):
    """Media inline: ``data:`` URIs, or (``bare``) naked base64 as WaveSpeed sends it."""

    store: MediaStore
    bare: bool = False
    raw_bytes: bool = False
    epoch: int = 0

    def __call__(self, spec: MediaSpec) -> tuple[str, int]:
        check_may_block()
        data = self.store.content(spec)
        encoded = base64.b64encode(data).decode()
        return (encoded if self.bare else f"data:{spec.content_type};base64,{encoded}"), len(data)


def _raw(data: bytes, as_bytes: bool) -> bytes | str:
    return data if as_bytes else base64.b64encode(data).decode()


#: Turns a spec into the value a result carries for it (URL, data URI…) and its size.
Linker = UrlLinker | InlineLinker


def url_linker(store: MediaStore, cdn_base: str, *, raw_bytes: bool = False) -> Linker:
    return UrlLinker(store, cdn_base, raw_bytes, store.epoch)


def data_uri_linker(store: MediaStore, *, bare: bool = False, raw_bytes: bool = False) -> Linker:
    return InlineLinker(store, bare, raw_bytes, store.epoch)
