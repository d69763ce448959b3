"""The record of requests the emulator received, for assertions about client behaviour.

polls = emulation.requests.filter(provider="fal", path="/status")
assert len(polls) <= 3
assert emulation.calls("fal-ai/bitdance").last.json["prompt"] == "a cat"

Each key (the credential a request carried) keeps its own newest requests, up to
``max_entries_per_key``; when the record as a whole passes ``max_entries`` or ``max_bytes``
of bodies, the key holding the most loses its oldest (`emulator.core.holdings`), so that
one key's traffic never pushes out another key's requests while it holds more.

Given a shared `Store`, the record lives there instead (`emulator.core.shared_record`), so
that every process on the store reads every process's requests.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, overload
from urllib.parse import unquote_plus

from emulator.core.holdings import Holdings
from emulator.core.keys import split_authorization
from emulator.core.registry import LAYOUTS

if TYPE_CHECKING:
    from emulator.core.store import Store

#: headers whose values are credentials: recorded as their scheme and last four characters
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
#: query parameters whose values are credentials (fal's client tokens), masked alike
SECRET_PARAMETERS = frozenset({"fal_jwt_token"})


def mask(value: str) -> str:
    """An ``Authorization`` value made safe to show: ``Key ****abcd`` (its scheme is the
    first word: a key with spaces in it is masked whole)."""
    scheme, _, credential = value.strip().partition(" ")
    if not credential:
        return mask_key(scheme)
    return f"{scheme} {mask_key(credential)}"


def mask_key(key: str) -> str:
    """A key made safe to show: ``****`` and its last four characters, or ``****`` alone
    for a key of eight or fewer."""
    return "****" + key[-4:] if len(key) > 8 else "****"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator answered it: an entry of the record that
    ``Emulation.requests``, the control plane and the dashboard read."""

    method: str
    host: str  # as the client addressed it: queue.fal.run, 127.0.0.1:8000, …
    path: str  # the emulator's path: /fal/queue/…, /wavespeed/api/v3/…
    query: str
    status: int
    key: str  # the credential after the scheme word, "" if none
    started: float  # unix seconds
    duration: float  # seconds until the response started
    headers: dict[str, str]  # as sent, names in lower case, credentials masked
    body: bytes  # as sent, up to the record's body limit
    body_size: int  # the whole body's size
    endpoint: str | None  # the endpoint the request was for, once the emulator knew it
    #: how a replay answered it, None when the emulator did: "recorded" (a recording's
    #: answer as recorded: a refusal, a sync run's answer, media), "unmatched" (no
    #: recording matched it: the 404 fallback)
    replay: str | None = None

    @property
    def provider(self) -> str:
        """``fal`` or ``wavespeed``."""
        return self.path.split("/", 2)[1]

    @property
    def truncated(self) -> bool:
        return len(self.body) < self.body_size

    @property
    def json(self) -> Any:
        """The body as JSON; None when it is not JSON or was cut at the body limit."""
        if self.truncated or not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


#: raw ASGI headers: (lower-case name, value) pairs of bytes
Headers = Sequence[tuple[bytes, bytes]]


class RawEntry:
    """What the recording middleware keeps per request: cheap to make on the hot path,
    materialised as a `RecordedRequest` only when the record is read (`RequestRecord.entry`
    makes one)."""

    __slots__ = (
        "method",
        "headers",
        "path",
        "query",
        "status",
        "started",
        "answered",
        "body",
        "body_size",
        "endpoint",
        "replay",
        "key",
        "order",
    )

    def __init__(self, method: str, headers: Headers, path: str, key: str | None = None) -> None:
        """``key``: the credential of ``headers``' ``Authorization``, if known already."""
        self.method, self.headers, self.path = method, headers, path
        #: the credential after the scheme word, "" if none: whose share the entry is
        self.key = key if key is not None else key_of(headers)
        self.order = 0  # its place among the record's entries, once added
        self.query = b""
        self.status = 0
        self.started = self.answered = 0.0
        self.body: bytes | bytearray = b""  # grown as the body arrives, to the record's limit
        self.body_size = 0
        self.endpoint: str | None = None
        self.replay: str | None = None


