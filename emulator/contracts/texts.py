"""Text outputs: words deterministic from the prompt and seed, and timed items (words,
chunks, segments) for speech outputs whose schema has timestamps."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

#: output string fields that carry what a model wrote (not an echo of the input)
TEXT_FIELDS = frozenset(
    {
        "output",
        "text",
        "results",
        "description",
        "caption",
        "reasoning",
        "reasoning_content",
        "generated_text",
        "lyrics",
        "response",
        "answer",
        "content",
        "transcript",
        "transcription",
        "svg_content",
        "text_output",
    }
)
_WORDS = (
    "the emulator answers offline with words drawn from the prompt and the seed so every "
    "run repeats exactly while each prompt reads a little differently from the others"
).split()
_START = ("start", "start_time", "start_seconds", "begin")
_END = ("end", "end_time", "end_seconds", "stop")
_WORD = ("text", "word", "token", "content")


def generated_text(prompt: str, seed: int, words: int = 24) -> str:
    """Same prompt and seed, same text: the prompt's own words mixed with a fixed list."""
    pool = [w for w in prompt.split() if w.isprintable()][:16] + list(_WORDS)
    digest = hashlib.sha256(f"{seed}\x1f{prompt}".encode("utf-8", "replace")).digest()
    chosen = [pool[digest[i % len(digest)] * (i + 1) % len(pool)] for i in range(words)]
    return "Emulated output: " + " ".join(chosen) + "."


def within_tokens(text: str, tokens: int | None) -> str:
    """``text`` cut to its first ``tokens`` words (a word is at least a token: a model's
    ``max_tokens`` is kept), whole where ``tokens`` is None."""
    words = text.split()
    return text if tokens is None or len(words) <= tokens else " ".join(words[:tokens])


def is_timed(items: Mapping[str, Any]) -> bool:
    """Whether array items of this (resolved) schema are timed pieces of a transcript."""
    properties = items.get("properties", {})
    has_time = any(n in properties for n in (*_START, "timestamp"))
    return has_time and any(n in properties for n in _WORD)


#: array fields of timed pieces by name alone, where the schema leaves their items open
TIMED_NAMES = frozenset(("timestamps", "words", "word_timestamps"))
#: the pieces such a field gets (ElevenLabs' TTS declares ``timestamps`` items ``{}``): a
#: guess at the providers' shape, valid against any open schema
OPEN_TIMED_ITEM: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "start": {"type": "number"},
        "end": {"type": "number"},
    },
}


def timed_fields(items: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """The fields of one timed item (resolved ``items``) a transcript fills, each with
    what it holds: ``start``, ``end``, ``timestamp`` (both), ``word``, or None for a
    required field the conventions do not cover."""
    required = set(items.get("required", []))
    fields: list[tuple[str, str | None]] = []
    for name in items.get("properties", {}):
        if name in _START:
            fields.append((name, "start"))
        elif name in _END:
            fields.append((name, "end"))
        elif name == "timestamp":
            fields.append((name, "timestamp"))
        elif name in _WORD:
            fields.append((name, "word"))
        elif name in required:
            fields.append((name, None))
    return fields


def timed_items(
    items: Mapping[str, Any],
    fields: list[tuple[str, str | None]],
    text: str,
    seconds: float,
    plain: Callable[[Any], Any],
    most: int = 64,
) -> list[dict[str, Any]]:
    """One item per word of ``text`` (its first ``most``), spread evenly over
    ``seconds``, with the `timed_fields` of ``items``; a field the conventions do not
    cover takes ``plain``'s schema-valid value of its schema."""
    words = text.split()[:most] or ["…"]
    step = seconds / len(words)
    bounds = [round(index * step, 3) for index in range(len(words) + 1)]
    properties = items.get("properties", {})
    result = []
    for index, word in enumerate(words):
        start, end = bounds[index], bounds[index + 1]
        item: dict[str, Any] = {}
        for name, holds in fields:
            if holds == "start":
                item[name] = start
            elif holds == "end":
                item[name] = end
            elif holds == "timestamp":
                item[name] = [start, end]
            elif holds == "word":
                item[name] = word
            else:
                item[name] = plain(properties[name])
        result.append(item)
    return result
