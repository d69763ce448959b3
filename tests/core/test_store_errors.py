"""One store error (one slow answer from Redis, and the client's break after it) in the
middle of shared work leaves nothing wrong once it is over: nothing counted that is not
kept, no change in force in one process and not another, nothing held until a long lease
runs out, no request answered 503 that was accepted. Each on memory, SQLite and Redis
(webhook deliveries: `test_shared_webhooks`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.core.faults import FaultBook
from emulator.core.jobs import Budget
from emulator.core.record import RequestRecord
from emulator.core.shared_jobs import SharedJobStore
from emulator.core.store import StoreUnavailable
from emulator.core.stored_files import StorageError
from emulator.media.cache import MediaStore
from emulator.media.spec import MediaSpec
from tests import shared_stores
from tests.core.shared_storage import Pair, storage_on, upload_started
from tests.core.test_shared_jobs import ENDPOINT, _job
from tests.core.test_shared_record import entry
from tests.shared_stores import Failing, nth, with_op

stores = shared_stores.stores  # the fixture: every test on memory, SQLite and Redis
session_redis = shared_stores.session_redis

REQUEST = {"provider": "fal", "endpoint": "acme/image", "method": "POST", "path": "/x", "key": "k"}
LOST = pytest.mark.parametrize("lost", [False, True], ids=["refused", "answer lost"])


@pytest.mark.parametrize(("change", "op"), [("add", "hset"), ("remove", "hdel")])
def test_a_rule_changed_as_the_store_fails_is_in_force_everywhere_or_nowhere(
    stores: Pair, change: str, op: str
) -> None:
    """The change went through, its answer lost: every process sees it (a removed rule
    went on firing in every process that had read the rules, its change never announced)."""
    first = FaultBook(1, store=Failing(stores[0], with_op(op, "faults:rules"), lost=True))
    second = FaultBook(1, store=stores[1])
    rule = first.add({"effect": "fail"}) if change == "remove" else None
    assert (second.pick("job", **REQUEST) is not None) == (change == "remove")  # read: cached
    with pytest.raises(StoreUnavailable):
        first.add({"effect": "fail"}) if rule is None else first.remove(rule.id)
    assert (second.pick("job", **REQUEST) is not None) == (change == "add")
    assert len(second.rules) == len(first.rules) == (change == "add")


@LOST
def test_an_upload_as_the_store_fails_is_kept_and_counted_or_neither(
    stores: Pair, tmp_path: Path, lost: bool
) -> None:
    """(Counted, then kept: a store error between the two left its bytes counted for a
    file never kept, for good, or a file kept but uncounted.)"""
    failing = Failing(stores[0], with_op("hset", "files:meta:"), lost=lost, then=1)
    storage = storage_on(failing, tmp_path, max_owner_bytes=1000)
    with pytest.raises(StoreUnavailable):
        storage.put(b"x" * 400, "text/plain", "a.txt", owner="k")
    kept = stores[1].do("zcard", "files:index")
    assert kept == lost
    assert int(stores[1].do("get", "files:owner:k") or 0) == 400 * kept
    assert int(stores[1].do("get", "files:total") or 0) == 400 * kept


@pytest.mark.parametrize(
    ("step", "lost"),
    [("claim", True), ("read again", False)],
    ids=["claim answer lost", "read after the claim refused"],
)
def test_a_completion_that_meets_a_store_error_can_be_retried_at_once(
    stores: Pair, tmp_path: Path, step: str, lost: bool
) -> None:
    """Not after the completion's lease (30 s): its retry completes the upload."""
    first, second, upload = upload_started(stores, tmp_path)
    tag = first.put_part(upload, 1, b"part")
    reads = nth(lambda ops: ops[0][:1] == ("hgetall",) and "multipart:" in str(ops[0][1]), 2)
    picks = {
        "claim": with_op("zadd", "files:completing"),
        "read again": reads,  # the first read, before the claim, goes through
    }
    failing = Failing(stores[0], picks[step], lost=lost, then=1)
    with pytest.raises(StoreUnavailable):
        storage_on(failing, tmp_path).complete_multipart(upload, [(1, tag)])
    assert second.read(second.complete_multipart(upload, [(1, tag)])) == b"part"


def test_a_spec_whose_saving_fails_is_saved_at_its_next_registration(stores: Pair) -> None:
    """(Known here before it was saved, it was never saved: no other process could serve
    its URL.)"""
    spec = MediaSpec("image", 64, 48, "png", "fal-ai/flux/dev", "a fox", 7)
    failing = Failing(stores[0], with_op("set", "media:spec:"))
    first, second = MediaStore(store=failing, salt="s"), MediaStore(store=stores[1], salt="s")
    with pytest.raises(StoreUnavailable):
        first.register(spec)
    media_id = first.register(spec)  # the retried request
    assert second.lookup(media_id) == spec


