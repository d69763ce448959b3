"""What is worked out once per endpoint (its input rules, its plan, its verdicts), kept
while the endpoint lives."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from emulator.contracts.documents import Endpoint

T = TypeVar("T")


class EndpointMemo(Generic[T]):
    """A value per endpoint, made by ``make`` on its first `get` and dropped when the
    endpoint is: a `weakref.WeakKeyDictionary` without the weak reference each of its
    look-ups makes. A value that refers to its endpoint strongly keeps it, as it would
    there. One call answers: a submit asks two of these (issue 17)."""

    def __init__(self, make: Callable[[Endpoint], T]) -> None:
        self._make = make
        #: the values made, by their endpoint's identity (``Endpoint`` has no eq): read as
        #: ``made.get(id(endpoint))``, a look-up without `get`'s call, where that counts
        self.made: dict[int, T] = {}

    def get(self, endpoint: Endpoint) -> T:
        """The value kept for ``endpoint``, made now if none was (of two made at once, the
        first kept wins)."""
        value = self.made.get(id(endpoint))
        if value is None:
            key = id(endpoint)
            value = self.made.setdefault(key, made := self._make(endpoint))
            if value is made:  # forgotten before the identity can be another endpoint's
                weakref.finalize(endpoint, self.made.pop, key, None)
        return value
