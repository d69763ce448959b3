"""`SyncAnswer`: a sync caller's answer, and what a late chunk raises."""

from __future__ import annotations

import pytest

from emulator.transport.answers import END, AnswerTimeout, SyncAnswer


def _late_after(first: bytes) -> SyncAnswer:
    items = iter([first])

    def next_item() -> object:
        try:
            return next(items)
        except StopIteration:
            raise AnswerTimeout() from None

    return SyncAnswer((None, 200, []), next_item)


def test_a_late_chunk_is_the_callers_timeout() -> None:
    with pytest.raises(AnswerTimeout):
        list(_late_after(b"a"))


def test_a_late_chunk_raises_what_the_answer_is_told_to() -> None:
    # the harness's stop, when its time limit and not the caller's timeout ended the wait
    answer = _late_after(b"a")
    answer.timed_out = lambda: KeyboardInterrupt("stopped")
    chunks = iter(answer)
    assert next(chunks) == b"a"
    with pytest.raises(KeyboardInterrupt, match="stopped"):
        next(chunks)


def test_an_answer_ends_at_its_end() -> None:
    items = iter([b"a", b"b", END])
    assert list(SyncAnswer((None, 200, []), lambda: next(items))) == [b"a", b"b"]
