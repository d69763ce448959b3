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


def is_timed(items: Mapping[str, Any]) -> bool:
    """Whether array items of this (resolved) schema are timed pieces of a transcript."""
    properties = items.get("properties", {})
    has_time = any(n in properties for n in (*_START, "timestamp"))
    return has_time and any(n in properties for n in _WORD)


def timed_items(
    items: Mapping[str, Any], text: str, seconds: float, plain: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    """One item per word of ``text``, spread evenly over ``seconds``; fields the
    conventions do not cover take ``plain``'s schema-valid value when required."""
    words = text.split()[:64] or ["…"]
    step = seconds / len(words)
    properties = items.get("properties", {})
    required = set(items.get("required", []))
    result = []
    for index, word in enumerate(words):
        start, end = round(index * step, 3), round((index + 1) * step, 3)
        item: dict[str, Any] = {}
        for name, prop in properties.items():
            if name in _START:
                item[name] = start
            elif name in _END:
                item[name] = end
            elif name == "timestamp":
                item[name] = [start, end]
            elif name in _WORD:
                item[name] = word
            elif name in required:
                item[name] = plain(prop)
        result.append(item)
    return result
