"""Two fault books on one store (as two worker processes have) fire as one book."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from emulator.core.faults import Fault, FaultBook, FaultError
from emulator.core.record import RequestRecord
from emulator.core.redis_store import RedisStore
from emulator.core.shared_faults import SharedFaultBook
from emulator.core.store import Store
from tests import shared_stores

REQUEST = {"provider": "fal", "endpoint": "acme/image", "method": "POST", "path": "/x", "key": "k"}


def hammer(books: list[FaultBook], picks: int, threads: int = 4) -> list[Fault]:
    """``picks`` job picks from each of ``threads`` threads per book; the rules that fired."""
    fired: list[Fault] = []

    def pick_from(book: FaultBook) -> None:
        for _ in range(picks):
            rule = book.pick("job", **REQUEST)
            if rule is not None:
                fired.append(rule)

    workers = [
        threading.Thread(target=pick_from, args=(book,)) for book in books for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not any(worker.is_alive() for worker in workers)
    return fired


def test_a_book_on_a_store_is_a_shared_book(stores: tuple[Store, Store]) -> None:
    assert isinstance(FaultBook(1, store=stores[0]), SharedFaultBook)
    assert type(FaultBook(1)) is FaultBook


def test_a_shared_book_refuses_a_rule_for_no_endpoint_served(stores: tuple[Store, Store]) -> None:
    book = FaultBook(store=stores[0], served=lambda pattern, provider: pattern == "acme/image")
    assert book.add(Fault("fail", endpoint="acme/image")).id
    with pytest.raises(FaultError, match="served matches 'acme/imgae'"):
        book.add(Fault("fail", endpoint="acme/imgae"))
    assert [rule.endpoint for rule in FaultBook(store=stores[1]).rules] == ["acme/image"]


def test_times_fires_exactly_so_often_across_books(stores: tuple[Store, Store]) -> None:
    first, second = FaultBook(1, store=stores[0]), FaultBook(1, store=stores[1])
    rule = first.add({"effect": "fail", "times": 3})
    assert len(hammer([first, second], picks=15)) == 3
    (seen,) = second.rules
    assert (seen.id, seen.fired) == (rule.id, 3)
    # a process stops counting the matches of a rule it saw spent (no round trip for them)
    assert 3 < seen.matched <= 3 + 8


def test_nth_fires_on_the_nth_match_overall(stores: tuple[Store, Store]) -> None:
    first, second = FaultBook(1, store=stores[0]), FaultBook(1, store=stores[1])
    first.add({"effect": "fail", "nth": 5})
    turns = [first, second] * 4
    assert [book.pick("job", **REQUEST) is not None for book in turns] == [
        n == 5 for n in range(1, 9)
    ]
    assert len(hammer([first, second], picks=10)) == 0  # spent: never again


def test_nth_fires_once_under_threads(stores: tuple[Store, Store]) -> None:
    first, second = FaultBook(1, store=stores[0]), FaultBook(1, store=stores[1])
    first.add({"effect": "fail", "nth": 17})
    assert len(hammer([first, second], picks=10)) == 1


def test_probability_decisions_do_not_depend_on_the_book(stores: tuple[Store, Store]) -> None:
    first, second = FaultBook(5, store=stores[0]), FaultBook(5, store=stores[1])
    first.add({"effect": "fail", "probability": 0.4})
    alternating = [book.pick("job", **REQUEST) is not None for book in [first, second] * 30]
    alone = FaultBook(5)  # in one process: the same draws
    alone.add({"effect": "fail", "probability": 0.4})
    assert alternating == [alone.pick("job", **REQUEST) is not None for _ in range(60)]
    assert 0 < sum(alternating) < 60


def test_rules_added_removed_and_cleared_anywhere_are_seen_everywhere(
    stores: tuple[Store, Store],
) -> None:
    first = FaultBook(1, store=stores[0])
    rule = first.add({"effect": "http_error", "status": 503, "endpoint": "acme/*"})
    second = FaultBook(2, store=stores[1])  # a process started later: the first's seed
    assert second.seed == 1 and second.could_fire("exchange", "acme/x")
    assert second.add({"effect": "nsfw"}).id == "fault-2"  # ids unique across books
    assert [r.id for r in first.rules] == [rule.id, "fault-2"]
    assert second.remove(rule.id) and not first.has("exchange")
    first.clear(4)
    assert (second.rules, second.seed, second.has("job")) == ([], 4, False)


def test_a_request_scope_checks_the_store_once(stores: tuple[Store, Store]) -> None:
    store = stores[0]
    book = FaultBook(1, store=store)
    book.add({"effect": "http_error", "status": 500, "endpoint": "other/y"})
    book.add({"effect": "fail", "endpoint": "other/x"})
    book.has("job")  # loaded
    before = store.round_trips
    with book.request_scope():  # a request none of the rules matches
        assert book.has("exchange") and not book.could_fire("exchange", "acme/image")
        assert book.pick("pace", **REQUEST) is None and book.pick("job", **REQUEST) is None
    assert store.round_trips - before == 1
    FaultBook(1, store=stores[1]).add({"effect": "cancel"})  # another process adds one
    with book.request_scope():
        assert book.pick("job", **REQUEST) is not None  # seen at the next request


CHILD = """
import sys
from emulator.core.faults import FaultBook
from emulator.core.record import RawEntry, RequestRecord
from emulator.core.redis_store import RedisStore

store = RedisStore(sys.argv[1])
book = FaultBook(1, store=store)
fired = [book.pick("job", provider="fal", endpoint="a") is not None for _ in range(5)]
record = RequestRecord(store=store)
record.add(RawEntry("POST", [], "/fal/queue/child"))
record.close()
print(sum(fired))
"""


def test_another_process_on_the_store_is_the_same_emulator(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = shared_stores.store_url("redis", request, tmp_path)
    store = RedisStore(url)
    try:
        book = FaultBook(1, store=store)
        rule = book.add({"effect": "fail", "times": 3})
        assert book.pick("job", provider="fal", endpoint="a") is rule
        child = subprocess.run(
            [sys.executable, "-c", CHILD, url],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert child.stdout.strip() == "2"  # the two firings left, of five tries
        assert book.pick("job", provider="fal", endpoint="a") is None
        # matched: 1 here, 3 there (the third found it spent, and the child stopped
        # counting), 1 here again
        assert [(r.matched, r.fired) for r in book.rules] == [(5, 3)]
        record = RequestRecord(store=store)
        assert [e.path for e in record] == ["/fal/queue/child"]
    finally:
        store.flush()
        store.close()
