"""The spend ledger: the cap holds across every process that shares its file."""

from __future__ import annotations

import threading
from pathlib import Path

from emulator.harness.ledger import Ledger


def test_ledgers_sharing_a_file_share_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    one, other = Ledger(cap=0.025, path=path), Ledger(cap=0.025, path=path)
    verdicts = [ledger.book("fal-ai/x", 0.01, "$0.01/image").allowed
                for ledger in (one, other, one, other)]  # fmt: skip
    assert verdicts == [True, True, False, False]
    assert (other.spent, other.refused, len(one.entries)) == (0.02, 2, 4)


def test_concurrent_bookings_allow_exactly_what_fits(tmp_path: Path) -> None:
    # as xdist's workers book at once: each ledger object stands for a process
    path = tmp_path / "ledger.jsonl"
    allowed: list[bool] = []

    def book() -> None:
        allowed.append(Ledger(cap=0.05, path=path).book("fal-ai/x", 0.01, "p").allowed)

    threads = [threading.Thread(target=book) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(allowed) == [False] * 7 + [True] * 5


def test_a_line_still_being_written_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(cap=1.0, path=path)
    ledger.book("fal-ai/x", 0.01, "p")
    with path.open("a") as file:
        file.write('["fal-ai/y", 0.5')  # another process's write, under way
    assert [entry.endpoint for entry in ledger.entries] == ["fal-ai/x"]


def test_without_a_file_the_ledger_is_the_processes_own() -> None:
    ledger = Ledger(cap=0.01)
    assert ledger.book("fal-ai/x", 0.01, "p").allowed
    assert not ledger.book("fal-ai/x", 0.01, "p").allowed
    assert str(ledger).endswith("1 calls, estimated $0.0100 of a $0.01 cap (1 refused)")


def test_a_call_the_provider_refused_is_released(tmp_path: Path) -> None:
    # booked before it is made (the cap holds across processes), released once the
    # provider refused it: a 429 made no job and was billed nothing (a harness audit)
    path = tmp_path / "ledger.jsonl"
    one, other = Ledger(cap=0.015, path=path), Ledger(cap=0.015, path=path)
    refused_later = one.book("fal-ai/x", 0.01, "p")
    assert not other.book("fal-ai/x", 0.01, "p").allowed  # the first is still booked
    one.release(refused_later, "fal answered 429")
    assert other.book("fal-ai/x", 0.01, "p").allowed  # its cost is free again
    entries = other.entries
    assert [(e.allowed, e.unbilled, e.billed) for e in entries] == [
        (True, "fal answered 429", False),
        (False, "", False),  # refused while the first was booked: still refused
        (True, "", True),
    ]
    assert (other.spent, other.refused) == (0.01, 1)
    assert "p  not billed: fal answered 429\n" in str(other)
    assert str(other).endswith(
        "1 calls, estimated $0.0100 of a $0.015 cap (1 refused, 1 refused by the provider:"
        " not billed)"
    )
