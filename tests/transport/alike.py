"""A client meets a staged fault in-process as it meets it over a real connection."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emulator import BackgroundServer, emulate
from emulator.core.faults import Fault

#: where the WaveSpeed API is answered in-process
IN_PROCESS = "https://api.wavespeed.ai"


def meets_fault_alike(
    server: BackgroundServer,
    effect: str,
    rule: dict,
    error: type[Exception],
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
