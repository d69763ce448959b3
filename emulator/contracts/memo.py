"""What is worked out once per endpoint (its input rules, its plan, its verdicts), kept
while the endpoint lives."""

from __future__ import annotations

import weakref
from typing import Generic, TypeVar

from emulator.contracts.documents import Endpoint

T = TypeVar("T")


class EndpointMemo(Generic[T]):
    """A value per endpoint, dropped when the endpoint is: a `weakref.WeakKeyDictionary`
    without the weak reference each of its look-ups makes (a submit looks up two: issue 17).
    A value that refers to its endpoint strongly keeps it, as it would there."""

    def __init__(self) -> None:
        self._values: dict[int, T] = {}  # by the endpoint's identity (``Endpoint`` has no eq)

    def get(self, endpoint: Endpoint) -> T | None:
        return self._values.get(id(endpoint))

    def setdefault(self, endpoint: Endpoint, value: T) -> T:
        """The value kept for ``endpoint``, ``value`` if none was (the first one kept wins)."""
        key = id(endpoint)
        kept = self._values.setdefault(key, value)
        if kept is value:  # forgotten before the identity can be another endpoint's
            weakref.finalize(endpoint, self._values.pop, key, None)
        return kept
