"""Recorded exchanges, as a recordings folder holds them, for the replay tests."""

from __future__ import annotations


def fal_queue_exchange(
    method: str, path: str, status: int, answer: dict, retry_after: str = "1", **request: dict
) -> dict:
    """One recorded exchange with fal's queue: ``answer`` sent with ``status``."""
    return {
        "surface": "fal/queue",
        "method": method,
        "path": path,
        "query": "",
        "request": {"headers": {}, **request},
        "response": {"status": status, "json": answer,
                     "headers": {"content-type": "application/json", "retry-after": retry_after}},
    }  # fmt: skip
