"""What an engine keeps in a shared store beside its components' state: the seed and salt
(ids, media and secrets derive from them), the submission counter, and the progression set
through the control plane; and whether another process reset the store since this one
last looked (the ``engine`` topic's version)."""

from __future__ import annotations

import json
from dataclasses import asdict

from emulator.core.clock import Clock, SharedManualClock
from emulator.core.lifecycle import Progression
from emulator.core.store import Store, announcing

#: what a process that never read the engine topic's version has read
_NEVER = object()


def _progression(text: bytes | None) -> Progression | None:
    return Progression(**json.loads(text)) if text else None


def _seed_text(seed: int | None) -> str:
    return "" if seed is None else str(seed)


class SharedEngineState:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._version: object = _NEVER

    def join(self, seed: int | None, salt: str) -> tuple[int | None, str] | None:
        """The store's seed and salt if they changed since this process last looked (the
        first process of all stores ``seed`` and ``salt``); None if they did not. One round
        trip of reads (two the first time of all)."""
        reads = [("get", "topic:engine"), ("get", "engine:seed"), ("get", "engine:salt")]
        version, stored_seed, stored_salt = self.store.batch(reads)
        if stored_salt is None:
            first = [("setnx", "engine:seed", _seed_text(seed)), ("setnx", "engine:salt", salt)]
            version, stored_seed, stored_salt = self.store.batch(first + reads)[2:]
        if version == self._version:
            return None
        self._version = version
        return (int(stored_seed) if stored_seed else None), stored_salt.decode()

    def next_submission(self) -> tuple[int, Progression | None, bool]:
        """The next submission's number, the progression set through the control plane (if
        any), and whether another process reset the store since this one last looked: one
        round trip."""
        number, text, version = self.store.batch(
            [("incr", "engine:number", 1), ("get", "engine:progression"), ("get", "topic:engine")]
        )
        return number, _progression(text), version != self._version

    @property
    def progression(self) -> Progression | None:
        return _progression(self.store.do("get", "engine:progression"))

    @progression.setter
    def progression(self, progression: Progression) -> None:
        self.store.do("set", "engine:progression", json.dumps(asdict(progression)))

    def restart(self, seed: int | None, salt: str, clock: Clock) -> None:
        """Empty the store for a fresh start with ``seed`` and ``salt``, keeping what a
        reset keeps in memory too (the clock's reading, the progression), and tell every
        process."""
        reading = (clock.now(), clock.wall()) if isinstance(clock, SharedManualClock) else None
        progression = self.store.do("get", "engine:progression")
        self.store.flush()
        if isinstance(clock, SharedManualClock) and reading is not None:
            clock.pin(*reading)
        kept = [("set", "engine:progression", progression)] if progression is not None else []
        starting = [("set", "engine:seed", _seed_text(seed)), ("set", "engine:salt", salt)]
        announced = [announcing("engine"), ("get", "topic:engine")]  # one step: all or none
        *_, self._version = self.store.batch([*kept, *starting, *announced])
