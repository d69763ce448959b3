"""What a webhook delivery is, and what follows an attempt: shared by the in-process
sender (`emulator.core.webhooks`) and the shared one (`emulator.core.shared_webhooks`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Attempt:
    """One try to deliver a webhook: when, the receiver's status (or the error) and how long."""

    at: float  # unix seconds
    status: int | None  # the receiver's answer, or None when none came
    error: str | None
    duration: float


@dataclass
class Delivery:
    """A job's webhook: where it goes, what it carries, and how its attempts went."""

    provider: str
    job_id: str
    url: str
    owner: str = ""  # the key whose job it reports
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    state: str = "waiting"  # waiting (for the job), pending, delivered, failed, refused
    reason: str = ""

    @property
    def delivered(self) -> bool:
        return self.state == "delivered"


def next_step(tries: int, attempt: Attempt, schedule: tuple[float, ...]) -> str | int:
    """After attempt number ``tries``: "delivered", "failed", or the index of the wait in
    ``schedule`` before the next attempt."""
    if attempt.status is not None and 200 <= attempt.status < 300:
        return "delivered"
    return "failed" if tries > len(schedule) else tries - 1


def from_record(record: dict[str, str], attempts: list[dict[str, Any]]) -> Delivery:
    """A shared delivery's record (see `emulator.core.shared_webhooks`) as a `Delivery`."""
    return Delivery(
        record["provider"],
        record["job_id"],
        record["url"],
        record["owner"],
        record.get("body", "").encode(),
        json.loads(record.get("headers") or "{}"),
        [Attempt(**attempt) for attempt in attempts],
        record["state"],
        record["reason"],
    )
