"""Webhook deliveries in a shared store: two senders on one store deliver each webhook
once, whichever claims it, and a delivery whose sender stopped mid-attempt is made by the
other after the lease. A loopback receiver counts what arrives."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from emulator.core import store as store_module
from emulator.core.deliveries import Delivery
from emulator.core.shared_webhooks import JobAccess, SharedDeliveries, register_builder
from emulator.core.store import Op, Store, StoreUnavailable
from emulator.core.webhooks import WebhookSender
from tests import shared_stores, webhook_receiver
from tests.bounded import eventually
from tests.webhook_receiver import Receiver

stores = shared_stores.stores  # the fixture: every test on memory, SQLite and Redis
session_redis = shared_stores.session_redis
receiver = webhook_receiver.receiver
Pair = tuple[Store, Store]


@dataclass
class FakeJob:
    """A job as the builder sees it: what a real engine's `find` would hand back."""

    id: str
    done: bool = True


def _build(context: object, job: FakeJob, bases: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return json.dumps({"job": job.id, "cdn": bases["cdn"]}).encode(), {"X-Job": job.id}


register_builder("test-shared", _build)


@pytest.fixture
def senders(stores: Pair) -> Iterator[Callable[..., WebhookSender]]:
    made: list[WebhookSender] = []

    def make(store: Store, **options: object) -> WebhookSender:
        made.append(WebhookSender(store=store, time_scale=0.01, **options))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for sender in made:
        sender.close()


def _access(jobs: dict[str, FakeJob]) -> JobAccess:
    return JobAccess(None, lambda job_id, owner: jobs.get(job_id), lambda job: job.done)


def _watch(
    sender: WebhookSender, job: str, url: str, provider: str = "test-shared", **options: object
) -> None:
    sender.watch(
        provider,
        f"delivery-{job}",
        url,
        is_done=lambda: False,  # never asked: a shared delivery is rebuilt from its record
        build=lambda: (b"", {}),
        schedule=(1.0, 1.0),
        owner=f"key{len(job) % 3}",
        job_ref=job,
        bases={"cdn": "http://cdn.test"},
        **options,  # type: ignore[arg-type]
    )


def test_each_delivery_is_made_once_by_either(
    stores: Pair, senders: Callable[..., WebhookSender], receiver: Callable[..., Receiver]
) -> None:
    target = receiver(statuses=(500,))  # the first attempt fails: someone retries it
    jobs = {f"j{n}": FakeJob(f"j{n}", done=n % 2 == 0) for n in range(16)}
    first, second = senders(stores[0]), senders(stores[1])
    for sender in (first, second):
        sender.attach(_access(jobs))
    for n, job in enumerate(jobs):
        _watch((first, second)[n % 2], job, target.url)
    for job in jobs.values():
        job.done = True  # the rest finish now: their deliveries were waiting
    assert first.wait(10) and second.wait(10)
    counts = Counter(target.jobs_received())
    assert sorted(counts) == sorted(jobs)
    assert sorted(counts.values()) == [1] * (len(jobs) - 1) + [2]  # one retry, no duplicate
    listed = first.deliveries
    assert listed == second.deliveries
    assert [d.state for d in listed] == ["delivered"] * len(jobs)
    assert sum(len(d.attempts) for d in listed) == len(jobs) + 1
    assert all(d.headers["X-Job"] == d.job_id.removeprefix("delivery-") for d in listed)
    assert json.loads(listed[0].body)["cdn"] == "http://cdn.test"


def test_a_delivery_abandoned_mid_attempt_is_made_after_the_lease(
    stores: Pair, senders: Callable[..., WebhookSender], receiver: Callable[..., Receiver]
) -> None:
    target = receiver(statuses=(500,), hold=True)
    jobs = {"j1": FakeJob("j1")}
    first = senders(stores[0], lease=0.2, timeout=5.0)
    first.attach(_access(jobs))
    _watch(first, "j1", target.url)
    assert target.held.wait(5)  # the first attempt is under way, and stuck
    first.close()  # its worker is gone (its stuck attempt lingers)
    second = senders(stores[1], lease=0.2, timeout=5.0)
    second.attach(_access(jobs))
    assert second.wait(10)
    (delivery,) = second.deliveries
    assert delivery.state == "delivered" and len(delivery.attempts) == 1
    target.release.set()  # the stuck attempt ends (500): its lease is gone, nothing is kept
    assert eventually(lambda: target.answered >= 2, 5)
    time.sleep(0.1)  # for the stuck attempt to end: it must record nothing
    (delivery,) = second.deliveries
    assert delivery.state == "delivered" and len(delivery.attempts) == 1
    assert stores[0].do("zcard", "webhooks:due") == 0


@pytest.mark.parametrize("fatal", [1, 2, 3, 4])
def test_a_process_dying_between_round_trips_leaves_its_step_due(
    stores: Pair, fatal: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whenever a claiming process dies (before any of its round trips to the store), the
    step it claimed, its lease or the step after it is still due: no delivery is lost."""
    monkeypatch.setattr(store_module, "SETTLE", 0.0)  # a dead process tries nothing again
    store = stores[0]
    deliveries = SharedDeliveries(store, lease=30.0)
    delivery = Delivery("test-shared", "d1", "http://x.test")
    key = deliveries.add(delivery, "j1", {}, (1.0,), None, 0.0, due=0.0)
    dying = SharedDeliveries(shared_stores.Dying(store, fatal), lease=30.0)
    try:
        claim = dying.claim(f"{key}#0")
        assert claim is not None
        dying.finish(claim, {"tries": 1}, due=time.time() + 60)
    except StoreUnavailable:
        pass
    due = store.do("zrange", "webhooks:due", 0, -1)
    assert len(due) == 1 and due[0].startswith(key + "#"), due


@pytest.mark.parametrize(
    ("fault", "state", "attempts", "received"),
    [("webhook_fail", "failed", 3, 0), ("webhook_twice", "delivered", 2, 2)],
)
def test_faults_hold_across_senders(
    stores: Pair,
    senders: Callable[..., WebhookSender],
    receiver: Callable[..., Receiver],
    fault: str,
    state: str,
    attempts: int,
    received: int,
) -> None:
    target = receiver()
    jobs = {"j1": FakeJob("j1")}
    first, second = senders(stores[0]), senders(stores[1])
    second.attach(_access(jobs))
    _watch(first, "j1", target.url, fault=fault)
    assert second.wait(10)
    (delivery,) = first.deliveries
    assert (delivery.state, len(delivery.attempts)) == (state, attempts)
    assert len(target.bodies) == received


def test_a_late_delivery_waits_then_arrives(
    stores: Pair, senders: Callable[..., WebhookSender], receiver: Callable[..., Receiver]
) -> None:
    target = receiver()
    first = senders(stores[0])
    first.attach(_access({"j1": FakeJob("j1")}))
    _watch(first, "j1", target.url, fault="webhook_late", late=0.2)
    time.sleep(0.1)
    assert target.bodies == []  # not yet: it is late
    assert first.wait(5)
    assert target.jobs_received() == ["j1"]


def test_refused_and_vanished_deliveries_are_recorded(
    stores: Pair, senders: Callable[..., WebhookSender]
) -> None:
    first, second = senders(stores[0]), senders(stores[1])
    second.attach(_access({}))
    _watch(first, "j1", "http://10.1.2.3/hook")  # not loopback
    _watch(first, "gone", "http://127.0.0.1:9/hook")
    assert second.wait(5)
    refused, gone = second.deliveries
    assert (refused.state, refused.reason) == ("refused", "not a loopback address")
    assert (gone.state, gone.reason) == ("failed", "the job is gone")
    first.clear()
    assert second.deliveries == []


def test_the_listing_keeps_the_newest_deliveries_and_forgets_the_older_records(
    stores: Pair, senders: Callable[..., WebhookSender], monkeypatch: pytest.MonkeyPatch
) -> None:
    from emulator.core import webhooks

    monkeypatch.setattr(webhooks, "MAX_LISTED", 5)
    sender = senders(stores[0])  # not attached: nothing is delivered, records are only kept
    for n in range(8):
        _watch(sender, f"job{n}", "http://127.0.0.1:9/refused-is-fine")
    listed = [delivery.job_id for delivery in senders(stores[1]).deliveries]
    assert listed == [f"delivery-job{n}" for n in range(3, 8)]


class FailingAccess:
    """A job lookup whose first ``find`` (``at="find"``) or first build (``at="build"``)
    meets the store's error."""

    def __init__(self, at: str) -> None:
        self.at, self.failed = at, False
        self.access = JobAccess(None, self.find, lambda job: True)

    def find(self, job_id: str, owner: str) -> FakeJob:
        if self.at == "find" and not self.failed:
            self.failed = True
            raise StoreUnavailable("one slow answer")
        return FakeJob(job_id)


def _build_failing_once(
    context: object, job: FakeJob, bases: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    if not _BUILD_FAILED:
        _BUILD_FAILED.append(True)
        raise StoreUnavailable("one slow answer")
    return _build(context, job, bases)


_BUILD_FAILED: list[bool] = []
register_builder("test-shared-build", _build_failing_once)


@pytest.mark.parametrize("at", ["find", "build"])
def test_a_store_error_before_the_post_gives_the_step_back_at_once(
    stores: Pair, senders: Callable[..., WebhookSender], receiver: Callable[..., Receiver], at: str
) -> None:
    """One slow answer from the store as the delivery reads the job: the step is taken
    again at once, not after its lease (50 s), nor failed for good."""
    _BUILD_FAILED.clear()
    target = receiver()
    sender = senders(stores[0])  # the default lease: 2 × the timeout + 30 s
    sender.attach(FailingAccess(at).access)
    _watch(
        sender, "j1", target.url, provider="test-shared-build" if at == "build" else "test-shared"
    )
    assert sender.wait(10)
    assert all(delivery.state == "delivered" for delivery in sender.deliveries)
    assert target.jobs_received() == ["j1"]


def _step(generation: int) -> Callable[[list[Op]], bool]:
    """Picks the round trip guarded by the due step of ``generation``: 0, the claim of a
    delivery's first step; 1, the end of its attempt (its lease)."""

    def picks(ops: list[Op]) -> bool:
        guard = ops[0]
        if guard[:2] != ("zrem", "webhooks:due"):
            return False
        return str(guard[2]).rpartition("#")[2].partition("~")[0] == str(generation)

    return picks


@pytest.mark.parametrize("lost", [False, True], ids=["refused", "answer lost"])
@pytest.mark.parametrize("generation", [0, 1], ids=["claim", "finish"])
def test_a_store_error_as_a_step_is_claimed_or_ended_holds_nothing_back(
    stores: Pair,
    senders: Callable[..., WebhookSender],
    receiver: Callable[..., Receiver],
    generation: int,
    lost: bool,
) -> None:
    """A claim or the end of the attempt meets one slow answer, which went through or not:
    the webhook arrives once, and at once, not after the lease."""
    target = receiver()
    sender = senders(shared_stores.Failing(stores[0], _step(generation), lost=lost))
    sender.attach(_access({"j1": FakeJob("j1")}))
    _watch(sender, "j1", target.url)
    assert sender.wait(10)
    (delivery,) = sender.deliveries
    assert (delivery.state, len(delivery.attempts)) == ("delivered", 1)
    assert target.jobs_received() == ["j1"]


def test_a_claim_that_failed_gives_back_no_lease_another_process_holds(stores: Pair) -> None:
    """Two processes claim one step; the loser's claim meets a store error after the
    winner's went through: what it gives back is nothing of the winner's (a lease named by
    the step alone was the winner's too: its webhook was sent again, unrecorded)."""
    deliveries = SharedDeliveries(stores[0], lease=30.0)
    key = deliveries.add(
        Delivery("test-shared", "d1", "http://x.test"), "j1", {}, (1.0,), None, 0.0, due=0.0
    )
    winner = deliveries.claim(f"{key}#0")
    assert winner is not None
    loser = SharedDeliveries(shared_stores.Failing(stores[1], lambda ops: True), lease=30.0)
    with pytest.raises(StoreUnavailable):
        loser.claim(f"{key}#0")
    assert stores[0].do("zrange", "webhooks:due", 0, -1) == [winner.lease]
    assert deliveries.finish(winner, {"state": "delivered"})


def test_a_step_claimed_as_its_sender_closes_is_due_again_at_once(
    stores: Pair, senders: Callable[..., WebhookSender], receiver: Callable[..., Receiver]
) -> None:
    """A graceful stop between a claim and its attempt kept the claim: the webhook waited
    out its lease (50 s) before another worker sent it. It is given back."""
    target = receiver()
    jobs = {"j1": FakeJob("j1")}
    first = senders(stores[0])
    claim = first._shared.claim  # type: ignore[union-attr]

    def claimed_as_it_closes(step: object) -> object:
        got = claim(step)  # type: ignore[arg-type]
        first._stopped.set()  # the process is told to stop meanwhile
        return got

    first._shared.claim = claimed_as_it_closes  # type: ignore[union-attr, method-assign]
    _watch(first, "j1", target.url)
    first.attach(_access(jobs))
    assert eventually(lambda: first._stopped.is_set(), 20)
    first.close()
    second = senders(stores[1])  # its lease is the default, 50 s: it must not be waited out
    second.attach(_access(jobs))
    assert eventually(lambda: target.jobs_received() == ["j1"], 20)  # the lease: 50 s
