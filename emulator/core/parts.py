"""The parts of an `Engine` made from its settings: its clock, its jobs, its request record
and its files, each this process's own or, with a shared store, one every process reads
alike."""

from __future__ import annotations

from collections.abc import Callable

from emulator.config import EmulatorConfig
from emulator.contracts.documents import Contracts
from emulator.core.clock import Clock, ManualClock, SharedManualClock, SystemClock, WallClock
from emulator.core.files import Storage
from emulator.core.jobs import Budget, Job, JobStore
from emulator.core.record import RequestRecord
from emulator.core.shared_jobs import SharedJobStore
from emulator.core.store import Store


def clock_for(clock: Clock | None, store: Store | None) -> Clock:
    """The clock asked for; with a shared store, one every process reads alike."""
    if store is None:
        return clock or WallClock()
    if isinstance(clock, ManualClock):
        return SharedManualClock(store, clock)
    return clock if clock is not None and not isinstance(clock, WallClock) else SystemClock()


def job_store_for(
    config: EmulatorConfig,
    store: Store | None,
    contracts: Contracts,
    finished: Callable[[Job, float], bool] | None = None,
) -> JobStore | SharedJobStore:
    """The jobs, within the budgets; past a total one, only jobs ``finished`` says are (at
    a time) may make room for another's."""
    budget = Budget(
        retention=config.retention,
        max_jobs=config.max_jobs,
        max_bytes=config.max_retained_bytes,
        max_jobs_per_key=config.max_jobs_per_key,
        max_bytes_per_key=config.max_retained_bytes_per_key,
    )
    if store is None:
        return JobStore(budget, finished)
    return SharedJobStore(store, budget, contracts.get, finished)


def record_for(config: EmulatorConfig, store: Store | None) -> RequestRecord:
    return RequestRecord(
        max_entries=config.max_recorded_requests,
        max_entries_per_key=config.max_recorded_requests_per_key,
        max_bytes=config.max_recorded_bytes,
        store=store,
    )


def storage_for(config: EmulatorConfig, store: Store | None, clock: Clock | None = None) -> Storage:
    """The uploads, within their budgets, each finished file kept as long as a job is, by
    ``clock`` (the engine's: one `clock_for` made; None: `clock_for`'s default)."""
    return Storage(
        directory=config.storage_dir if store is None else config.uploads_dir,
        max_file_bytes=config.max_upload_bytes,
        max_total_bytes=config.max_storage_bytes,
        max_owner_bytes=config.max_storage_bytes_per_key,
        store=store,
        max_inline_upload_bytes=config.max_inline_upload_bytes,
        retention=config.retention,
        now=(clock or clock_for(None, store)).now,
    )
