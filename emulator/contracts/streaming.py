"""What a streaming endpoint sends before its output: the text so far, a few times.

An LLM on fal streams its output as server-sent events, each the output as it stands
(``output`` growing, ``partial: true``), the last one complete. The emulator cuts the
finished output's text fields at word boundaries; outputs without text stream as one
event, as media apps do.
"""

from __future__ import annotations

from typing import Any

from emulator.contracts.texts import TEXT_FIELDS

PARTS = 4


def _cut(text: str, part: int) -> str:
    words = text.split(" ")
    return " ".join(words[: max(1, len(words) * part // PARTS)])


def partial_outputs(output: dict[str, Any]) -> list[dict[str, Any]]:
    """The events a stream sends, the finished output last."""
    texts = [k for k, v in output.items() if k in TEXT_FIELDS and isinstance(v, str) and v]
    if not texts:
        return [output]
    events = []
    for part in range(1, PARTS):
        event = {**output, **{k: _cut(output[k], part) for k in texts}}
        if "partial" in output:
            event["partial"] = True
        events.append(event)
    return [*events, output]
