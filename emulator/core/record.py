"""The record of requests the emulator received, for assertions about client behaviour.

polls = emulation.requests.filter(provider="fal", path="/status")
assert len(polls) <= 3
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from emulator.core.keys import split_authorization


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    host: str  # as the client addressed it: queue.fal.run, 127.0.0.1:8000, …
    path: str  # the emulator's path: /fal/queue/…, /wavespeed/api/v3/…
    query: str
    status: int
    key: str  # the credential after the scheme word, "" if none
    started: float  # unix seconds
    duration: float  # seconds until the response started

    @property
    def provider(self) -> str:
        """``fal`` or ``wavespeed``."""
        return self.path.split("/", 2)[1]


_Raw = tuple[str, list[tuple[bytes, bytes]], str, bytes, int, float, float]


def first_header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    """The first value of header ``name`` (lower-case bytes) in raw ASGI headers, or ``""``."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return ""


def _materialise(raw: _Raw) -> RecordedRequest:
    method, headers, path, query, status, started, answered = raw
    return RecordedRequest(
        method=method,
        host=first_header(headers, b"host"),
        path=path,
        query=query.decode("latin-1"),
        status=status,
        key=split_authorization(first_header(headers, b"authorization"))[1],
        started=started,
        duration=answered - started,
    )


class RequestRecord:
    """The newest requests (bounded), oldest first.

    Recording sits on the status-poll hot path, so it keeps a raw tuple per request and
    builds `RecordedRequest` objects only when the record is read.
    """

    def __init__(self, maxlen: int = 10_000) -> None:
        self._entries: deque[_Raw] = deque(maxlen=maxlen)

    def add_raw(self, raw: _Raw) -> None:
        self._entries.append(raw)

    def filter(
        self,
        *,
        provider: str | None = None,
        method: str | None = None,
        path: str | None = None,
        key: str | None = None,
        status: int | None = None,
    ) -> list[RecordedRequest]:
        """The entries matching every criterion given; ``path`` matches a substring."""
        return [
            entry
            for entry in self
            if (provider is None or entry.provider == provider)
            and (method is None or entry.method == method.upper())
            and (path is None or path in entry.path)
            and (key is None or entry.key == key)
            and (status is None or entry.status == status)
        ]

    def clear(self) -> None:
        self._entries.clear()

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter([_materialise(raw) for raw in list(self._entries)])

    def __len__(self) -> int:
        return len(self._entries)
