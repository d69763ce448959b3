"""What each key was charged: a ledger that outlives the jobs it charges for.

A provider's account APIs (WaveSpeed's balance, billings, usage) must not forget a run once
its job passes ``--retention`` or is evicted (``--max-jobs-per-key``): a real balance never
goes back up by itself, and a test that checks "the balance went down" on a long-lived
shared server must not depend on how long jobs are kept. So a job is charged once, when it
is first seen completed, and its charge is kept apart from it, per key:

- a running total that never forgets (the USD, in whole micro-dollars: prices are rounded
  to six decimals, and a sum of integers never drifts), and how many charges it counts;
- the newest `CHARGES_KEPT` charges themselves (what billings and usage list), the oldest
  dropped first, their amounts still in the total.

The bound is per key; what grows without one is the number of keys, two numbers each (as a
real account's balance outlives its history). In this process's memory by default; with a
shared store in it, so that every worker and a restart see the same ledger. A reset
forgets it (`clear`, or the store's flush). A key sees only its own.

A job is charged once. Here its ``charged`` flag is set under the ledger's lock; in a shared
store the claim is the job's own (`emulator.core.shared_jobs.charge_claim`), taken in the
one atomic step that writes the charge, so that two processes never both charge a job and
a job dropped meanwhile is charged by none (its job gone, nothing could charge it again).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import NamedTuple

from emulator.core.jobs import Job
from emulator.core.shared_jobs import charge_claim
from emulator.core.store import Store

#: how many of its newest charges a key's ledger lists (billings, usage by day and model);
#: the total counts every one. Ten thousand: a day of a busy test suite, a few MB at most
CHARGES_KEPT = 10_000
#: the most one charge counts, in USD: a price past it (or not a number) counts as this, which
#: keeps a total in micro-dollars within a 64-bit counter (Redis's) for a million of them
MAX_CHARGE = 1e6


class Charge(NamedTuple):
    """What a key was charged for one job: what the account APIs list of it."""

    job_id: str
    endpoint: str  # the endpoint's id (the model)
    usd: float
    submitted_wall: float  # when the job was submitted, unix seconds


class Spent(NamedTuple):
    """What a key was charged in all, however many charges its ledger still lists."""

    usd: float
    charges: int


def micro_usd(usd: float) -> int:
    """``usd`` in whole micro-dollars, at most `MAX_CHARGE`'s (a NaN counts as that too)."""
    if not usd <= MAX_CHARGE:  # past it, or not a number
        usd = MAX_CHARGE
    return round(max(usd, 0.0) * 1e6)


def _spent(micro: int, charges: int) -> Spent:
    return Spent(micro / 1e6, charges)


class Ledger:
    """Every key's charges, in this process."""

    def __init__(self) -> None:
        self._totals: dict[str, tuple[int, int]] = {}  # key → micro-dollars, charges
        self._charges: dict[str, deque[Charge]] = {}
        self._lock = threading.Lock()

    def charge(self, job: Job, usd: float) -> bool:
        """Charge ``job``'s key ``usd`` for it, unless it was charged already: whether this
        call charged it."""
        micro = micro_usd(usd)
        with self._lock:
            if job.charged:
                return False
            job.charged = True
            spent, count = self._totals.get(job.owner, (0, 0))
            self._totals[job.owner] = spent + micro, count + 1
            charges = self._charges.get(job.owner)
            if charges is None:
                charges = self._charges[job.owner] = deque(maxlen=CHARGES_KEPT)
            charges.append(Charge(job.id, job.endpoint.id, micro / 1e6, job.submitted_wall))
        return True

    def spent(self, owner: str) -> Spent:
        return _spent(*self._totals.get(owner, (0, 0)))

    def charges(self, owner: str) -> list[Charge]:
        """``owner``'s newest charges (`CHARGES_KEPT` at most), in the order they were made."""
        with self._lock:
            return list(self._charges.get(owner, ()))

    def clear(self) -> None:
        with self._lock:
            self._totals.clear()
            self._charges.clear()


def _totals(owner: str) -> str:
    return f"ledger:total:{owner}"


def _listed(owner: str) -> str:
    return f"ledger:charges:{owner}"


class SharedLedger:
    """Every key's charges, in a shared `Store`: a hash of totals (``micro``, ``charges``)
    and a list of charges (JSON) per key."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def charge(self, job: Job, usd: float) -> bool:
        """As `Ledger.charge`: in one atomic step with the job's claim, so whichever process
        claims it first charges it, once."""
        if job.charged:  # as its hash said when it was read
            return False
        micro = micro_usd(usd)
        charge = Charge(job.id, job.endpoint.id, micro / 1e6, job.submitted_wall)
        done = self.store.guarded(
            charge_claim(job.id),
            [
                ("hincrby", _totals(job.owner), "micro", micro),
                ("hincrby", _totals(job.owner), "charges", 1),
                ("rpush", _listed(job.owner), json.dumps(charge)),
            ],
        )
        job.charged = True
        if done is None:
            return False  # charged by another process (or dropped meanwhile)
        if done[-1] > CHARGES_KEPT:  # the oldest go; trimmed twice, trimmed alike
            self.store.do("ltrim", _listed(job.owner), -CHARGES_KEPT, -1)
        return True

    def spent(self, owner: str) -> Spent:
        micro, charges = self.store.do("hmget", _totals(owner), "micro", "charges")
        return _spent(int(micro or 0), int(charges or 0))

    def charges(self, owner: str) -> list[Charge]:
        listed = self.store.do("lrange", _listed(owner), -CHARGES_KEPT, -1)
        return [Charge(*json.loads(text)) for text in listed]

    def clear(self) -> None:
        pass  # the engine flushes the whole store on a reset
