"""The request record kept in a shared `Store`: every process on it reads every request.

The entries are JSON in one list, ``record:entries``, beside their body sizes in
``record:sizes``. Recording must not cost a request a round trip, so each process writes
behind: `add` queues the entry and wakes a writer thread, which materialises what is
queued and appends it in one batch (``rpush`` + ``ltrim`` to the newest ``maxlen``),
`LINGER` (5 ms) after the first entry, so that under load one write carries many;
whenever it has written an eighth of ``max_bytes`` of bodies it also drops the oldest
entries beyond ``max_bytes``.
Reading the record (`filter`, `calls`, iterating, ``len``) first writes this process's own
queue, so a process always sees its own requests; another process's land once its writer
has run (a few milliseconds, longer under load or while the store is away). Readers get
the entries in the order they were answered (each process's clock: keep the hosts' clocks
in step), bounded by the record's count and body bytes exactly as one process's record is.

If the store is away, the writer keeps the entries (at most ``maxlen`` of them: older ones
could not be kept anyway) and tries again after a pause that grows to a few seconds; it
never raises into a request and never spins. `close` writes what is left and stops it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict

from emulator.core.record import RawEntry, RecordedRequest, RequestRecord, _materialise
from emulator.core.store import Store, StoreUnavailable

KEY = "record:entries"
#: the body size of each entry of `KEY`, at the same place: pushed and trimmed with it
SIZES = "record:sizes"
#: how much of ``max_bytes`` a process writes between its checks of the store's body bytes
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
        maxlen: int = 10_000,
        body_bytes: int = 64 * 1024,
        max_bytes: int = 64 * 2**20,
        store: Store | None = None,
    ) -> None:
        if store is None:
            raise ValueError("a shared record needs a store")
        super().__init__(maxlen, body_bytes, max_bytes, store)
        self.store: Store = store
        self._writing = threading.Lock()  # one write at a time: the writer's or a reader's
        self._wake, self._stop = threading.Event(), threading.Event()
        self._writer: threading.Thread | None = None
        self._writer_pid = 0  # the process the writer runs in (a fork has none)
        #: entries this process queued and dropped while the store was away, as too old
        self.dropped = 0
        self._unchecked = 0  # body bytes written since the last check of the store's total

    def entry(
        self, method: str, path: str, query: bytes, headers: Iterable[tuple[bytes, bytes]]
    ) -> RawEntry:
        """A new entry, sharing nothing: it leaves this process within milliseconds for the
        store, so a table of shapes here would only keep requests (and keys) longer."""
        entry = RawEntry(method, list(headers), path)
        entry.query = query
        return entry

    def add(self, entry: RawEntry) -> None:
        self._entries.append(entry)  # the queue: atomic, no lock on the request path
        if len(self._entries) > self.maxlen:
            self._drop_oldest()
        if self._writer_pid != os.getpid():
            self._start()
        self._wake.set()

    def clear(self) -> None:
        """Forget every entry in the store, and this process's queue (another process's
        queued entries still land)."""
        with self._writing:
            self._entries.clear()
            self.store.do("delete", KEY, SIZES)

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
        if not self._write() and self._entries:
            log.warning("the store is away: %d recorded requests are lost", len(self._entries))

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
            while self._entries:
                with self._lock:  # `add` may drop the oldest meanwhile: take under its lock
                    taken = [self._entries.popleft() for _ in range(min(BATCH, len(self._entries)))]
                try:
                    self._append(taken)
                except StoreUnavailable:
                    self._requeue(taken)
                    return False
                except Exception:  # not the store being away: retrying would fail again
                    log.exception("recorded requests could not be stored: %d lost", len(taken))
        return True

    def _append(self, taken: list[RawEntry]) -> None:
        values = [_encode(_materialise(raw)) for raw in taken]
        sizes = [len(raw.body) for raw in taken]
        keep = -self.maxlen
        self.store.batch(
            [
                ("rpush", KEY, *values),
                ("rpush", SIZES, *sizes),
                ("ltrim", KEY, keep, -1),
                ("ltrim", SIZES, keep, -1),
            ]
        )
        self._unchecked += sum(sizes)
        if self._unchecked * CHECK_SHARE >= self.max_bytes:
            # The entries are stored: a store error while trimming must not queue them
            # again (recorded twice); the trim is tried again at the next append.
            with contextlib.suppress(StoreUnavailable):
                self._trim_bytes()
                self._unchecked = 0

    def _trim_bytes(self) -> None:
        """Drop the oldest entries of the store beyond ``max_bytes`` of bodies: readers
        would never see them. Trimming keeps the newest, so two processes trimming at once
        agree; an entry appended meanwhile may cost one more of the oldest."""
        kept, total = 0, 0
        for size in reversed(self.store.do("lrange", SIZES, -self.maxlen, -1)):
            total += int(size)
            if total > self.max_bytes:
                break
            kept += 1
        else:
            return
        if kept:
            self.store.batch([("ltrim", KEY, -kept, -1), ("ltrim", SIZES, -kept, -1)])
        else:
            self.store.do("delete", KEY, SIZES)

    def _requeue(self, taken: list[RawEntry]) -> None:
        with self._lock:
            self._entries.extendleft(reversed(taken))
        if len(self._entries) > self.maxlen:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        with self._lock:
            while len(self._entries) > self.maxlen:
                self._entries.popleft()
                self.dropped += 1

    # -- reading --------------------------------------------------------------------------

    def _read(self) -> list[RecordedRequest]:
        """Every process's entries, in the order they were answered, within the bounds."""
        self._write()
        stored = self.store.do("lrange", KEY, -self.maxlen, -1)
        entries = sorted(map(_decode, stored), key=lambda entry: entry.started + entry.duration)
        kept = sum(len(entry.body) for entry in entries)
        first = 0
        while kept > self.max_bytes:  # the oldest go first, as in one process's record
            kept -= len(entries[first].body)
            first += 1
        return entries[first:]


def _encode(entry: RecordedRequest) -> str:
    data = asdict(entry)
    data["body"] = base64.b64encode(entry.body).decode("ascii")
    return json.dumps(data, separators=(",", ":"))


def _decode(stored: bytes) -> RecordedRequest:
    data = json.loads(stored)
    data["body"] = base64.b64decode(data["body"])
    return RecordedRequest(**data)
