"""Small judgements the properties share: walking outputs, comparing them, naming fields."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from emulator.media.sources import data_uri_bytes
from emulator.providers.registry import HOST_SURFACES

__all__ = [
    "differences",
    "error_text",
    "inline_media",
    "kept_bodies",
    "media_urls",
    "returned_bytes",
    "without_bytes",
]

_CDN_SURFACES = {"fal/cdn", "wavespeed/cdn"}


def without_bytes(value: Any) -> Any:
    """``value`` without the bytes a downloading client added (they are judged apart)."""
    if isinstance(value, dict):
        return {k: without_bytes(v) for k, v in value.items() if not isinstance(v, bytes)}
    if isinstance(value, list | tuple):
        return [without_bytes(v) for v in value if not isinstance(v, bytes)]
    return value


def _leaves(value: Any) -> Iterator[Any]:
    """Every value in ``value`` that is no dict, list or tuple, depth first."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def returned_bytes(value: Any) -> Iterator[bytes]:
    """Every downloaded medium the client returned (as ``bytes``, anywhere in its output)."""
    return (bytes(leaf) for leaf in _leaves(value) if isinstance(leaf, bytes | bytearray))


def inline_media(value: Any) -> Iterator[bytes]:
    """Every medium ``value`` carries inline, as a ``data:`` URI (fal's ``sync_mode``)."""
    for leaf in _leaves(value):
        if isinstance(leaf, str) and leaf.startswith("data:"):
            data = data_uri_bytes(leaf)
            if data is not None:
                yield data


def media_urls(value: Any, parent: Any = None) -> Iterator[tuple[str, Any]]:
    """Every URL on a provider CDN in ``value``, with the object that declares it."""
    if isinstance(value, str):
        try:
            parts = urlsplit(value)
            host = parts.hostname or ""
        except ValueError:  # text that is not a URL (an unclosed IPv6 bracket)
            return
        if parts.scheme in ("http", "https") and HOST_SURFACES.get(host) in _CDN_SURFACES:
            yield value, parent
    elif isinstance(value, dict):
        for item in value.values():
            yield from media_urls(item, value)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from media_urls(item, parent)


def differences(expected: Any, got: Any, where: str = "output") -> list[str]:
    """How ``got`` departs from ``expected``: every field the provider returned must be
    there with the same value (a client may add fields, never drop or rename one)."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return [f"{where}: the provider returned an object, the client {_short(got)}"]
        found = []
        for key, value in expected.items():
            if key not in got:
                found.append(f"{where}.{key}: dropped (the provider returned {_short(value)})")
            else:
                found += differences(value, got[key], f"{where}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(got, list | tuple) or len(got) != len(expected):
            return [f"{where}: the provider returned {_short(expected)}, the client {_short(got)}"]
        return [d for i, v in enumerate(expected) for d in differences(v, got[i], f"{where}[{i}]")]
    if expected != got and not (_number(expected) and _number(got) and expected == got):
        return [f"{where}: the provider returned {_short(expected)}, the client {_short(got)}"]
    return []


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 80 else text[:77] + "..."


#: how many errors of a chain are read (a chain may loop back on itself)
_CHAIN = 4


def _shown_chain(error: BaseException) -> list[BaseException]:
    """``error`` and the errors chained to it that its traceback shows: ``raise ... from
    None`` hides the error it was raised while handling from the caller."""
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and len(chain) < _CHAIN:
        chain.append(seen)
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return chain


def kept_bodies(error: BaseException) -> dict[str, str]:
    """The answer bodies ``error`` and the errors chained to it keep beside their
    messages, by where (``"HTTPStatusError.response.text"``: httpx's and requests'
    ``.response.text``, an SDK's ``.body`` or ``.detail``). No message or traceback shows
    them: code that knows where to look finds them."""
    kept = {}
    for each in _shown_chain(error):
        for name in ("response", "body", "detail"):
            extra = getattr(each, name, None)
            text = getattr(extra, "text", extra)
            if isinstance(text, str | bytes | dict | list):
                where = f"{type(each).__name__}.{name}{'' if text is extra else '.text'}"
                kept[where] = str(text)
    return kept


def error_text(error: BaseException, *, with_bodies: bool = False) -> str:
    """What an exception tells its caller: its message and arguments, and those of the
    errors chained to it that its traceback shows. ``with_bodies``: the answer bodies
    they keep too (`kept_bodies`), which tell the harness what the provider said, not
    what the caller was shown."""
    parts = [text for each in _shown_chain(error) for text in (str(each), repr(each.args))]
    if with_bodies:
        parts += kept_bodies(error).values()
    return "\n".join(parts)


def has_true_flag(value: Any, word: str = "nsfw") -> bool:
    """Whether ``value`` carries a raised flag whose name contains ``word``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if word in key.lower() and (item is True or (isinstance(item, list) and any(item))):
                return True
            if has_true_flag(item, word):
                return True
    elif isinstance(value, list | tuple):
        return any(has_true_flag(item, word) for item in value)
    return False
