"""Media specs in a shared `Store`, so that any process renders any media URL.

A spec is what determines a medium's bytes (`MediaSpec`); kept as JSON under
``media:spec:{id}``, with every id in ``media:specs`` scored by when it was registered.
Beyond ``max_specs`` the oldest are dropped, a batch at a time (1 % over the bound), so a
registration costs one round trip, and the occasional trim one more.
"""

from __future__ import annotations

import dataclasses
import json
import time

from emulator.core.store import Store
from emulator.media.spec import MediaSpec

INDEX = "media:specs"
_FIELDS = {f.name for f in dataclasses.fields(MediaSpec)}


def _key(media_id: str) -> str:
    return f"media:spec:{media_id}"


def save(store: Store, media_id: str, spec: MediaSpec, max_specs: int) -> None:
    text = json.dumps(dataclasses.asdict(spec), separators=(",", ":"))
    _, _, count = store.batch(
        [("set", _key(media_id), text), ("zadd", INDEX, media_id, time.time()), ("zcard", INDEX)]
    )
    if count > max_specs:
        excess = count - max_specs + max(1, max_specs // 100)
        dropped = store.do("zrange", INDEX, 0, excess - 1)
        store.batch([("delete", *map(_key, dropped)), *(("zrem", INDEX, d) for d in dropped)])


def load(store: Store, media_id: str) -> MediaSpec | None:
    """The spec registered as ``media_id``, or None (unknown, dropped, or unreadable)."""
    text = store.do("get", _key(media_id))
    if text is None:
        return None
    try:
        fields = json.loads(text)
        if not isinstance(fields, dict) or not set(fields) <= _FIELDS:
            return None
        return MediaSpec(**fields)
    except (ValueError, TypeError):
        return None
