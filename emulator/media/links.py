"""How a result names its media: a URL on a CDN surface, or the bytes inline."""

from __future__ import annotations

import base64
from collections.abc import Callable

from emulator.core.files import media_url
from emulator.media.cache import MediaStore
from emulator.media.spec import MediaSpec

#: Turns a spec into the value a result carries for it (URL, data URI…) and its size.
Linker = Callable[[MediaSpec], tuple[str, int]]


def url_linker(store: MediaStore, cdn_base: str) -> Linker:
    """Media as URLs on the CDN surface at ``cdn_base``."""

    def link(spec: MediaSpec) -> tuple[str, int]:
        # A fixed-size format is rendered only when downloaded; any other, now, to size it.
        size = spec.byte_size if spec.byte_size is not None else len(store.content(spec))
        return media_url(cdn_base, store.register(spec), spec.extension), size

    return link


def data_uri_linker(store: MediaStore, *, bare: bool = False) -> Linker:
    """Media inline: ``data:`` URIs, or (``bare``) naked base64 as WaveSpeed sends it."""

    def link(spec: MediaSpec) -> tuple[str, int]:
        data = store.content(spec)
        encoded = base64.b64encode(data).decode()
        return (encoded if bare else f"data:{spec.content_type};base64,{encoded}"), len(data)

    return link
