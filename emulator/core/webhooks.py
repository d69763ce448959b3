"""Webhook delivery: watched jobs, signed POSTs, retries, and the record of it all.

A provider registers a job with the URL to call and a function that builds the signed
request once the job is done; this module does the rest from its own threads, so request
handling never waits on a receiver. Attempts run on a bounded pool of workers, at most
`PER_KEY` at a time for one key, each bounded by a timeout as a whole (webhook_requests.py):
a key whose receivers are slow or silent delays its own deliveries, not another key's.

Targets are loopback addresses only unless ``EmulatorConfig.webhook_targets = "any"``, and
never the emulator itself (webhook_targets.py).

With a shared `Store`, deliveries are records in the store instead, claimed and attempted
by any worker on it (see `emulator.core.shared_webhooks`): the engine lends the sender a
`JobAccess` (`attach`), each provider registers how its requests are rebuilt, and every
worker's sender thread looks at the due deliveries every `SHARED_POLL` seconds.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from emulator.core.deliveries import Attempt as Attempt  # re-exported: public names
from emulator.core.deliveries import Delivery as Delivery
from emulator.core.deliveries import from_record, next_step
from emulator.core.excerpts import excerpt
from emulator.core.shared_webhooks import Claim, JobAccess, SharedDeliveries
from emulator.core.store import Store, StoreUnavailable
from emulator.core.webhook_requests import post
from emulator.core.webhook_targets import NOT_LOOPBACK, refusal

#: Builds the body and headers of a delivery, when the job is done.
Builder = Callable[[], tuple[bytes, dict[str, str]]]
TICK = 0.02  # how often the sender looks at its jobs and its retries
logger = logging.getLogger("emulator.webhooks")
WORKERS = 8  # attempts under way at once, in all
PER_KEY = 2  # attempts under way at once, for one key (in each process)
SHARED_POLL = 0.1  # how often a sender on a shared store looks for due deliveries
#: deliveries listed at most (the oldest leave the listing; one still under way goes on)
MAX_LISTED = 10_000
#: what a delivery says it is (fal's and WaveSpeed's own are not published)
USER_AGENT = "provider-emulator-webhooks"


def encode_body(payload: Any, *, compact: bool = False, sort_keys: bool = False) -> bytes:
    """A delivery's JSON body, as ``json.dumps`` writes it; ``compact``, without spaces and
    in UTF-8, as it does not (the harness signs one such, so that a receiver that checks
    the signature of the JSON parsed and written again, not of the bytes, is caught)."""
    separators = (",", ":") if compact else None
    text = json.dumps(payload, sort_keys=sort_keys, separators=separators, ensure_ascii=not compact)
    return text.encode()


@dataclass(eq=False)
class _Watch:
    """A delivery waited on by the webhook thread: its job, its schedule and its fault."""

    delivery: Delivery
    is_done: Callable[[], bool]
    build: Builder
    schedule: tuple[float, ...]  # the waits between attempts
    due: float = 0.0  # monotonic time of the next attempt, once pending
    fault: str | None = None  # webhook_fail, webhook_twice or webhook_late
    late: float = 0.0  # seconds a late delivery waits before its first attempt
    busy: bool = False  # an attempt is under way


class WebhookSender:
    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        any_target: bool = False,
        timeout: float = 10.0,
        store: Store | None = None,
        lease: float | None = None,
    ) -> None:
        """With a ``store``, deliveries are shared (see the module's notes); an attempt
        whose worker vanished is tried again after ``lease`` seconds (unless given: long
        enough for building the request and two posts, as a ``webhook_twice`` step makes,
        so that a slow but living worker is never doubled by another)."""
        self.time_scale = time_scale
        self.any_target = any_target
        self.timeout = timeout
        #: ports the emulator itself listens on (a server adds its own): never a target
        self.own_ports: set[int] = set()
        self._deliveries: list[Delivery] = []
        self._shared = (
            SharedDeliveries(store, lease=lease if lease is not None else 2 * timeout + 30.0)
            if store is not None
            else None
        )
        self._access: JobAccess | None = None
        self._watches: list[_Watch] = []
        self._busy: dict[str, int] = {}  # attempts under way, by key
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery, oldest first: this process's own, or with a shared store,
        everyone's as the store has them now."""
        if self._shared is None:
            return self._deliveries
        return [from_record(record, attempts) for record, attempts in self._shared.records()]

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be a target, or None when it may."""
        return refusal(url, any_target=self.any_target, own_ports=self.own_ports)

    def watch(
        self,
        provider: str,
        job_id: str,
        url: str,
        *,
        is_done: Callable[[], bool],
        build: Builder,
        schedule: tuple[float, ...],
        fault: str | None = None,
        late: float = 0.0,
        owner: str = "",
        job_ref: str | None = None,
        bases: dict[str, str] | None = None,
    ) -> Delivery:
        """Deliver ``build()`` to ``url`` once ``is_done()``; a webhook ``fault`` drops every
        attempt, sends the delivery twice, or sends it ``late`` seconds late.

        With a shared store the closures stay unused: whichever process attempts the
        delivery finds job ``job_ref`` (``job_id`` unless given) and has the provider's
        registered builder make the request, with ``bases`` (the base URLs of the request
        that asked for the webhook); the `Delivery` returned is a snapshot."""
        delivery = Delivery(provider, job_id, url, owner)
        if self._shared is not None:
            refusal = self.refusal(url)
            if refusal is not None:
                _refuse(delivery, refusal)
            due = None if refusal else time.time()
            self._shared.add(delivery, job_ref or job_id, bases or {}, schedule, fault, late, due)
            self._shared.trim(MAX_LISTED)
            return delivery
        with self._lock:
            self._deliveries.append(delivery)
            if len(self._deliveries) > MAX_LISTED + MAX_LISTED // 10:  # trimmed now and then
                del self._deliveries[:-MAX_LISTED]
            refusal = self.refusal(url)
            if refusal is not None:
                _refuse(delivery, refusal)
                return delivery
            self._watches.append(_Watch(delivery, is_done, build, schedule, 0.0, fault, late))
            self._start_thread()
        self._wake.set()
        return delivery

    def _start_thread(self) -> None:
        if self._thread is None:
            self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="webhook")
            target = self._run if self._shared is None else self._run_shared
            self._thread = threading.Thread(target=target, name="webhooks", daemon=True)
            self._thread.start()

    def attach(self, access: JobAccess, *, deliver: bool = True) -> None:
        """Lend the sender the engine's jobs; with a shared store, start taking this
        process's share of every worker's deliveries (unless not to ``deliver``)."""
        self._access = access
        if self._shared is not None and deliver:
            with self._lock:
                self._start_thread()

    def _run(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                idle = [watch for watch in self._watches if not watch.busy]
            for watch in idle:
                if self._ready(watch):
                    self._start(watch)
            self._wake.wait(TICK)
            self._wake.clear()

    def _run_shared(self) -> None:
        """Claim due deliveries, at most as many as there are free workers, and attempt
        them; one round trip per look when there is nothing to do."""
        assert self._shared is not None and self._pool is not None
        while not self._stopped.is_set():
            with self._lock:
                free = WORKERS - sum(self._busy.values())
            try:
                due = self._shared.due(free) if free > 0 else []
                for step in due:
                    claim = self._shared.claim(step)
                    if claim is not None:
                        self._take(claim)
            except StoreUnavailable:
                pass  # the store is down: look again at the next tick
            except Exception:  # a bug must not end this process's deliveries for good
                logger.exception("webhook delivery: unexpected error; trying again")
            self._stopped.wait(SHARED_POLL)

    def _take(self, claim: Claim) -> None:
        """Attempt a claimed step, or give it back, due again now, for this process or
        another: while this key has its attempts under way here, or this sender is closing
        (kept, it would wait out its lease, long after its worker stopped)."""
        assert self._shared is not None and self._pool is not None
        owner = claim.record["owner"]
        with self._lock:
            free = self._busy.get(owner, 0) < PER_KEY and not self._stopped.is_set()
            if free:
                self._busy[owner] = self._busy.get(owner, 0) + 1
        if free:
            try:
                self._pool.submit(self._attempt_shared, claim)
                return
            except RuntimeError:  # closed meanwhile: the pool takes no more
                self._unbusy(owner)
        self._shared.release(claim)

    def _unbusy(self, owner: str) -> None:
        with self._lock:
            self._busy[owner] -= 1
            if not self._busy[owner]:
                del self._busy[owner]

    def _attempt_shared(self, claim: Claim) -> None:
        assert self._shared is not None
        assert self._access is not None
        try:
            self._shared.step(claim, self._access, self._send, self.time_scale)
        except StoreUnavailable:
            pass  # the lease stays: the step is tried again when it runs out
        except Exception as error:  # one bad delivery must not stop the others
            failed = {"state": "failed", "reason": f"{type(error).__name__}: {error}"}
            self._shared.finish(claim, failed)
        finally:
            self._unbusy(claim.record["owner"])

    def _ready(self, watch: _Watch) -> bool:
        """Whether an attempt of ``watch`` is due (and its key has a worker free)."""
        delivery = watch.delivery
        if delivery.state == "waiting":
            try:
                done = watch.is_done()
            except Exception as error:  # a job that vanished (reset, expiry) mid-way
                self._finish(watch, "failed", f"{type(error).__name__}: {error}")
                return False
            if not done:
                return False
            delivery.state = "pending"
            if watch.fault == "webhook_late":
                watch.due = time.monotonic() + watch.late
        return time.monotonic() >= watch.due and self._busy.get(delivery.owner, 0) < PER_KEY

    def _start(self, watch: _Watch) -> None:
        owner = watch.delivery.owner
        with self._lock:
            watch.busy = True
            self._busy[owner] = self._busy.get(owner, 0) + 1
        assert self._pool is not None
        self._pool.submit(self._attempt, watch)

    def _attempt(self, watch: _Watch) -> None:
        try:
            self._advance(watch)
        except Exception as error:  # one bad delivery must not stop the others
            self._finish(watch, "failed", f"{type(error).__name__}: {error}")
        finally:
            watch.busy = False
            self._unbusy(watch.delivery.owner)
            self._wake.set()

    def _advance(self, watch: _Watch) -> None:
        delivery = watch.delivery
        try:
            # Built (and signed) afresh for each attempt: a retry hours later carries a
            # timestamp a receiver's freshness check accepts.
            delivery.body, delivery.headers = watch.build()
        except Exception as error:  # a job that vanished (reset, expiry) mid-way
            self._finish(watch, "failed", f"could not build the delivery: {error}")
            return
        if watch.fault == "webhook_fail":
            attempt = Attempt(time.time(), None, "dropped: a staged webhook_fail fault", 0.0)
        else:
            attempt = self._post(delivery)
        delivery.attempts.append(attempt)
        step = next_step(len(delivery.attempts), attempt, watch.schedule)
        if step == "delivered":
            if watch.fault == "webhook_twice":
                delivery.attempts.append(self._post(delivery))  # the duplicate
            self._finish(watch, "delivered")
        elif step == "failed":
            self._finish(watch, "failed", "no attempt succeeded")
        else:
            watch.due = time.monotonic() + watch.schedule[int(step)] * self.time_scale

    def _post(self, delivery: Delivery) -> Attempt:
        return self._send(delivery.url, delivery.body, delivery.headers)

    def _send(self, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
        started, clock = time.time(), time.perf_counter()
        try:
            status = post(url, body, {"User-Agent": USER_AGENT, **headers}, self.timeout)
        except (OSError, ValueError, HTTPException) as error:  # refused, timed out, no answer
            return Attempt(
                started, None, f"{type(error).__name__}: {error}", time.perf_counter() - clock
            )
        return Attempt(started, status, None, time.perf_counter() - clock)

    def _finish(self, watch: _Watch, state: str, reason: str = "") -> None:
        watch.delivery.state, watch.delivery.reason = state, reason
        with self._lock:
            if watch in self._watches:  # a reset may have cleared it meanwhile
                self._watches.remove(watch)

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until nothing is waiting or pending (True), or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._shared is not None:
                if not self._shared.open_count():
                    return True
            else:
                with self._lock:
                    if not self._watches:
                        return True
            time.sleep(TICK)
        return False

    def clear(self) -> None:
        if self._shared is not None:
            self._shared.clear()
        with self._lock:
            self._watches.clear()
            self._deliveries.clear()

    def close(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            # Attempts under way end by their own timeout; nothing waits for them here.
            self._pool.shutdown(wait=False, cancel_futures=True)


#: the most characters of a webhook's URL a log line shows: a URL may run to thousands (a
#: request line's limit), written whole on every refusal; /_emulator/webhooks has it whole
LOGGED_URL_CHARS = 200


def _refuse(delivery: Delivery, refusal: str) -> None:
    """Mark ``delivery`` refused, and say so where the server's operator reads: its job
    was accepted (200), and a client waiting for the webhook would otherwise learn why only
    from ``/_emulator/webhooks``."""
    delivery.state, delivery.reason = "refused", refusal
    hint = " (--webhook-targets any allows it)" if refusal == NOT_LOOPBACK else ""
    url = excerpt(delivery.url, LOGGED_URL_CHARS)
    logger.warning("%s webhook to %s refused: %s%s", delivery.provider, url, refusal, hint)
