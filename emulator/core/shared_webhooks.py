"""Webhook deliveries in a shared `Store`: each made once across workers, retried by
whichever is alive, and recorded where every process can list them.

A pending delivery is data, not closures: its record (``webhooks:d:{key}``, a hash:
provider, job id, owner, URL, the request's base URLs, retry schedule, fault, state,
tries, last request sent) and its next step in the due set (``webhooks:due``, a sorted set
of ``{key}#{generation}`` by the unix time the step is due). A process claims a due step
with ``zrem`` (true for one process only) and, in the same atomic step (`Store.guarded`),
re-adds it one generation on, due at the lease's end, named by a token of its own
(``{key}#{generation}~{token}``: a process whose claim failed, giving back what it may have
taken, can only give back its own): if the process dies mid-attempt, another claims that
lease when it runs out and tries again. A finished step removes the
lease (``zrem`` again: a process that finds its lease gone has been replaced, and records
nothing) and, in the same step, records what happened and adds the next step, if any: a
process that dies at any point leaves either the claimed step or its lease due, never
neither.

The claiming process rebuilds the signed request: each provider registers a builder
(`register_builder`, at import of its webhooks module) that makes the request from the
engine, the job and the base URLs of the request that asked for the webhook; the engine
lends the sender a `JobAccess` (find a job by id, tell whether it is done).
Attempts are kept per delivery in ``webhooks:a:{key}`` (a list, JSON), and every delivery
in order in ``webhooks:log``; those not yet over in ``webhooks:open``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, NamedTuple

from emulator.core.deliveries import Attempt, Delivery, next_step
from emulator.core.store import Op, Store, StoreUnavailable, as_text, settled

P = "webhooks:"
DUE = P + "due"
LOG = P + "log"
OPEN = P + "open"  # the keys of deliveries not yet over
#: how often a delivery waiting for its job looks at the job again (seconds)
WAITING_POLL = 0.1

#: (engine, job, base URLs) -> the signed request's body and headers
SharedBuilder = Callable[[Any, Any, dict[str, str]], tuple[bytes, dict[str, str]]]
#: posts a request: (url, body, headers) -> the attempt
Send = Callable[[str, bytes, dict[str, str]], Attempt]
_BUILDERS: dict[str, SharedBuilder] = {}


def register_builder(provider: str, build: SharedBuilder) -> None:
    """How ``provider``'s deliveries are rebuilt in whichever process attempts them."""
    _BUILDERS[provider] = build


class JobAccess(NamedTuple):
    """What the engine lends the sender to rebuild a delivery from its record."""

    context: Any  # passed to the provider's builder: the engine
    find: Callable[[str, str], Any]  # (job id, owner) -> the job, or None once it is gone
    is_done: Callable[[Any], bool]


class Claim(NamedTuple):
    """A webhook step claimed in the store by one process, under a lease no other may take."""

    key: str
    generation: int  # the lease's: the claimed step's plus one
    record: dict[str, str]
    token: str  # the claimer's own: a process that failed to claim never names this lease

    @property
    def lease(self) -> str:
        return f"{self.key}#{self.generation}~{self.token}"


