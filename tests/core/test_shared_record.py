"""Two records on one store (as two worker processes have) read as one record."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator.core.record import RawEntry, RequestRecord
from emulator.core.redis_store import RedisStore
from emulator.core.shared_record import SharedRequestRecord, _digest, _lists
from emulator.core.store import Store
from tests.bounded import eventually
from tests.redis_server import RedisServer

#: the longest a test waits for another record's writer
WAIT = 5.0


def entry(n: int, key: str = "") -> RawEntry:
    headers = [(b"host", b"queue.fal.run")]
    if key:
        headers.append((b"authorization", f"Key {key}".encode()))
    made = RawEntry("GET", headers, f"/fal/queue/a/requests/{n}/status")
    made.status, made.started, made.answered = 200, 100.0 + n, 100.5 + n
    return made


def wait_for(condition: Callable[[], bool]) -> bool:
    return eventually(condition, WAIT)


def test_what_one_records_the_other_reads(stores: tuple[Store, Store]) -> None:
    first = RequestRecord(store=stores[0])
    second = RequestRecord(store=stores[1])
    assert isinstance(first, SharedRequestRecord)
    try:
        for n in (1, 3):
            first.add(entry(n))
        second.add(entry(2))
        assert len(second) >= 1  # its own, at once
        assert wait_for(lambda: len(second) == 3)
        # in the order they were answered, whichever process answered
        assert [e.path.split("/")[-2] for e in second] == ["1", "2", "3"]
        assert [e.status for e in first.filter(path="/requests/2/")] == [200]
        first.clear()
        assert list(second) == []
    finally:
        first.close()
        second.close()


def test_records_added_from_many_threads_land_once_each(stores: tuple[Store, Store]) -> None:
    records = [RequestRecord(store=store) for store in stores]

    def add_from(record: RequestRecord, first: int) -> None:
        for n in range(first, first + 50):
            record.add(entry(n))

    workers = [
        threading.Thread(target=add_from, args=(record, 1000 * k + 100 * i))
        for k, record in enumerate(records)
        for i in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    for record in records:
        record.close()
    started = sorted(e.started - 100.0 for e in RequestRecord(store=stores[0]))
    expected = sorted(1000 * k + 100 * i + n for k in (0, 1) for i in range(4) for n in range(50))
    assert started == expected


def test_a_restarted_process_reads_the_record(stores: tuple[Store, Store]) -> None:
    before = RequestRecord(max_entries=3, store=stores[0])
    for n in range(5):
        before.add(entry(n))
    before.close()  # writes what is queued
    after = RequestRecord(max_entries=3, store=stores[1])
    assert [e.started for e in after] == [102.0, 103.0, 104.0]  # bounded: the newest
    after.close()


def test_the_store_keeps_no_more_than_the_limits(stores: tuple[Store, Store]) -> None:
    record = RequestRecord(max_entries_per_key=6, max_bytes=25, store=stores[0])
    for n in range(10):
        made = entry(n)
        made.body += b"x" * 10
        record.add(made)
    record.close()
    assert [e.started for e in RequestRecord(store=stores[1], max_bytes=25)] == [108.0, 109.0]
    assert stores[1].batch([("llen", name) for name in _lists(_digest(""))]) == [2, 2]


def test_the_store_keeps_each_keys_share_whichever_process_wrote(
    stores: tuple[Store, Store],
) -> None:
    quiet, flood = (
        RequestRecord(max_entries=5, max_entries_per_key=50, store=store) for store in stores
    )
    quiet.add(entry(0, key="quiet"))
    quiet.close()
    for n in range(1, 30):
        flood.add(entry(n, key="flood"))
    flood.close()  # written, and trimmed to the totals in the store
    lists = [_lists(_digest(key))[0] for key in ("quiet", "flood")]
    assert stores[0].batch([("llen", name) for name in lists]) == [1, 4]
    assert [e.started for e in quiet.filter(key="quiet")] == [100.0]
    assert [e.started for e in quiet] == [100.0, 126.0, 127.0, 128.0, 129.0]


@pytest.mark.slow  # stops and restarts its Redis, the writer waiting to try again: 1.8 s
def test_an_outage_loses_nothing_recorded_and_raises_nothing(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    record = RequestRecord(store=RedisStore(server.url))
    reader = RequestRecord(store=RedisStore(server.url))
    try:
        record.add(entry(0))
        assert wait_for(lambda: len(reader) == 1)
        server.stop()
        for n in range(1, 21):
            record.add(entry(n))  # never raises, never waits for the store
        time.sleep(0.2)  # the writer tries, and waits to try again
        server.start()  # empty: this test's Redis keeps nothing on disk
        assert wait_for(lambda: len(reader) == 20)
        assert [e.started for e in reader] == [100.0 + n for n in range(1, 21)]
    finally:
        record.close()
        reader.close()
        server.stop()
