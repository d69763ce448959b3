"""The request record kept in a shared `Store`: every process on it reads every request.

Each key's entries are JSON in a list of their own, ``record:entries:<digest of the
key>``, beside their body sizes in ``record:sizes:<digest>``; ``record:keys`` names the
digests. Recording must not cost a request a round trip, so each process writes behind:
`add` queues the entry (in the in-process record it extends, so bounded alike) and wakes
a writer thread, which materialises what is queued and appends it in one batch
(``rpush`` + ``ltrim`` of each key's lists to its newest ``max_entries_per_key``),
`LINGER` (5 ms) after the first entry, so that under load one write carries many.
Whenever it has written an eighth of ``max_entries`` entries or of ``max_bytes`` of
bodies, it also meets the totals: the key holding the most loses its oldest entries, as in
one process's record (`kept_counts`).
Reading the record (`filter`, `calls`, iterating, ``len``) first writes this process's own
queue, so a process always sees its own requests; another process's land once its writer
has run (a few milliseconds, longer under load or while the store is away). Readers get
the entries in the order they were answered (each process's clock: keep the hosts' clocks
in step), bounded by the record's counts and body bytes as one process's record is; a
key's own view (``filter(key=…)``) reads its list alone, which the writers keep within the
totals up to the eighth each may write between its checks.

If the store is away, the writer keeps the entries (within the record's bounds: the
entries they push out could not be kept anyway) and tries again after a pause that grows
to a few seconds; it never raises into a request and never spins. `close` writes what is
left and stops it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from emulator.core.holdings import Holdings
from emulator.core.record import RawEntry, RecordedRequest, RequestRecord, _materialise
from emulator.core.store import Op, Store, StoreUnavailable

#: a hash whose fields are the digests of the keys with entries
KEYS = "record:keys"
#: how much of ``max_entries`` and ``max_bytes`` a process writes between its checks of
#: the store's totals
CHECK_SHARE = 8
#: the most entries appended in one round trip
BATCH = 500
#: seconds the writer waits after the first entry for others to join it
LINGER = 0.005
#: seconds between attempts while the store is away: the first, and the longest
RETRY_FIRST, RETRY_LONGEST = 0.05, 2.0
#: seconds `close` waits for the writer to finish what it is writing
CLOSE_WAIT = 5.0

log = logging.getLogger(__name__)


class SharedRequestRecord(RequestRecord):
    """A `RequestRecord` kept in a `Store`. ``RequestRecord(..., store=store)`` makes one."""

    def __init__(
        self,
        max_entries: int = 50_000,
        max_entries_per_key: int = 10_000,
        body_bytes: int = 64 * 1024,
        max_bytes: int = 64 * 2**20,
        store: Store | None = None,
    ) -> None:
        if store is None:
            raise ValueError("a shared record needs a store")
        super().__init__(max_entries, max_entries_per_key, body_bytes, max_bytes, store)
        self.store: Store = store
        self._writing = threading.Lock()  # one write at a time: the writer's or a reader's
        self._wake, self._stop = threading.Event(), threading.Event()
        self._writer: threading.Thread | None = None
        self._writer_pid = 0  # the process the writer runs in (a fork has none)
        # entries and body bytes written since the last check of the store's totals
        self._unchecked_entries = self._unchecked_bytes = 0

    def entry(
        self, method: str, path: str, query: bytes, headers: Iterable[tuple[bytes, bytes]]
    ) -> RawEntry:
        """A new entry, sharing nothing: it leaves this process within milliseconds for the
        store, so a table of shapes here would only keep requests (and keys) longer."""
        entry = RawEntry(method, list(headers), path)
        entry.query = query
        return entry

    def add(self, entry: RawEntry) -> None:
        """Queue ``entry`` for the writer: kept in this process until it is written."""
        super().add(entry)
        if self._writer_pid != os.getpid():
            self._start()
        self._wake.set()

    def clear(self) -> None:
        """Forget every entry in the store, and this process's queue (another process's
        queued entries still land)."""
        with self._writing:
            super().clear()
            names = self.store.do("hgetall", KEYS)
            self.store.do("delete", KEYS, *(list_ for name in names for list_ in _lists(name)))

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def close(self) -> None:
        """Write what is queued and stop the writer (waits at most `CLOSE_WAIT` seconds)."""
        self._stop.set()
        self._wake.set()
        if self._writer is not None and self._writer_pid == os.getpid():
            self._writer.join(CLOSE_WAIT)
        self._writer_pid = 0  # another `add` starts a new writer
        if not self._write():
            lost = self._holdings.total_items
            log.warning("the store is away: %d recorded requests are lost", lost)

    # -- writing --------------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._writer_pid == os.getpid():
                return
            self._stop.clear()
            self._writer = threading.Thread(target=self._run, name="record-writer", daemon=True)
            self._writer.start()
            self._writer_pid = os.getpid()

    def _run(self) -> None:
        pause = RETRY_FIRST
        while not self._stop.is_set():
            self._wake.wait()
            # Entries arriving close together go in one round trip: under load, a write
            # carries many; alone, an entry lands a moment later.
            self._stop.wait(LINGER)
            self._wake.clear()
            if self._write():
                pause = RETRY_FIRST
            else:  # the store is away: wait, whatever is added meanwhile, then try again
                self._stop.wait(pause)
                pause = min(pause * 2, RETRY_LONGEST)
                self._wake.set()

    def _write(self) -> bool:
        """Append this process's queue to the store; False if the store is away (the
        entries stay queued)."""
        with self._writing:
            while taken := self._take(BATCH):
                try:
                    self._append(taken)
                except StoreUnavailable:
                    self._put_back(taken)
                    return False
                except Exception:  # not the store being away: retrying would fail again
                    log.exception("recorded requests could not be stored: %d lost", len(taken))
        return True

    def _take(self, count: int) -> list[RawEntry]:
        """Up to ``count`` queued entries, each key's oldest first, out of the queue (the
        order between keys does not matter: each has its own list in the store)."""
        taken: list[RawEntry] = []
        with self._lock:
            for key in list(self._kept):
                kept = self._kept[key]
                while kept and len(taken) < count:
                    taken.append(kept.popleft())
                    self._holdings.change(key, -1, -len(taken[-1].body))
                if not kept:
                    del self._kept[key]
                if len(taken) == count:
                    break
        return taken

    def _put_back(self, taken: list[RawEntry]) -> None:
        """Queue ``taken`` again, before what was queued meanwhile, within the bounds."""
        with self._lock:
            for raw in reversed(taken):
                self._kept.setdefault(raw.key, deque()).appendleft(raw)
                self._holdings.change(raw.key, 1, len(raw.body))
            for key in {raw.key for raw in taken}:
                self._trim(key)

    def _append(self, taken: list[RawEntry]) -> None:
        by_key: dict[str, list[RawEntry]] = {}
        for raw in taken:
            by_key.setdefault(raw.key, []).append(raw)
        ops: list[Op] = []
        keep = -self.max_entries_per_key
        for key, raws in by_key.items():
            name = _digest(key)
            entries, sizes = _lists(name)
            ops += [
                ("hset", KEYS, {name: 1}),
                ("rpush", entries, *(_encode(raw) for raw in raws)),
                ("rpush", sizes, *(len(raw.body) for raw in raws)),
                ("ltrim", entries, keep, -1),
                ("ltrim", sizes, keep, -1),
            ]
        self.store.batch(ops)
        self._unchecked_entries += len(taken)
        self._unchecked_bytes += sum(len(raw.body) for raw in taken)
        if (
            self._unchecked_entries * CHECK_SHARE >= self.max_entries
            or self._unchecked_bytes * CHECK_SHARE >= self.max_bytes
        ):
            # The entries are stored: a store error while trimming must not queue them
            # again (recorded twice); the trim is tried again at the next append.
            with contextlib.suppress(StoreUnavailable):
                self._trim_totals()
                self._unchecked_entries = self._unchecked_bytes = 0

    def _trim_totals(self) -> None:
        """Drop the entries of the store beyond the totals, the oldest of the keys holding
        the most first (`kept_counts`): readers would never see them. Trimming keeps each
        key's newest, so two processes trimming at once agree; an entry appended meanwhile
        may cost its key one more of its oldest."""
        names = list(self.store.do("hgetall", KEYS))
        read = self.store.batch([("lrange", _lists(name)[1], 0, -1) for name in names])
        sizes = {name: [int(size) for size in held] for name, held in zip(names, read, strict=True)}
        ops: list[Op] = []
        for name, count in kept_counts(sizes, self.max_entries, self.max_bytes).items():
            if count == len(sizes[name]) and count:
                continue
            if count:
                ops += [("ltrim", list_, -count, -1) for list_ in _lists(name)]
            else:
                ops += [("delete", *_lists(name)), ("hdel", KEYS, name)]
        if ops:
            self.store.batch(ops)

    # -- reading --------------------------------------------------------------------------

    def _read(self) -> list[RecordedRequest]:
        """Every process's entries, in the order they were answered, within the bounds."""
        self._write()
        names = list(self.store.do("hgetall", KEYS))
        newest = -self.max_entries_per_key
        found = self.store.batch([("lrange", _lists(name)[0], newest, -1) for name in names])
        stored = {
            name: [_decode(value) for value in values]
            for name, values in zip(names, found, strict=True)
        }
        sizes = {name: [len(entry.body) for _, entry in read] for name, read in stored.items()}
        kept = kept_counts(sizes, self.max_entries, self.max_bytes)
        return _answered_order(
            decoded for name, read in stored.items() for decoded in read[len(read) - kept[name] :]
        )

    def _of(self, key: str) -> list[RecordedRequest]:
        """``key``'s entries, in the order they were answered: its list alone."""
        self._write()
        stored = self.store.do("lrange", _lists(_digest(key))[0], -self.max_entries_per_key, -1)
        return _answered_order(map(_decode, stored))


