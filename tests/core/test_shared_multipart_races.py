"""Multipart uploads in a shared store when the processes sharing it race: one stalls,
dies, is killed or loses the store's answer midway while another goes on."""

from __future__ import annotations

import contextlib
import secrets
import selectors
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from emulator.core.files import Storage
from emulator.core.store import Op, Store, StoreUnavailable, open_store
from emulator.core.stored_files import StorageError, StoredFile
from tests import shared_stores
from tests.core.shared_storage import (
    Pair,
    left_on_disk,
    storage_on,
    storage_pair,
    upload_started,
)

stores = shared_stores.stores  # the fixture: every test on memory, SQLite and Redis
session_redis = shared_stores.session_redis


class _Stalling(shared_stores.Dying):
    """``store`` as a process sees it that stalls just after its ``after``-th round trip
    while ``meanwhile`` runs (another process's work, interleaved there)."""

    def __init__(self, store: Store, after: int, meanwhile: Callable[[], object]) -> None:
        super().__init__(store, fatal=0)
        self.after, self.meanwhile = after, meanwhile

    def batch(self, ops: Sequence[Op]) -> list[Any]:
        return self._then(self.store.batch(ops))

    def guarded(self, guard: Op, ops: Sequence[Op]) -> list[Any] | None:
        return self._then(self.store.guarded(guard, ops))

    def _then(self, answer: Any) -> Any:
        self.trips += 1
        if self.trips == self.after:
            self.meanwhile()
        return answer


class _Killed(BaseException):
    """The process was killed (SIGKILL, OOM): nothing more runs in it."""


class _KilledAfter(shared_stores.Dying):
    """``store`` as a process sees it that is killed just after its ``fatal``-th round
    trip reached the store (and its answer came back): nothing after it runs."""

    def batch(self, ops: Sequence[Op]) -> list[Any]:
        return self._then(lambda: self.store.batch(ops))

    def guarded(self, guard: Op, ops: Sequence[Op]) -> list[Any] | None:
        return self._then(lambda: self.store.guarded(guard, ops))

    def _then(self, trip: Callable[[], Any]) -> Any:
        if self.trips >= self.fatal:
            raise _Killed
        answer, self.trips = trip(), self.trips + 1
        if self.trips == self.fatal:
            raise _Killed
        return answer


@pytest.mark.parametrize("fatal", range(1, 8))
def test_a_process_dying_as_it_drops_a_waiting_upload_leaves_no_bytes_counted(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fatal: int
) -> None:
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 1)
    first, _ = storage_pair(stores, tmp_path)
    upload = first.start_multipart("a", "text/plain", owner="k")
    first.put_part(upload, 1, b"x" * 100)  # over the inline limit: a file on disk
    dying = storage_on(shared_stores.Dying(stores[1], fatal), tmp_path)  # type: ignore[arg-type]
    with contextlib.suppress(StoreUnavailable):
        dying.reserve("b", "text/plain", owner="k")  # the multipart is dropped to make room
    waiting = f"m:{upload}" in stores[0].do("zrange", "files:waiting", 0, -1)
    counted = int(stores[0].do("get", "files:total") or 0)
    assert counted == (100 if waiting else 0)
    assert int(stores[0].do("get", "files:owner:k") or 0) == counted


@pytest.mark.parametrize("fatal", range(1, 7))
def test_a_completion_cut_short_by_a_dying_process_is_taken_over_by_a_retry(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fatal: int
) -> None:
    # The process dies before its ``fatal``-th round trip of the completion: reading the
    # upload, claiming it, reading it again, reading its parts, keeping the file (or after
    # it all).
    monkeypatch.setattr("emulator.core.shared_multipart.COMPLETION_LEASE", 0.0)  # at once
    monkeypatch.setattr("emulator.core.store.SETTLE", 0.0)  # a dead process retries nothing
    first, second, upload = upload_started(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 100)), (2, first.put_part(upload, 2, b"yz"))]
    first.put_part(upload, 3, b"not listed")  # kept, counted, and dropped on completion
    dying = storage_on(shared_stores.Dying(stores[1], fatal), tmp_path)  # type: ignore[arg-type]
    try:
        completed = dying.complete_multipart(upload, parts)
    except StoreUnavailable:
        completed = second.complete_multipart(upload, parts)  # the client's retry
    else:
        with pytest.raises(StorageError) as gone:
            second.complete_multipart(upload, parts)
        assert gone.value.status == 404
    assert first.read(completed) == b"x" * 100 + b"yz"
    # the parts became the file: counted once, as the file's bytes; nothing else is left
    assert int(stores[0].do("get", "files:total")) == 102
    assert int(stores[0].do("get", "files:owner:k")) == 102
    assert stores[0].do("hgetall", f"files:multipart:{upload}") == {}
    assert stores[0].do("zrange", "files:waiting", 0, -1) == []
    assert stores[0].do("zrange", "files:completing", 0, -1) == []
    kept = [p.name for p in (tmp_path / "uploads").iterdir()]  # named after its lease
    assert len(kept) == 1 and kept[0].startswith(f"{completed.id}-")


