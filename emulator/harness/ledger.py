"""The spend ledger of a live run: every billable call, allowed or refused against the cap.

A run may be several processes (pytest-xdist's workers), and the cap is the whole run's.
So a ledger can live in a file that every process appends to, and needs no lock: a
booking is one line, appended in one write, and whether it was allowed follows from the
lines before it (allowed while the total of those allowed before, and its own cost, stay
within the cap), which every process reads alike.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Entry", "Ledger"]

#: what a float sum may be off by and still be within the cap
_SLACK = 1e-9


@dataclass(frozen=True)
class Entry:
    endpoint: str
    estimate: float
    allowed: bool
    price: str


@dataclass
class Ledger:
    """``path``: the file of a ledger shared by the processes of one run (created on the
    first booking); without it, the ledger is this process's own."""

    cap: float
    path: Path | None = None
    _lines: list[str] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def entries(self) -> list[Entry]:
        return _verdicts(self._read(), self.cap)

    @property
    def spent(self) -> float:
        return _spent(self.entries)

    @property
    def refused(self) -> int:
        return _refused(self.entries)

    def fits(self, cost: float) -> bool:
        """Whether a call of ``cost`` would be allowed now (nothing booked)."""
        return self.spent + cost <= self.cap + _SLACK

    def book(self, endpoint: str, cost: float, price: str) -> Entry:
        """Write the call in the ledger; its entry says whether it was allowed."""
        line = json.dumps([endpoint, cost, price, secrets.token_hex(8)])  # unique: its place
        with self._lock:
            if self.path is None:
                self._lines.append(line)
            else:  # one write of a short line in append mode: never interleaved with another
                descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(descriptor, (line + "\n").encode())
                finally:
                    os.close(descriptor)
            lines = self._read()
        return _verdicts(lines, self.cap)[lines.index(line)]

    def _read(self) -> list[str]:
        if self.path is None:
            return list(self._lines)
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        return text.split("\n")[:-1]  # a last line without its end is still being written

    def __str__(self) -> str:
        entries = self.entries  # read once: the file may grow meanwhile
        lines = [f"{'call':6} {'endpoint':55} {'estimate':>9}  price"]
        for index, e in enumerate(entries, 1):
            mark = "" if e.allowed else "  REFUSED"
            lines.append(f"{index:<6} {e.endpoint:55} ${e.estimate:>8.4f}  {e.price}{mark}")
        refused, spent = _refused(entries), _spent(entries)
        lines.append(
            f"{len(entries) - refused} calls, estimated ${spent:.4f} of a ${self.cap:g} cap"
            f" ({refused} refused)"
        )
        return "\n".join(lines)


def _spent(entries: list[Entry]) -> float:
    return round(sum(e.estimate for e in entries if e.allowed), 6)


def _refused(entries: list[Entry]) -> int:
    return sum(1 for e in entries if not e.allowed)


def _verdicts(lines: list[str], cap: float) -> list[Entry]:
    """The entries of booked ``lines``, in order, each allowed or refused."""
    entries, spent = [], 0.0
    for line in lines:
        endpoint, cost, price, _ = json.loads(line)
        allowed = spent + cost <= cap + _SLACK
        spent += cost if allowed else 0.0
        entries.append(Entry(endpoint, cost, allowed, price))
    return entries
