"""The HTTP cases: the emulator's hot paths under load beside a bare Starlette app on the same
uvicorn and beside aimock, each server in its own process."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

from tests.benchmarks.suite import servers
from tests.benchmarks.suite.load import Load

__all__ = ["HttpCases"]

FAL = (("Authorization", "Key bench"),)
WAVESPEED = (("Authorization", "Bearer bench"),)
JSON = (("Content-Type", "application/json"),)
AIMOCK_FAL = (("x-fal-target-host", "queue.fal.run"),)
PROMPT = {"prompt": "a lighthouse at dusk"}
BODY = json.dumps(PROMPT).encode()
FAL_SUBMIT = "/fal/queue/fal-ai/bitdance"
WAVESPEED_SUBMIT = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class HttpCases(ExitStack):
    """Starts every server on entering and stops them all on leaving; ``cases`` names a
    load per figure."""

    def __init__(self, aimock_cli: Path | None) -> None:
        super().__init__()
        self.aimock_cli = aimock_cli
        self.loads: dict[str, Load] = {}

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
        # Jobs stay queued until switched below, so status polls see a queued job.
        emulator = self.enter_context(
            servers.emulator(servers.free_port(), "--progression", "polls:1000000000,1")
        )
        logged = self.enter_context(servers.emulator(servers.free_port(), "--access-log"))
        aimock = None
        if self.aimock_cli is not None:
            aimock = self.enter_context(servers.aimock(self.aimock_cli, servers.free_port()))
        for server in filter(None, (bare, emulator, logged, aimock)):
            server.wait()
        self._emulator_loads(emulator, logged)
        self.loads["bare status"] = Load(bare.port, "/fal/queue/x/requests/y/status")
        self.loads["bare submit"] = Load(bare.port, FAL_SUBMIT, "POST", JSON, BODY)
        if aimock is not None:
            self._aimock_loads(aimock)

    def _emulator_loads(self, emulator: servers.Server, logged: servers.Server) -> None:
        queued = emulator.post(FAL_SUBMIT, PROMPT, dict(FAL))
        status = _path(queued["status_url"]) + "?logs=0"
        emulator.post("/_emulator/progression", {"progression": "immediate"}, {})
        finished = emulator.post(FAL_SUBMIT, PROMPT, dict(FAL))
        task = emulator.post(WAVESPEED_SUBMIT, PROMPT, dict(WAVESPEED))["data"]
        # Submits under load queue their jobs, as fal's always do (a WaveSpeed submit of a
        # job finished at once would also make its output, which fal's submit never does).
        emulator.post("/_emulator/progression", {"progression": "polls:1000000000,1"}, {})
        port = emulator.port
        self.loads["fal status"] = Load(port, status, headers=FAL)
        self.loads["fal result"] = Load(port, _path(finished["response_url"]), headers=FAL)
        self.loads["fal submit"] = Load(port, FAL_SUBMIT, "POST", FAL + JSON, BODY)
        self.loads["wavespeed result"] = Load(port, _path(task["urls"]["get"]), headers=WAVESPEED)
        self.loads["wavespeed submit"] = Load(
            port, WAVESPEED_SUBMIT, "POST", WAVESPEED + JSON, BODY
        )
        logged_job = logged.post(FAL_SUBMIT, PROMPT, dict(FAL))
        self.loads["fal status, access log"] = Load(
            logged.port, _path(logged_job["status_url"]) + "?logs=0", headers=FAL
        )

    def _aimock_loads(self, aimock: servers.Server) -> None:
        submit = "/fal/fal-ai/bitdance"
        job = aimock.post(submit, PROMPT, dict(AIMOCK_FAL))
        status = "/fal" + _path(job["status_url"])
        self.loads["aimock status"] = Load(aimock.port, status, headers=AIMOCK_FAL)
        self.loads["aimock submit"] = Load(aimock.port, submit, "POST", AIMOCK_FAL + JSON, BODY)

    def cases(self, seconds: float) -> list[tuple[str, Callable[[], dict[str, float]]]]:
        def measure(name: str, load: Load) -> Callable[[], dict[str, float]]:
            def run() -> dict[str, float]:
                result = load.run(seconds)
                return {
                    name: result.rate,
                    f"{name} p50": result.p50_ms,
                    f"{name} p99": result.p99_ms,
                }

            return run

        return [(name, measure(name, load)) for name, load in self.loads.items()]