def test_a_retry_after_the_lease_ran_out_takes_over_though_another_upload_waited_first(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The docs: a dead worker's completion is taken over by the client's retry once the
    # lease has run out, "and otherwise" dropped by the next upload that waits. On a busy
    # server another upload almost always waits first, and the sweep drops it then: the
    # retry (all its parts sent, its ETags right) is answered 404, the upload lost.
    monkeypatch.setattr("emulator.core.shared_multipart.COMPLETION_LEASE", 0.0)  # it ran out
    monkeypatch.setattr("emulator.core.store.SETTLE", 0.0)  # a dead process retries nothing
    first, second, upload = upload_started(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 100))]
    with pytest.raises(StoreUnavailable):  # died after its claim (trip 2)
        storage_on(shared_stores.Dying(stores[1], 3), tmp_path).complete_multipart(upload, parts)  # type: ignore[arg-type]
    second.reserve("other.png", "image/png", owner="another")  # someone else's upload
    assert first.read(second.complete_multipart(upload, parts)) == b"x" * 100


def test_a_file_grown_past_the_limit_by_racing_parts_is_refused_on_completion(
    stores: Pair, tmp_path: Path
) -> None:
    # Two parts uploaded at once each pass the size check (each sees the other's absent);
    # the completion used to refuse the file they make (413), as the in-process one does.
    first, second = storage_pair(stores, tmp_path, max_file_bytes=150)
    upload = first.start_multipart("a.bin", "application/octet-stream", owner="k")
    tags: dict[int, str] = {}
    racing = storage_on(  # its part 1 read the upload's size, then part 2 arrived
        _Stalling(stores[1], 1, lambda: tags.setdefault(2, second.put_part(upload, 2, b"y" * 100))),  # type: ignore[arg-type]
        tmp_path,
        max_file_bytes=150,
    )
    tags[1] = racing.put_part(upload, 1, b"x" * 100)
    with pytest.raises(StorageError) as too_big:
        first.complete_multipart(upload, sorted(tags.items()))
    assert too_big.value.status == 413


@pytest.mark.parametrize("stall_after", [2, 4])
def test_a_live_completion_outlasts_the_uploads_that_wait_after_it(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stall_after: int
) -> None:
    # Newer uploads arrive while its holder, alive, is between claiming (trip 2) and
    # reading the parts (4), or reading and keeping (5): the waiting bound drops the
    # oldest waiting upload, never a completion's lease (once one did: a 500, a file left).
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 1)
    first, second, upload = upload_started(stores, tmp_path)
    contents = [b"x" * 60, b"y" * 60] + ([b"z" * 100] if stall_after == 2 else [])
    parts = [(n, first.put_part(upload, n, data)) for n, data in enumerate(contents, 1)]
    holder = storage_on(
        _Stalling(stores[1], stall_after, lambda: second.reserve("b", "text/plain")), tmp_path
    )  # type: ignore[arg-type]
    stored = holder.complete_multipart(upload, parts)
    assert first.read(stored) == b"".join(contents)
    assert int(stores[0].do("get", "files:total")) == stored.size
    assert [name.split("-")[0] for name in left_on_disk(tmp_path)] == [upload]


def test_a_completion_taken_over_while_it_stalled_answers_404(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("emulator.core.shared_multipart.COMPLETION_LEASE", 0.0)  # it ran out
    monkeypatch.setattr("emulator.core.store.SETTLE", 0.0)  # a dead process retries nothing
    first, second, upload = upload_started(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 100)), (2, first.put_part(upload, 2, b"yz"))]
    done: list[object] = []
    stalled = storage_on(  # claimed (trip 2), then stalled while the client's retry completed it
        _Stalling(stores[1], 2, lambda: done.append(second.complete_multipart(upload, parts))),  # type: ignore[arg-type]
        tmp_path,
    )
    with pytest.raises(StorageError) as taken:
        stalled.complete_multipart(upload, parts)  # not a FileNotFoundError (a 500)
    assert taken.value.status == 404
    assert first.read(done[0]) == b"x" * 100 + b"yz"  # type: ignore[arg-type]


