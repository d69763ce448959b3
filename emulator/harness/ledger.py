"""The spend ledger of a live run: every billable call, allowed or refused against the cap.

A run may be several processes (pytest-xdist's workers), and the cap is the whole run's.
So a ledger can live in a file that every process appends to, and needs no lock: a
booking is one line, appended in one write, and whether it was allowed follows from the
lines before it (allowed while the total of those allowed before, and its own cost, stay
within the cap), which every process reads alike. A call is booked before it is made, so
that the cap holds however many processes call at once; a call the provider then refused
(a 429, WaveSpeed's 400 for an input: no job, nothing billed) is released by a line of
its own, and its cost is free again from that line on.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from dataclasses import dataclass, field, replace
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
    #: why an allowed call was not billed after all (the provider refused it), "" if it was
    unbilled: str = ""
    #: which booking it is, for `Ledger.release`
    token: str = field(default="", repr=False, compare=False)

    @property
    def billed(self) -> bool:
        return self.allowed and not self.unbilled


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
        token = secrets.token_hex(8)  # unique: its place
        lines = self._append([endpoint, cost, price, token])
        return next(entry for entry in _verdicts(lines, self.cap) if entry.token == token)

    def release(self, entry: Entry, reason: str) -> None:
        """Write that the booked call of ``entry`` was not billed (the provider refused
        it: ``reason`` says how), so that its cost is free again."""
        self._append([entry.token, reason])

    def _append(self, fields: list[object]) -> list[str]:
        """Append a line of ``fields``; the lines then."""
        line = json.dumps(fields)
        with self._lock:
            if self.path is None:
                self._lines.append(line)
            else:  # one write of a short line in append mode: never interleaved with another
                descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(descriptor, (line + "\n").encode())
                finally:
                    os.close(descriptor)
            return self._read()

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
            mark = f"  not billed: {e.unbilled}" if e.unbilled else "" if e.allowed else "  REFUSED"
            lines.append(f"{index:<6} {e.endpoint:55} ${e.estimate:>8.4f}  {e.price}{mark}")
        refused, spent = _refused(entries), _spent(entries)
        unbilled = sum(1 for e in entries if e.unbilled)
        lines.append(
            f"{sum(1 for e in entries if e.billed)} calls, estimated ${spent:.4f} of a"
            f" ${self.cap:g} cap ({refused} refused"
            + (f", {unbilled} refused by the provider: not billed)" if unbilled else ")")
        )
        return "\n".join(lines)


def _spent(entries: list[Entry]) -> float:
    return round(sum(e.estimate for e in entries if e.billed), 6)


def _refused(entries: list[Entry]) -> int:
    return sum(1 for e in entries if not e.allowed)


def _verdicts(lines: list[str], cap: float) -> list[Entry]:
    """The entries of booked ``lines``, in order, each allowed or refused, and released
    where a later line says the provider did not bill it."""
    entries: list[Entry] = []
    places: dict[str, int] = {}
    spent = 0.0
    for line in lines:
        fields = json.loads(line)
        if len(fields) == 2:  # a release: the cost is free from here on
            token, reason = fields
            index = places[token]
            if entries[index].billed:
                spent -= entries[index].estimate
                entries[index] = replace(entries[index], unbilled=reason)
            continue
        endpoint, cost, price, token = fields
        allowed = spent + cost <= cap + _SLACK
        spent += cost if allowed else 0.0
        places[token] = len(entries)
        entries.append(Entry(endpoint, cost, allowed, price, token=token))
    return entries
