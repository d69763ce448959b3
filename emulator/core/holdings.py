"""How much of a shared budget each key holds, and which keys hold the most.

A budget shared by every key (the request record's entries, the jobs kept) is met by
taking from the key holding the most, never first from a quiet key: one key's traffic
then costs only its own share. `Holdings` counts each key's items and their bytes, and
finds the keys holding the most of either in logarithmic time, however many keys there
are (a flood of made-up keys must not make every request scan them all). It ranks them
only once asked: until a budget is passed, a change costs two dictionary updates.
"""

from __future__ import annotations

import heapq

#: how many stale entries a heap may hold beyond one per key before it is rebuilt
_SLACK = 64


class Holdings:
    """Per key: how many items it holds and their bytes, and the totals."""

    def __init__(self) -> None:
        self.items: dict[str, int] = {}
        self.bytes: dict[str, int] = {}
        self.total_items = 0
        self.total_bytes = 0
        # Max-heaps as (-amount, key), made at the first question and pushed at every change
        # from then on, read lazily: an entry whose amount is no longer its key's is stale,
        # and skipped.
        self._by_items: list[tuple[int, str]] | None = None
        self._by_bytes: list[tuple[int, str]] = []

    def change(self, key: str, items: int, size: int) -> None:
        """``key`` holds ``items`` more items, of ``size`` more bytes (fewer if negative);
        a key that holds none is forgotten."""
        held = self.items.get(key, 0) + items
        held_bytes = self.bytes.get(key, 0) + size
        self.total_items += items
        self.total_bytes += size
        if held <= 0:
            self.items.pop(key, None)
            self.bytes.pop(key, None)
            return
        self.items[key], self.bytes[key] = held, held_bytes
        if self._by_items is None:  # not ranked yet
            return
        if items:
            self._push(self._by_items, self.items, key, held)
        if size:
            self._push(self._by_bytes, self.bytes, key, held_bytes)

    @staticmethod
    def _push(heap: list[tuple[int, str]], held: dict[str, int], key: str, amount: int) -> None:
        heapq.heappush(heap, (-amount, key))
        if len(heap) > 2 * len(held) + _SLACK:  # mostly stale: rebuilt from the amounts
            heap[:] = _ranked(held)

    def _ranking(self, by_bytes: bool) -> tuple[list[tuple[int, str]], dict[str, int]]:
        """The heap of keys by items (or bytes), ranked now if not yet, and the amounts."""
        if self._by_items is None:
            self._by_items = _ranked(self.items)
            self._by_bytes = _ranked(self.bytes)
        if by_bytes:
            return self._by_bytes, self.bytes
        return self._by_items, self.items

    def most(self, count: int, *, by_bytes: bool) -> list[str]:
        """Up to ``count`` keys, holding the most items (or bytes) first; ties by key.
        Each costs a logarithmic step, whatever the number of keys."""
        heap, held = self._ranking(by_bytes)
        taken: list[tuple[int, str]] = []
        while heap and len(taken) < count:
            if _live(heap, held, taken):
                taken.append(heapq.heappop(heap))
        for entry in taken:  # given back, for the next question
            heapq.heappush(heap, entry)
        return [key for _, key in taken]

    def level(self, excess: int, *, by_bytes: bool) -> tuple[list[str], int]:
        """The keys holding the most items (or bytes), and the level to bring each down to
        so that together they give up at least ``excess``: never below what another key
        keeps, so that a quiet key loses nothing while another holds more. One question
        for a whole batch: each key it names costs a logarithmic step."""
        heap, held = self._ranking(by_bytes)
        taken: list[tuple[int, str]] = []
        total = 0
        while True:
            following = -heap[0][0] if _live(heap, held, taken) else 0
            if not heap or (taken and total - len(taken) * following >= excess):
                break
            taken.append(heapq.heappop(heap))
            total += following
        for entry in taken:  # given back: those that change are pushed again anyway
            heapq.heappush(heap, entry)
        level = max(0, (total - excess) // len(taken)) if taken else 0
        return [key for _, key in taken], level

    def over(self, max_items: int, max_bytes: int) -> str | None:
        """The key to take an item from while the totals pass ``max_items`` or
        ``max_bytes``: the one holding the most items while there are too many, else the
        most bytes; None within both."""
        if self.total_items > max_items:
            return self.most(1, by_bytes=False)[0]
        if self.total_bytes > max_bytes:
            return self.most(1, by_bytes=True)[0]
        return None

    def clear(self) -> None:
        self.items.clear()
        self.bytes.clear()
        self.total_items = self.total_bytes = 0
        self._by_items, self._by_bytes = None, []


def _live(heap: list[tuple[int, str]], held: dict[str, int], taken: list[tuple[int, str]]) -> bool:
    """Whether ``heap`` has a live entry on top, once the stale ones there are discarded
    (an amount no longer its key's, or a copy of the entry just taken: equal entries pop
    together)."""
    while heap:
        amount, key = heap[0]
        if held.get(key) == -amount and not (taken and taken[-1][1] == key):
            return True
        heapq.heappop(heap)
    return False


def _ranked(held: dict[str, int]) -> list[tuple[int, str]]:
    """A max-heap of ``held``'s keys by amount."""
    heap = [(-amount, key) for key, amount in held.items()]
    heapq.heapify(heap)
    return heap
