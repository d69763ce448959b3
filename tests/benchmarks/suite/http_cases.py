"""The HTTP cases: the emulator's hot paths under load beside a bare Starlette app on the same
uvicorn and beside aimock, each server in its own process."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

from tests.benchmarks.suite import servers
from tests.benchmarks.suite.load import Load
from tests.benchmarks.suite.table import paired

__all__ = ["Case", "HttpCases"]

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
        aimock = None
        if self.aimock_cli is not None:
            aimock = self.enter_context(servers.aimock(self.aimock_cli, servers.free_port()))
        for server in filter(None, (bare, emulator, logged, aimock)):
            server.wait()
        self._emulator_loads(emulator)
        self.loads["fal status, access log"] = lambda: _fal_status(logged)
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
        port = emulator.port
        self.loads["fal status"] = lambda: _fal_status(emulator)
        self.loads["fal result"] = lambda: Load(
            port, _path(_job(emulator, FAL_SUBMIT, FAL, FINISHED)["response_url"]), headers=FAL
        )
        self.loads["fal submit"] = lambda: Load(port, FAL_SUBMIT, "POST", FAL_FLOOD + JSON, BODY)
        self.loads["wavespeed result"] = lambda: Load(
            port,
            _path(_job(emulator, WAVESPEED_SUBMIT, WAVESPEED, FINISHED)["data"]["urls"]["get"]),
            headers=WAVESPEED,
        )
        self.loads["wavespeed submit"] = lambda: Load(
            port, WAVESPEED_SUBMIT, "POST", WAVESPEED_FLOOD + JSON, BODY
        )

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


def _job(server: servers.Server, submit: str, key: tuple, progression: str) -> dict:
    """A new job on ``server``, moving as ``progression`` says (queued again afterwards)."""
    server.post("/_emulator/progression", {"progression": progression}, {})
    try:
        return server.post(submit, PROMPT, dict(key))
    finally:
        server.post("/_emulator/progression", {"progression": QUEUED}, {})


def _fal_status(server: servers.Server) -> Load:
    job = _job(server, FAL_SUBMIT, FAL, QUEUED)
    return Load(server.port, _path(job["status_url"]) + "?logs=0", headers=FAL)
