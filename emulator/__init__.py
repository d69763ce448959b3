"""provider-emulator: the fal.ai and WaveSpeed AI APIs, offline.

Everything a user touches is importable from here; the subpackages are implementation
details (see docs/architecture.md).

The names load on first use (PEP 562), so ``import emulator`` costs little more than the
interpreter's start: a test module importing it pays for Starlette, jsonschema and the
rest only when it uses them. Importing any name also loads the providers' contract
layouts, which `Engine` needs to read the contracts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import emulator.providers  # noqa: F401  (registers each provider's contract layout: light)
from emulator._version import __version__

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ loads these
    from emulator.app import create_app
    from emulator.clients import patch_fal_client
    from emulator.config import EmulatorConfig
    from emulator.contracts.documents import ContractError, Contracts, Endpoint
    from emulator.contracts.loading import load_contracts
    from emulator.contracts.served import served_contracts
    from emulator.core.clock import Clock, ManualClock, WallClock
    from emulator.core.engine import Engine
    from emulator.core.faults import Fault, FaultError
    from emulator.core.lifecycle import Progression
    from emulator.core.record import RecordedRequest
    from emulator.core.webhooks import Attempt, Delivery
    from emulator.emulation import Emulation, emulate
    from emulator.server import BackgroundServer
    from emulator.transport.intercept import ConcurrentEmulation
    from emulator.transport.unmatched import UnmatchedRequest

#: public name → the module that defines it
_HOMES = {
    "Attempt": "emulator.core.webhooks",
    "BackgroundServer": "emulator.server",
    "Clock": "emulator.core.clock",
    "ConcurrentEmulation": "emulator.transport.intercept",
    "ContractError": "emulator.contracts.documents",
    "Contracts": "emulator.contracts.documents",
    "Delivery": "emulator.core.webhooks",
    "Emulation": "emulator.emulation",
    "EmulatorConfig": "emulator.config",
    "Endpoint": "emulator.contracts.documents",
    "Engine": "emulator.core.engine",
    "Fault": "emulator.core.faults",
    "FaultError": "emulator.core.faults",
    "ManualClock": "emulator.core.clock",
    "Progression": "emulator.core.lifecycle",
    "RecordedRequest": "emulator.core.record",
    "UnmatchedRequest": "emulator.transport.unmatched",
    "WallClock": "emulator.core.clock",
    "create_app": "emulator.app",
    "emulate": "emulator.emulation",
    "load_contracts": "emulator.contracts.loading",
    "patch_fal_client": "emulator.clients",
    "served_contracts": "emulator.contracts.served",
}

__all__ = [
    "Attempt",
    "BackgroundServer",
    "Clock",
    "ConcurrentEmulation",
    "ContractError",
    "Contracts",
    "Delivery",
    "Emulation",
    "EmulatorConfig",
    "Endpoint",
    "Engine",
    "Fault",
    "FaultError",
    "ManualClock",
    "Progression",
    "RecordedRequest",
    "UnmatchedRequest",
    "WallClock",
    "__version__",
    "create_app",
    "emulate",
    "load_contracts",
    "patch_fal_client",
    "served_contracts",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'emulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next lookup is an ordinary one
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
