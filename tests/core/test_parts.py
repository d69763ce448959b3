"""The parts of an engine made from its settings: each its process's own, or shared."""

from pathlib import Path

import pytest

from emulator import EmulatorConfig
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.core.clock import ManualClock, SharedManualClock, SystemClock, WallClock
from emulator.core.jobs import JobStore
from emulator.core.parts import clock_for, job_store_for, storage_for
from emulator.core.shared_jobs import SharedJobStore
from emulator.core.store import MemoryStore


def test_a_clock_is_the_one_asked_for_or_one_every_process_reads_alike() -> None:
    store, manual = MemoryStore(), ManualClock()
    assert clock_for(manual, None) is manual and isinstance(clock_for(None, None), WallClock)
    shared = clock_for(manual, store)
    assert isinstance(shared, SharedManualClock)
    shared.advance(5)  # a second process's manual clock on the same store moves with it
    assert clock_for(ManualClock(), store).now() == shared.now()
    # a wall clock reads each process's own monotonic time: shared, the system's
    assert isinstance(clock_for(None, store), SystemClock)
    assert isinstance(clock_for(WallClock(), store), SystemClock)


def test_jobs_and_files_are_this_processs_own_or_the_stores(tmp_path: Path) -> None:
    contracts = load_contracts([DEFAULT_CONTRACTS_DIR])
    config = EmulatorConfig(storage_dir=tmp_path / "uploads", max_upload_bytes=10)
    assert type(job_store_for(config, None, contracts)) is JobStore
    assert type(job_store_for(config, MemoryStore(), contracts)) is SharedJobStore
    own, shared = storage_for(config, None), storage_for(config, MemoryStore())
    assert own.directory == shared.directory == tmp_path / "uploads"
    assert own.max_file_bytes == shared.max_file_bytes == 10


@pytest.mark.parametrize("shared", [False, True])
def test_files_are_kept_as_long_as_jobs_by_the_engines_clock(shared: bool) -> None:
    store = MemoryStore() if shared else None
    clock = clock_for(ManualClock(), store)  # as the engine makes its clock
    storage = storage_for(EmulatorConfig(retention=30), store, clock)
    stored = storage.put(b"kept", "text/plain", "kept.txt")
    clock.advance(30)
    assert storage.get(stored.id) == stored
    clock.advance(1)
    assert storage.get(stored.id) is None
