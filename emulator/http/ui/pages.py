"""Pagination: a bounded slice of a long list, and where it sits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

#: rows per page: a page renders in constant time whatever the emulator retains
PAGE_SIZE = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int  # from 1
    total: int  # items in every page
    more: bool = False  # ``total`` is what was looked at, and there are more beyond it

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def page_number(text: str | None) -> int:
    """A page number from a query string: a positive integer, else 1 (ASCII digits only:
    ``isdigit`` takes "²", which ``int`` refuses)."""
    if text is None or not (text.isascii() and text.isdigit() and 0 < len(text) < 7):
        return 1
    return max(1, int(text))


def paginate(items: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    last = max(1, -(-len(items) // size))
    number = min(number, last)
    return Page(items[(number - 1) * size : number * size], number, len(items))
