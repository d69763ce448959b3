"""Long text as a log line or a page shows it: its start, and how long it was.

A value from a request (a webhook's URL, a request's target, an input's inline media) may
run to the request's whole size; shown whole, it floods a log or a page, and a log line
longer than a pipe's atomic write may interleave with another process's.
"""

from __future__ import annotations


def excerpt(text: str, limit: int) -> str:
    """``text`` cut after ``limit`` characters, its whole length said; whole if no longer."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"