def test_a_stalled_completion_taken_over_does_not_overwrite_the_file_it_lost(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stalled process read parts 1-3 (trip 4); the retry, listing 1-2, took it over
    # and kept a 120-byte file on disk; the stalled one then writes its 180 bytes there.
    monkeypatch.setattr("emulator.core.shared_multipart.COMPLETION_LEASE", 0.0)  # it ran out
    monkeypatch.setattr("emulator.core.store.SETTLE", 0.0)  # a dead process retries nothing
    first, second, upload = upload_started(stores, tmp_path)
    parts = [(n, first.put_part(upload, n, bytes([96 + n]) * 60)) for n in (1, 2, 3)]
    done: list[StoredFile] = []
    stalled = storage_on(
        _Stalling(stores[1], 4, lambda: done.append(second.complete_multipart(upload, parts[:2]))),  # type: ignore[arg-type]
        tmp_path,
    )
    with pytest.raises(StorageError):
        stalled.complete_multipart(upload, parts)
    assert first.get(upload) == done[0]
    assert first.read(done[0]) == b"a" * 60 + b"b" * 60  # what its size and ETag say


def test_a_completion_failing_after_it_wrote_the_file_leaves_no_file_once_dropped(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its last step (trip 5) fails after the file's bytes went to disk; the lease is given
    # back (trip 6); the client never retries and the upload is dropped as the oldest.
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 1)
    first, second, upload = upload_started(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 60)), (2, first.put_part(upload, 2, b"y" * 60))]
    blip = shared_stores.Failing(stores[1], shared_stores.nth(lambda ops: True, 5))
    with pytest.raises(StoreUnavailable):
        storage_on(blip, tmp_path).complete_multipart(upload, parts)
    assert f"m:{upload}" in stores[0].do("zrange", "files:waiting", 0, -1)  # it waits again
    second.reserve("b", "text/plain", owner="k")  # and is dropped
    assert int(stores[0].do("get", "files:total") or 0) == 0
    assert left_on_disk(tmp_path) == []


def test_a_part_uploaded_while_the_upload_completes_stays_neither_counted_nor_kept(
    stores: Pair, tmp_path: Path
) -> None:
    first, second, upload = upload_started(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 10))]
    completing = storage_on(  # read the upload (trip 1), then a late part arrived, not listed
        _Stalling(stores[1], 1, lambda: second.put_part(upload, 2, b"late" * 30)),  # type: ignore[arg-type]
        tmp_path,
    )
    stored = completing.complete_multipart(upload, parts)
    assert first.read(stored) == b"x" * 10
    assert int(stores[0].do("get", "files:total")) == 10  # the late part's bytes released
    assert left_on_disk(tmp_path) == []  # and its file (120 bytes: on disk) removed


def _a_part_put_as_its_upload_is_dropped(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Storage, str]:
    """A part read its upload (trip 1) and counted its bytes (2); the upload was then
    dropped as the oldest waiting (another process's new upload), before the part was
    kept (3)."""
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 1)
    first, second, upload = upload_started(stores, tmp_path)
    late = storage_on(
        _Stalling(stores[1], 2, lambda: second.reserve("b", "text/plain", owner="k")),  # type: ignore[arg-type]
        tmp_path,
    )
    with contextlib.suppress(StorageError):
        late.put_part(upload, 1, b"x" * 100)  # on disk
    return first, upload