def first_header(headers: Headers, name: bytes) -> str:
    """The first value of header ``name`` (lower-case bytes) in raw ASGI headers, or ``""``."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return ""


def key_of(headers: Headers) -> str:
    """The credential of the ``Authorization`` header in raw ASGI headers, "" if none."""
    return split_authorization(first_header(headers, b"authorization"))[1]


def _headers(raw: Headers) -> dict[str, str]:
    shown: dict[str, str] = {}
    for key, value in raw:
        name, text = key.decode("latin-1").lower(), value.decode("latin-1")
        shown[name] = mask(text) if name in SECRET_HEADERS else text
    return shown


def masked_query(query: str) -> str:
    """A query string with the values of its credentials (`SECRET_PARAMETERS`) masked."""
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        secret = equals and unquote_plus(name) in SECRET_PARAMETERS  # as the query is read
        pairs.append(f"{name}={mask(value)}" if secret else pair)
    return "&".join(pairs)


def _materialise(raw: RawEntry) -> RecordedRequest:
    return RecordedRequest(
        method=raw.method,
        host=first_header(raw.headers, b"host"),
        path=raw.path,
        query=masked_query(raw.query.decode("latin-1")),
        status=raw.status,
        key=raw.key,
        started=raw.started,
        duration=raw.answered - raw.started,
        headers=_headers(raw.headers),
        body=bytes(raw.body),
        body_size=raw.body_size,
        endpoint=raw.endpoint,
        replay=raw.replay,
    )


class Calls(Sequence[RecordedRequest]):
    """Recorded requests with respx/moto-style accessors: ``call_count``, ``called``,
    ``last``."""

    def __init__(
        self, entries: list[RecordedRequest], *, asked: str = "such call", seen: str = ""
    ) -> None:
        """``asked``: what was asked for, as `last` names it when there is none; ``seen``:
        what was recorded instead, as it says then."""
        self._entries = entries
        self._asked, self._seen = asked, seen

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[RecordedRequest]: ...
    def __getitem__(self, index: int | slice) -> RecordedRequest | Sequence[RecordedRequest]:
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        """Stop background work (a shared record's writer; here: none)."""

    @property
    def call_count(self) -> int:
        return len(self._entries)

    @property
    def called(self) -> bool:
        return bool(self._entries)

    @property
    def last(self) -> RecordedRequest:
        if not self._entries:
            raise AssertionError(f"no {self._asked} was recorded{self._seen}")
        return self._entries[-1]

    def __repr__(self) -> str:
        return f"<Calls {[f'{e.method} {e.path}' for e in self._entries]}>"


#: how many request shapes a record shares between its entries before it starts afresh
SHAPES = 4096
#: past a total, the record is brought down by this share of it (to 98 %): a ranking of
#: the keys then serves the next fiftieth of the total's adds, not each one
TRIM_SHARE = 50
#: the methods of requests that run a model: HTTP's, and a realtime session's input (each
#: frame a call, recorded with the method ``WEBSOCKET``)
RAN = frozenset({"POST", "WEBSOCKET"})


class RequestRecord:
    """The newest requests, oldest first: bounded in number per key, and in number and in
    the bytes of the bodies kept in all (the key holding the most loses its oldest).

    ``RequestRecord(..., store=store)`` makes a `SharedRequestRecord` instead, kept in
    ``store`` (see `emulator.core.shared_record`)."""

    def __new__(cls, *args: Any, store: Store | None = None, **kwargs: Any) -> RequestRecord:
        if store is not None and cls is RequestRecord:
            from emulator.core.shared_record import SharedRequestRecord

            return super().__new__(SharedRequestRecord)
        return super().__new__(cls)

    def __init__(
        self,
        max_entries: int = 50_000,
        max_entries_per_key: int = 10_000,
        body_bytes: int = 64 * 1024,
        max_bytes: int = 64 * 2**20,
        store: Store | None = None,
    ) -> None:
        #: the shared store the record is kept in (a `SharedRequestRecord`), or None
        self.store = store
        #: the most entries kept in all, and for one key
        self.max_entries, self.max_entries_per_key = max_entries, max_entries_per_key
        #: the most bytes of each request body kept
        self.body_bytes = body_bytes
        #: the most bytes of bodies kept in all
        self.max_bytes = max_bytes
        self._kept: dict[str, deque[RawEntry]] = {}  # each key's entries, oldest first
        self._holdings = Holdings()
        self._orders = itertools.count(1)
        self._lock = threading.Lock()
        #: request shapes (method, path, query, headers) entries share, with their key (`entry`)
        self._shapes: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    def entry(
        self, method: str, path: str, query: bytes, headers: Iterable[tuple[bytes, bytes]]
    ) -> RawEntry:
        """A new entry for a request. What it has in common with earlier requests (its
        method, path, query and headers, which a client's polls repeat) is shared with
        their entries, not kept again: a request's own objects then die with it. Keeping
        them cost a status poll about a tenth of its rate under load (issue 17), more than
        looking its shape up here costs."""
        shape = (method, path, query, tuple(headers))
        try:
            shared = self._shapes.get(shape)
        except TypeError:  # headers as lists, which the ASGI spec allows: not shared
            shared = (*shape, None)
        if shared is None:
            if len(self._shapes) >= SHAPES:
                self._shapes.clear()
            shared = self._shapes[shape] = (*shape, key_of(shape[3]))
        entry = RawEntry(shared[0], shared[3], shared[1], shared[4])
        entry.query = shared[2]
        return entry

    def add(self, entry: RawEntry) -> None:
        key, holdings = entry.key, self._holdings
        self._lock.acquire()  # by hand: ``with`` looks up two special methods per request
        try:
            kept = self._kept.get(key)
            if kept is None:
                kept = self._kept[key] = deque()
            entry.order = next(self._orders)
            kept.append(entry)
            if len(kept) > self.max_entries_per_key:  # a busy key: its oldest makes room
                size = len(entry.body) - len(kept.popleft().body)
                if size:
                    holdings.change(key, 0, size)
            else:
                holdings.change(key, 1, len(entry.body))
            if holdings.total_items > self.max_entries or holdings.total_bytes > self.max_bytes:
                self._trim(key)
        finally:
            self._lock.release()

    def _trim(self, key: str) -> None:
        """Drop ``key``'s oldest past its bound; past a total, bring the record down to
        within its `TRIM_SHARE`, the oldest entries of the keys holding the most first (holding
        the lock). The room left is what spares the next adds a ranking of the keys."""
        kept = self._kept.get(key, ())  # none left if a total took them all
        while len(kept) > self.max_entries_per_key:
            self._drop_oldest(key, 1)
        holdings = self._holdings
        if holdings.total_items > self.max_entries:
            excess = holdings.total_items - (self.max_entries - self.max_entries // TRIM_SHARE)
            keys, level = holdings.level(excess, by_bytes=False)
            for holder in keys:
                self._drop_oldest(holder, holdings.items.get(holder, 0) - level)
        if holdings.total_bytes > self.max_bytes:
            excess = holdings.total_bytes - (self.max_bytes - self.max_bytes // TRIM_SHARE)
            keys, level = holdings.level(excess, by_bytes=True)
            for holder in keys:
                kept, held, count = self._kept[holder], holdings.bytes[holder], 0
                while held > level:  # its oldest, until it keeps no more than the level
                    held -= len(kept[count].body)
                    count += 1
                self._drop_oldest(holder, count)

    def _drop_oldest(self, key: str, count: int) -> None:
        """Drop ``key``'s ``count`` oldest entries (none if not positive)."""
        if count <= 0:
            return
        kept = self._kept[key]
        size = 0
        for _ in range(count):
            size += len(kept.popleft().body)
        self._holdings.change(key, -count, -size)
        if not kept:
            del self._kept[key]

    def filter(
        self,
        *,
        provider: str | None = None,
        method: str | None = None,
        path: str | None = None,
        key: str | None = None,
        status: int | None = None,
        endpoint: str | None = None,
    ) -> Calls:
        """The entries matching every criterion given; ``path`` matches a substring.
        `ValueError` for a provider that is none (``"fal.ai"``) or a status that is no int
        (``"200"``): either matched nothing, and a test's ``assert not ….filter(…)`` passed."""
        if provider is not None and provider not in LAYOUTS:
            names = ", ".join(sorted(LAYOUTS))
            raise ValueError(f"provider must be one of {names}, not {provider!r}")
        if status is not None and type(status) is not int:
            raise ValueError(f"status must be an int (an HTTP status code), not {status!r}")
        return Calls(
            [
                entry
                for entry in (self if key is None else self._of(key))
                if (provider is None or entry.provider == provider)
                and (method is None or entry.method == method.upper())
                and (path is None or path in entry.path)
                and (key is None or entry.key == key)
                and (status is None or entry.status == status)
                and (endpoint is None or entry.endpoint == endpoint)
            ]
        )

    def calls(self, endpoint: str | None = None) -> Calls:
        """The requests that ran a model (submits, sync runs, streams, realtime inputs), of
        ``endpoint`` if given: what a client's code sent, with ``.json`` the input."""
        ran = [entry for entry in self if entry.method in RAN and entry.endpoint is not None]
        if endpoint is None:
            return Calls(ran, asked="call of a model")
        called = Counter(entry.endpoint for entry in ran)
        others = ", ".join(f"{name} ({count})" for name, count in sorted(called.items()))
        return Calls(
            [entry for entry in ran if entry.endpoint == endpoint],
            asked=f"call of {endpoint!r}",
            seen=f" (calls of: {others})" if others else "",
        )

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._holdings.clear()
            self._shapes.clear()  # what they shared: their headers, a key among them

    def _of(self, key: str) -> list[RecordedRequest]:
        """``key``'s entries, oldest first: read without the other keys'."""
        with self._lock:
            raws = list(self._kept.get(key, ()))
        return [_materialise(raw) for raw in raws]

    def __iter__(self) -> Iterator[RecordedRequest]:
        with self._lock:
            kept = [list(entries) for entries in self._kept.values()]
        merged = heapq.merge(*kept, key=attrgetter("order"))
        return iter([_materialise(raw) for raw in merged])

    def __len__(self) -> int:
        return self._holdings.total_items

    def close(self) -> None:
        """Stop background work (a shared record's writer; here: none)."""
