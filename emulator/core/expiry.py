"""What has outlived its retention goes, the oldest first: jobs and uploads alike."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def expire_oldest(
    kept: OrderedDict[str, T],
    kept_at: Callable[[T], float],
    now: float,
    retention: float,
    drop: Callable[[str], object],
) -> float:
    """``drop`` (by id) each of ``kept`` (oldest first) older than ``retention`` at ``now``,
    until one is not: when the oldest left was kept (infinity: none left). Only the
    oldest are looked at, so nothing scans what is kept."""
    while kept:
        item_id, oldest = next(iter(kept.items()))
        at = kept_at(oldest)
        if now - at <= retention:
            return at
        drop(item_id)
    return math.inf