class SharedDeliveries:
    """The store's side of shared deliveries: records, claims, leases and listings."""

    def __init__(self, store: Store, *, lease: float) -> None:
        self.store = store
        self.lease = lease

    def add(
        self,
        delivery: Delivery,
        job: str,
        bases: dict[str, str],
        schedule: tuple[float, ...],
        fault: str | None,
        late: float,
        due: float | None,
    ) -> str:
        """Record a new delivery of job ``job``, its first step due at ``due`` (None:
        never, it was refused); its key."""
        record = {
            "provider": delivery.provider,
            "job_id": delivery.job_id,
            "job": job,
            "owner": delivery.owner,
            "url": delivery.url,
            "bases": json.dumps(bases),
            "schedule": json.dumps(schedule),
            "fault": fault or "",
            "late": late,
            "state": delivery.state,
            "reason": delivery.reason,
            "tries": 0,
        }
        key = secrets.token_hex(8)
        ops: list[Op] = [("hset", P + f"d:{key}", record), ("rpush", LOG, key)]
        if due is not None:
            ops += [("zadd", DUE, f"{key}#0", due), ("zadd", OPEN, key, due)]
        self.store.batch(ops)
        return key

    def trim(self, listed: int) -> None:
        """Keep the newest ``listed`` deliveries in the log; the records of the older ones go
        with them, unless they are still under way (then only their place in the log)."""
        excess = int(self.store.do("llen", LOG)) - listed
        for _ in range(max(0, min(excess, 64))):  # a bounded share of the work per call
            popped = self.store.do("lpop", LOG)  # each key popped by one process only
            if popped is None:
                return
            key = popped.decode()
            if self.store.do("zscore", OPEN, key) is None:
                self.store.do("delete", P + f"d:{key}", P + f"a:{key}")

    def due(self, limit: int) -> list[str]:
        return list(self.store.do("zrangebyscore", DUE, time.time(), limit))

    def claim(self, step: str) -> Claim | None:
        """Take ``step`` (``key#generation``) and lease it; None if another process did."""
        key, _, generation = step.rpartition("#")  # a lease run out: ``#generation~token``
        claim = Claim(key, int(generation.partition("~")[0]) + 1, {}, secrets.token_hex(4))
        try:
            taken = self.store.guarded(
                ("zrem", DUE, step),
                [("zadd", DUE, claim.lease, time.time() + self.lease), ("hgetall", P + f"d:{key}")],
            )
        except StoreUnavailable:
            # Perhaps taken all the same, the answer lost: a lease no one works on would
            # hold the delivery back for the whole lease. Given back, if it was taken.
            self.release(claim)
            raise
        if taken is None:
            return None
        if not taken[1]:  # cleared meanwhile
            self.store.do("zrem", DUE, claim.lease)
            return None
        return claim._replace(record=as_text(taken[1], "replace"))

    def finish(
        self,
        claim: Claim,
        changes: dict[str, Any],
        attempts: Sequence[Any] = (),
        due: float | None = None,
    ) -> bool:
        """End a claimed step: record ``changes`` and ``attempts``, and the next step due at
        ``due`` (None: the delivery is over). False if the lease was lost meanwhile."""
        ops: list[Op] = [("hset", P + f"d:{claim.key}", changes)] if changes else []
        if attempts:
            texts = [json.dumps(asdict(attempt)) for attempt in attempts]
            ops.append(("rpush", P + f"a:{claim.key}", *texts))
        if due is not None:
            ops.append(("zadd", DUE, f"{claim.key}#{claim.generation + 1}", due))
        else:
            ops.append(("zrem", OPEN, claim.key))
        # Tried again while the store fails (else the step waits out its lease: 50 s by
        # default); a try that went through, its answer lost, took the lease, and the next
        # records nothing.
        return settled(lambda: self.store.guarded(("zrem", DUE, claim.lease), ops)) is not None

    def release(self, claim: Claim) -> bool:
        """Give a claimed step back, due now, nothing recorded: what a step that sent
        nothing does when the store fails it, rather than wait out its lease."""
        return self.finish(claim, {}, due=time.time())

    def step(self, claim: Claim, access: JobAccess, send: Send, time_scale: float) -> None:
        """Wait for the job, or make one attempt of a claimed delivery."""
        record = claim.record
        waiting = record["state"] == "waiting"
        try:
            job = access.find(record["job"], record["owner"])
            unfinished = waiting and job is not None and not access.is_done(job)
        except StoreUnavailable:  # the store's failure, not the delivery's: tried again
            self.release(claim)
            return
        if job is None:
            self.finish(claim, {"state": "failed", "reason": "the job is gone"})
            return
        changes: dict[str, Any] = {}
        if waiting:
            if unfinished:
                self.finish(claim, {}, due=time.time() + WAITING_POLL)
                return
            changes["state"] = "pending"
            if record["fault"] == "webhook_late":
                self.finish(claim, changes, due=time.time() + float(record["late"]))
                return
        build = _BUILDERS.get(record["provider"])
        try:
            if build is None:
                raise LookupError(f"no builder registered for {record['provider']}")
            body, headers = build(access.context, job, json.loads(record["bases"]))
        except StoreUnavailable:  # the builder reads the store (the job's output, secrets)
            self.release(claim)
            return
        except Exception as error:  # a job that vanished (reset, expiry) mid-way
            reason = f"could not build the delivery: {error}"
            self.finish(claim, {"state": "failed", "reason": reason})
            return
        changes |= {"body": body, "headers": json.dumps(headers)}
        self._attempt(claim, changes, lambda: send(record["url"], body, headers), time_scale)

    def _attempt(
        self,
        claim: Claim,
        changes: dict[str, Any],
        post: Callable[[], Attempt],
        time_scale: float,
    ) -> None:
        """One attempt (two for webhook_twice, none for webhook_fail), then the next step."""
        fault = claim.record["fault"]
        if fault == "webhook_fail":
            attempt = Attempt(time.time(), None, "dropped: a staged webhook_fail fault", 0.0)
        else:
            attempt = post()
        attempts, tries = [attempt], int(claim.record["tries"]) + 1
        schedule = tuple(json.loads(claim.record["schedule"]))
        step = next_step(tries, attempt, schedule)
        changes["tries"] = tries
        if step == "delivered":
            if fault == "webhook_twice":
                attempts.append(post())  # the duplicate
            self.finish(claim, changes | {"state": "delivered"}, attempts)
        elif step == "failed":
            failed = {"state": "failed", "reason": "no attempt succeeded"}
            self.finish(claim, changes | failed, attempts)
        else:
            due = time.time() + schedule[int(step)] * time_scale
            self.finish(claim, changes, attempts, due)

    def open_count(self) -> int:
        """How many deliveries are not over (waiting, pending, or under way)."""
        return int(self.store.do("zcard", OPEN))

    def records(self) -> list[tuple[dict[str, str], list[dict[str, Any]]]]:
        """Every delivery's record and attempts, oldest first (two round trips)."""
        keys = [key.decode() for key in self.store.do("lrange", LOG, 0, -1)]
        if not keys:
            return []
        ops: list[Op] = []
        for key in keys:
            ops += [("hgetall", P + f"d:{key}"), ("lrange", P + f"a:{key}", 0, -1)]
        found = self.store.batch(ops)
        return [
            (as_text(record, "replace"), [json.loads(text) for text in attempts])
            for record, attempts in zip(found[::2], found[1::2], strict=True)
            if record
        ]

    def clear(self) -> None:
        keys = [key.decode() for key in self.store.do("lrange", LOG, 0, -1)]
        doomed = [P + f"{kind}:{key}" for key in keys for kind in ("d", "a")]
        self.store.do("delete", LOG, DUE, OPEN, *doomed)
