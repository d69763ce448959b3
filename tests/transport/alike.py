"""A client meets a staged fault in-process as it meets it over a real connection, and a
request it gives up on is recorded alike."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from emulator import BackgroundServer, emulate
from emulator.core.faults import Fault

#: where the WaveSpeed API is answered in-process
IN_PROCESS = "https://api.wavespeed.ai"
#: fal's surfaces: where each is answered in-process, and under a server's URL
FAL_QUEUE = ("https://queue.fal.run", "/fal/queue")
FAL_RUN = ("https://fal.run", "/fal/run")
#: effects whose exchanges wait out a read timeout on both sides: 2-4 s a test, so slow
WAITED_OUT = {"hang", "media_slow"}


def fault_cases(faults: list[tuple[str, dict, object]]) -> list:
    """The parameters of a fault-alike test, one per ``(effect, rule, error)``, named by
    their effect; those of `WAITED_OUT` marked slow (tests/README.md)."""
    return [
        pytest.param(*fault, id=fault[0], marks=pytest.mark.slow if fault[0] in WAITED_OUT else ())
        for fault in faults
    ]


def meets_fault_alike(
    server: BackgroundServer,
    effect: str,
    rule: dict,
    error: type[Exception] | tuple[type[Exception], ...],
    exchange: Callable[[str, str], bytes],
) -> None:
    """``exchange(base, effect)`` raises ``error`` for the fault against ``server`` and
    in-process alike; in-process, the rule once spent, the next exchange goes through."""
    server.engine.faults.add(Fault.from_dict({"effect": effect, "times": 1, **rule}))
    with pytest.raises(error):
        exchange(server.url + "/wavespeed", effect)
    with emulate() as emulation:
        emulation.add_fault(effect, times=1, **rule)
        with pytest.raises(error):
            exchange(IN_PROCESS, effect)
        assert exchange(IN_PROCESS, effect)  # the rule is spent


def recorded_when_left(
    server: BackgroundServer,
    method: str,
    surface: tuple[str, str],
    path: str,
    headers: dict[str, str],
    rule: dict | None = None,
    **emulation: object,
) -> tuple[list[int], list[int]]:
    """The statuses recorded for a request to ``path`` of fal's ``surface`` that its
    client gives up on (its read timeout), against ``server`` and in-process (an emulation
    of ``emulation``'s options); ``rule``: a fault staged for it on both."""
    host, prefix = surface
    if rule is not None:
        server.engine.faults.add(Fault.from_dict(rule))
    _leave(method, f"{server.url}{prefix}/{path}", headers)
    served = server.engine.record
    deadline = time.monotonic() + 5  # the server hears its client go a moment later
    while not served.filter() and time.monotonic() < deadline:
        time.sleep(0.01)
    with emulate(**emulation) as emulated:
        if rule is not None:
            emulated.add_fault(**rule)
        _leave(method, f"{host}/{path}", headers)
        # in-process, the app has answered before the client raises its timeout
        return [entry.status for entry in served.filter()], [
            entry.status for entry in emulated.requests
        ]


def _leave(method: str, url: str, headers: dict[str, str]) -> None:
    body = {"prompt": "x"} if method == "POST" else None
    with pytest.raises(httpx.ReadTimeout):
        httpx.request(method, url, json=body, headers=headers, timeout=0.2)