def test_a_trim_of_the_record_that_fails_records_nothing_twice(stores: Pair) -> None:
    """(The entries were stored, then the trim's error queued them again: each request
    recorded twice.)"""
    record = RequestRecord(
        store=Failing(stores[0], with_op("lrange", "record:sizes")), max_bytes=100
    )
    reader = RequestRecord(store=stores[1])
    try:
        for n in range(3):
            made = entry(n)
            made.body = b"x" * 20  # 60 bytes: past an eighth of 100, so the writer trims
            record.add(made)
    finally:
        record.close()  # what is queued is written
    assert [recorded.started for recorded in reader] == [100.0, 101.0, 102.0]
    reader.close()


def test_a_submission_kept_is_not_refused_for_the_room_it_then_makes(stores: Pair) -> None:
    """A store error as the key's oldest job is dropped to make room: the submission was
    kept, and is answered so (a 503 had its client submit it again: two jobs)."""
    failing = Failing(stores[0], with_op("zrange", "jobs:key:k"))
    jobs = SharedJobStore(failing, Budget(max_jobs_per_key=1), lambda *_: ENDPOINT)
    jobs.add(_job("a", 10), 0.0, 1)
    jobs.add(_job("b", 20), 0.0, 2)  # past the key's budget of one job: "a" is to go
    assert failing.failing is not None  # the error came
    assert stores[1].do("zrange", "jobs:key:k", 0, -1) == ["a", "b"]
    jobs.add(_job("c", 30), 0.0, 3)  # the next submission makes the room
    assert stores[1].do("zrange", "jobs:key:k", 0, -1) == ["c"]


@LOST
def test_a_part_put_as_the_store_fails_is_counted_once_kept(
    stores: Pair, tmp_path: Path, lost: bool
) -> None:
    """Retried, and the upload completed: its key is counted the file's bytes (a part
    counted, then not kept, stayed counted for good)."""
    first, second, upload = upload_started(stores, tmp_path)
    saving = shared_stores.with_op("hmget", "files:multipart:")
    failing = Failing(stores[0], lambda ops: ops[0][0] == "zrem" and saving(ops), lost=lost)
    with pytest.raises(StoreUnavailable):
        storage_on(failing, tmp_path).put_part(upload, 1, b"x" * 300)
    tag = second.put_part(upload, 1, b"x" * 300)  # the client's retry
    assert second.read(first.complete_multipart(upload, [(1, tag)])) == b"x" * 300
    assert int(stores[1].do("get", "files:owner:k")) == 300
    assert int(stores[1].do("get", "files:total")) == 300


@LOST
def test_a_ticket_whose_put_meets_a_store_error_is_not_spent(
    stores: Pair, tmp_path: Path, lost: bool
) -> None:
    """Its retry is kept (a ticket spent by a PUT the store failed answered every retry
    404), or, where the first was kept after all, is refused as a spent ticket's."""
    first, second = (storage_on(store, tmp_path) for store in stores)
    ticket = second.reserve("a.png", "image/png", owner="k")
    failing = Failing(stores[0], with_op("hset", "files:meta:"), lost=lost)
    with pytest.raises(StoreUnavailable):
        storage_on(failing, tmp_path).fulfil(ticket, b"png bytes")
    if lost:
        with pytest.raises(StorageError):
            second.fulfil(ticket, b"png bytes")
    else:
        second.fulfil(ticket, b"png bytes")
    stored = first.get(ticket)
    assert stored is not None and first.read(stored) == b"png bytes"
    assert int(stores[1].do("get", "files:owner:k")) == len(b"png bytes")


def test_a_save_refused_for_its_quota_leaves_a_file_kept_under_its_id(
    stores: Pair, tmp_path: Path
) -> None:
    """Pictures are kept under their content's digest: a second save of one, refused for
    a quota, undoes its own count and nothing of the file already kept."""
    limits = {"max_owner_bytes": 500, "max_total_bytes": 700}
    first, second = (storage_on(store, tmp_path, **limits) for store in stores)
    kept = first.put(b"x" * 400, "image/png", "a.png", "digest", owner="a")
    second.put(b"y" * 300, "image/png", "c.png", owner="c")
    with pytest.raises(StorageError) as refused:  # b has nothing of its own to drop
        second.put(b"x" * 400, "image/png", "a.png", "digest", owner="b")
    assert refused.value.status == 507
    assert second.read(kept) == b"x" * 400
    assert stores[1].do("get", "files:owner:b") is None
    assert int(stores[1].do("get", "files:total")) == 700