def kept_counts(
    sizes: Mapping[str, Sequence[int]], max_entries: int, max_bytes: int
) -> dict[str, int]:
    """How many of its newest entries each list keeps, given the body sizes of its entries
    (oldest first): while the lists pass ``max_entries`` or ``max_bytes`` in all, the one
    holding the most loses its oldest (`Holdings.over`), as one process's record does."""
    holdings = Holdings()
    for name, held in sizes.items():
        holdings.change(name, len(held), sum(held))
    dropped = dict.fromkeys(sizes, 0)
    while (largest := holdings.over(max_entries, max_bytes)) is not None:
        holdings.change(largest, -1, -sizes[largest][dropped[largest]])
        dropped[largest] += 1
    return {name: len(held) - dropped[name] for name, held in sizes.items()}


def _digest(key: str) -> str:
    """A key's name in the store's keys: fixed in length and alphabet, whatever it is."""
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def _lists(name: str) -> tuple[str, str]:
    """The lists of the key whose digest is ``name``: its entries, and their body sizes."""
    return f"record:entries:{name}", f"record:sizes:{name}"


#: a stored entry read back: the order it was answered in (the time, then its place among
#: its process's entries, for entries answered at the same time), and the entry
Decoded = tuple[tuple[float, int], RecordedRequest]


def _answered_order(decoded: Iterable[Decoded]) -> list[RecordedRequest]:
    return [entry for _, entry in sorted(decoded, key=lambda read: read[0])]


def _encode(raw: RawEntry) -> str:
    entry = _materialise(raw)
    data: dict[str, Any] = asdict(entry)
    data["body"] = base64.b64encode(entry.body).decode("ascii")
    data["order"] = raw.order
    return json.dumps(data, separators=(",", ":"))


def _decode(stored: bytes) -> Decoded:
    data = json.loads(stored)
    order = data.pop("order", 0)
    data["body"] = base64.b64decode(data["body"])
    entry = RecordedRequest(**data)
    return (entry.started + entry.duration, order), entry
