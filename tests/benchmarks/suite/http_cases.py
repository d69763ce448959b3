"""The HTTP cases: the emulator's hot paths under load beside a bare Starlette app on the same
uvicorn and beside aimock, each server in its own process."""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

from tests.benchmarks.suite import servers
from tests.benchmarks.suite.load import Load, cpus_to_share, on_one_cpu
from tests.benchmarks.suite.table import paired

__all__ = ["EMULATOR_LOADS", "Case", "HttpCases"]

FAL = (("Authorization", "Key bench"),)
WAVESPEED = (("Authorization", "Bearer bench"),)
# Submits under load use their own key: the per-key budget evicts that key's oldest jobs,
# never the polled ones.
FAL_FLOOD = (("Authorization", "Key flood"),)
WAVESPEED_FLOOD = (("Authorization", "Bearer flood"),)
JSON = (("Content-Type", "application/json"),)
AIMOCK_FAL = (("x-fal-target-host", "queue.fal.run"),)
PROMPT = {"prompt": "a lighthouse at dusk"}
BODY = json.dumps(PROMPT).encode()
FAL_SUBMIT = "/fal/queue/fal-ai/bitdance"
WAVESPEED_SUBMIT = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
QUEUED, FINISHED = "polls:1000000000,1", "immediate"

#: the pairs of loads also measured at once, their two servers sharing one CPU (`on_one_cpu`):
#: on servers whose pasts are alike (status polls only; one provider's submits only), but
#: for the first (the A/A test), whose main server also holds the submits' jobs
SHARED = (
    ("fal status", "fal status, a twin server"),
    ("fal status, access log", "fal status, a twin server"),
    ("wavespeed submit, a server of its own", "fal submit, a server of its own"),
)

#: a figure's load, made afresh each round (so that a job polled exists that round)
LoadFactory = Callable[[], Load]
Case = tuple[str, Callable[[], dict[str, float]]]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class HttpCases(ExitStack):
    """Starts every server on entering and stops them all on leaving; ``cases`` gives one
    measurement per figure."""

    def __init__(self, aimock_cli: Path | None) -> None:
        super().__init__()
        self.aimock_cli = aimock_cli
        self.loads: dict[str, LoadFactory] = {}
        self._pids: dict[int, int] = {}  # a server's process, by its port

    def __enter__(self) -> HttpCases:
        super().__enter__()
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        bare = self.enter_context(servers.bare(servers.free_port()))
        # Jobs stay queued unless a case finishes them (see _job).
        emulator = self.enter_context(
            servers.emulator(servers.free_port(), "--progression", QUEUED)
        )
        logged = self.enter_context(
            servers.emulator(servers.free_port(), "--progression", QUEUED, "--access-log")
        )
        # The same server again: how far apart two identical servers measure (an A/A test)
        # is how far from its goal a figure must be for its verdict to mean anything. And a
        # server for each provider's submits, for the pairs measured at once (`SHARED`).
        twin, fal_submits, wavespeed_submits = (
            self.enter_context(servers.emulator(servers.free_port(), "--progression", QUEUED))
            for _ in range(3)
        )
        aimock = None
        if self.aimock_cli is not None:
            aimock = self.enter_context(servers.aimock(self.aimock_cli, servers.free_port()))
        started = (bare, emulator, logged, twin, fal_submits, wavespeed_submits, aimock)
        for server in filter(None, started):
            server.wait()
            self._pids[server.port] = server.process.pid
        self._emulator_loads(emulator)
        self.loads["fal status, access log"] = lambda: _fal_status(logged)
        self.loads["fal status, a twin server"] = lambda: _fal_status(twin)
        self.loads["fal submit, a server of its own"] = lambda: _fal_submits(fal_submits.port)
        self.loads["wavespeed submit, a server of its own"] = lambda: _wavespeed_submits(
            wavespeed_submits.port
        )
        self.loads["bare status"] = lambda: Load(bare.port, "/fal/queue/x/requests/y/status")
        self.loads["bare submit"] = lambda: Load(bare.port, FAL_SUBMIT, "POST", JSON, BODY)
        self.loads["bare status, fal's answer"] = lambda: Load(
            bare.port, "/fal-sized/x/requests/y/status"
        )
        self.loads["bare submit, fal's answer"] = lambda: Load(
            bare.port, "/fal-sized" + FAL_SUBMIT, "POST", JSON, BODY
        )
        if aimock is not None:
            self._aimock_loads(aimock)

    def _emulator_loads(self, emulator: servers.Server) -> None:
        for name, make in EMULATOR_LOADS.items():
            self.loads[name] = functools.partial(make, emulator)

    def _aimock_loads(self, aimock: servers.Server) -> None:
        submit = "/fal/fal-ai/bitdance"

        def status() -> Load:
            job = aimock.post(submit, PROMPT, dict(AIMOCK_FAL))
            return Load(aimock.port, "/fal" + _path(job["status_url"]), headers=AIMOCK_FAL)

        self.loads["aimock status"] = status
        self.loads["aimock submit"] = lambda: Load(
            aimock.port, submit, "POST", AIMOCK_FAL + JSON, BODY
        )

    def cases(
        self, seconds: float, pairs: Iterable[tuple[str, str]], pause_ms: int = 0
    ) -> list[Case]:
        """One case per pair of loads a figure compares (pairs of loads this run has), each
        connection waiting ``pause_ms`` after each answer (`Load.run`).

        The two run back to back, each first in turn from round to round: this machine's
        speed drifts over seconds (a load's rate swings up to 2× from one second to the
        next), and a pair measured seconds apart slows alike where one measured a round's
        length apart does not. Each case records both loads' figures and, under
        ``paired(a, b)``, their ratios.
        """
        return [
            (f"{first} beside {second}", self._pair(first, second, seconds, pause_ms))
            for first, second in dict.fromkeys(pairs)
            if first in self.loads and second in self.loads
        ]

    def _pair(
        self, first: str, second: str, seconds: float, pause_ms: int
    ) -> Callable[[], dict[str, float]]:
        turns = itertools.cycle([(first, second), (second, first)])

        def run() -> dict[str, float]:
            results = {name: self.loads[name]().run(seconds, pause_ms) for name in next(turns)}
            figures: dict[str, float] = {}
            for suffix, metric in (("", "rate"), (" p50", "p50_ms"), (" p99", "p99_ms")):
                ours, theirs = (getattr(results[name], metric) for name in (first, second))
                figures |= {first + suffix: ours, second + suffix: theirs}
                if theirs:
                    figures[paired(first + suffix, second + suffix)] = ours / theirs
            return figures

        return run

    def shared_cases(self, seconds: float, pause_ms: int = 0) -> list[Case]:
        """One case per pair of `SHARED` (where this machine can pin processes to a CPU):
        the two loads at once, their servers sharing one CPU and the load generator on the
        others, so that both see the same machine in the same seconds and each the CPU time
        the other leaves (the scheduler shares a CPU out every few milliseconds). Their
        ratio is then near that of the two servers' processor time a request, however the
        machine's speed drifts, which measuring back to back only lessens (`cases`)."""
        if len(cpus_to_share()) < 2:
            return []
        return [
            (f"{first} at once with {second}", self._shared(first, second, seconds, pause_ms))
            for first, second in SHARED
            if first in self.loads and second in self.loads
        ]

    def _shared(
        self, first: str, second: str, seconds: float, pause_ms: int
    ) -> Callable[[], dict[str, float]]:
        orders = itertools.cycle([(first, second), (second, first)])  # started first in turn

        def run() -> dict[str, float]:
            names = next(orders)
            loads = [self.loads[name]() for name in names]
            pids = [self._pids[load.port] for load in loads]
            results = on_one_cpu(loads, pids, seconds, pause_ms)
            rates = {
                f"one CPU: {name}": result.rate for name, result in zip(names, results, strict=True)
            }
            ours, theirs = rates[f"one CPU: {first}"], rates[f"one CPU: {second}"]
            return rates | {paired(f"one CPU: {first}", f"one CPU: {second}"): ours / theirs}

        return run


