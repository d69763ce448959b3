"""How a result names its media: a URL on a CDN surface, or the bytes inline.

A linker is a value (equal linkers link equally), so an output made with one can be kept
and served again to every poll that would link the same way.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from emulator.core.files import media_url
from emulator.media.cache import MediaStore
from emulator.media.spec import MediaSpec


@dataclass(frozen=True, eq=True)
class UrlLinker:
    """Media as URLs on the CDN surface at ``cdn_base``."""

    store: MediaStore
    cdn_base: str

    def __call__(self, spec: MediaSpec) -> tuple[str, int]:
        # A fixed-size format is rendered only when downloaded; any other, now, to size it.
        size = spec.byte_size if spec.byte_size is not None else len(self.store.content(spec))
        return media_url(self.cdn_base, self.store.register(spec), spec.extension), size


@dataclass(frozen=True, eq=True)
class InlineLinker:
    """Media inline: ``data:`` URIs, or (``bare``) naked base64 as WaveSpeed sends it."""

    store: MediaStore
    bare: bool = False

    def __call__(self, spec: MediaSpec) -> tuple[str, int]:
        data = self.store.content(spec)
        encoded = base64.b64encode(data).decode()
        return (encoded if self.bare else f"data:{spec.content_type};base64,{encoded}"), len(data)


#: Turns a spec into the value a result carries for it (URL, data URI…) and its size.
Linker = UrlLinker | InlineLinker


def url_linker(store: MediaStore, cdn_base: str) -> Linker:
    return UrlLinker(store, cdn_base)


def data_uri_linker(store: MediaStore, *, bare: bool = False) -> Linker:
    return InlineLinker(store, bare)