def test_a_part_put_as_its_upload_is_dropped_is_neither_counted_nor_kept(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = _a_part_put_as_its_upload_is_dropped(stores, tmp_path, monkeypatch)
    assert int(stores[0].do("get", "files:total") or 0) == 0  # its bytes released
    first.clear()  # and at the latest a reset removes its file
    assert left_on_disk(tmp_path) == []


def test_a_part_put_to_an_upload_dropped_under_a_racing_part_is_a_404(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The racing part's keeping wrote the upload's hash again, with no name or owner.
    first, upload = _a_part_put_as_its_upload_is_dropped(stores, tmp_path, monkeypatch)
    with pytest.raises(StorageError) as gone:  # not a KeyError (a 500)
        first.put_part(upload, 2, b"y")
    assert gone.value.status == 404


@pytest.mark.parametrize("size", [5, 100])  # kept inline, and on disk
def test_a_part_kept_as_its_upload_is_dropped_leaves_nothing_counted_nor_kept(
    stores: Pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    # The drop (to make room for another upload) read the upload (trip 4 of the reserve),
    # a part was then kept, and the drop forgot the upload as it had read it.
    monkeypatch.setattr("emulator.core.files.MAX_WAITING", 1)
    _, second, upload = upload_started(stores, tmp_path)
    part = lambda: second.put_part(upload, 1, b"x" * size)  # noqa: E731
    dropping = storage_on(_Stalling(stores[1], 4, part), tmp_path)  # type: ignore[arg-type]
    dropping.reserve("b", "text/plain", owner="k")
    assert second._shared is not None and second._shared.multipart.upload(upload) is None  # dropped
    assert int(stores[0].do("get", "files:total") or 0) == 0
    assert stores[0].do("get", "files:owner:k") is None
    assert stores[0].do("get", f"files:part:{upload}:1") is None
    assert [name for name in left_on_disk(tmp_path) if not name.startswith(".")] == []


def test_a_process_killed_just_after_it_completes_an_upload_leaves_no_part_on_disk(
    stores: Pair, tmp_path: Path
) -> None:
    # Its last step (trip 5) kept the file and forgot the parts in the store; it was
    # killed before it removed the parts' files. Nothing refers to them; a reset keeps them.
    first, second, upload = upload_started(stores, tmp_path)
    parts = [(1, first.put_part(upload, 1, b"x" * 100))]
    with pytest.raises(_Killed):
        storage_on(_KilledAfter(stores[1], 5), tmp_path).complete_multipart(upload, parts)  # type: ignore[arg-type]
    assert first.read(first.get(upload) or StoredFile(upload, "", "", 0)) == b"x" * 100
    second.clear()
    assert left_on_disk(tmp_path) == []


class _CuttingProxy:
    """A loopback TCP proxy to Redis that, once armed, forwards the next script call
    (EVALSHA) and then cuts the connection before its answer reaches the client: the
    store ran it, the client never heard (a reset, or a reply later than the timeout)."""

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition("//")[2].partition("/")[0].rpartition(":")
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}"
        self.armed, self.cuts = False, 0
        self.accepting = threading.Thread(target=self._accept, daemon=True)
        self.accepting.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.target, timeout=5)
                threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        cutting = False
        with client, server, selectors.DefaultSelector() as sel:
            sel.register(client, selectors.EVENT_READ, server)
            sel.register(server, selectors.EVENT_READ, client)
            while events := sel.select(timeout=5):  # idle that long: the test is over
                for key, _ in events:
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    if key.fileobj is client and self.armed and b"EVALSHA" in data:
                        self.armed, cutting = False, True
                    elif key.fileobj is server and cutting:
                        self.cuts += 1
                        return  # the answer is dropped, both connections closed
                    key.data.sendall(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread: it ends
        self.listener.close()


def test_a_completion_whose_answer_was_lost_leaves_no_part_on_disk(
    session_redis: str, tmp_path: Path
) -> None:
    # The last step (trip 4) ran in Redis (the file kept, the parts forgotten), but the
    # connection broke before its answer came back: a 503, the lease is not given back
    # (it is gone), and the part's file, which nothing refers to, stays; a reset keeps it.
    prefix = f"?prefix=t{secrets.token_hex(4)}"
    proxy = _CuttingProxy(session_redis)
    direct, proxied = open_store(session_redis + prefix), open_store(proxy.url + prefix)
    try:
        first = storage_on(direct, tmp_path)
        upload = first.start_multipart("a.bin", "application/octet-stream", owner="k")
        parts = [(1, first.put_part(upload, 1, b"x" * 100))]
        arm = lambda: setattr(proxy, "armed", True)  # noqa: E731
        with pytest.raises(StoreUnavailable):
            storage_on(_Stalling(proxied, 3, arm), tmp_path).complete_multipart(upload, parts)  # type: ignore[arg-type]
        assert proxy.cuts == 1
        assert first.read(first.get(upload) or StoredFile(upload, "", "", 0)) == b"x" * 100
        first.clear()
        assert left_on_disk(tmp_path) == []
    finally:
        direct.flush()
        proxied.close()
        direct.close()
        proxy.close()
        proxy.accepting.join(timeout=5)