def _job(server: servers.Server, submit: str, key: tuple, progression: str) -> dict:
    """A new job on ``server``, moving as ``progression`` says (queued again afterwards)."""
    server.post("/_emulator/progression", {"progression": progression}, {})
    try:
        return server.post(submit, PROMPT, dict(key))
    finally:
        server.post("/_emulator/progression", {"progression": QUEUED}, {})


def _fal_submits(port: int) -> Load:
    return Load(port, FAL_SUBMIT, "POST", FAL_FLOOD + JSON, BODY)


def _wavespeed_submits(port: int) -> Load:
    return Load(port, WAVESPEED_SUBMIT, "POST", WAVESPEED_FLOOD + JSON, BODY)


def _fal_status(server: servers.Server) -> Load:
    job = _job(server, FAL_SUBMIT, FAL, QUEUED)
    return Load(server.port, _path(job["status_url"]) + "?logs=0", headers=FAL)


def _fal_result(server: servers.Server) -> Load:
    job = _job(server, FAL_SUBMIT, FAL, FINISHED)
    return Load(server.port, _path(job["response_url"]), headers=FAL)


def _wavespeed_result(server: servers.Server) -> Load:
    job = _job(server, WAVESPEED_SUBMIT, WAVESPEED, FINISHED)
    return Load(server.port, _path(job["data"]["urls"]["get"]), headers=WAVESPEED)


#: the emulator's hot paths, by figure: each a load made afresh on a server (started with
#: ``--progression`` `QUEUED`), a job made for it where it polls one
EMULATOR_LOADS: dict[str, Callable[[servers.Server], Load]] = {
    "fal status": _fal_status,
    "fal result": _fal_result,
    "fal submit": lambda server: _fal_submits(server.port),
    "wavespeed result": _wavespeed_result,
    "wavespeed submit": lambda server: _wavespeed_submits(server.port),
}
