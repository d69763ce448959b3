"""provider-emulator: the fal.ai and WaveSpeed AI APIs, offline.

Everything a user touches is importable from here; the subpackages are implementation
details (see docs/architecture.md).
"""

from emulator._version import __version__
from emulator.app import create_app
from emulator.clients import patch_fal_client
from emulator.config import EmulatorConfig
from emulator.contracts.documents import ContractError, Contracts, Endpoint, load_contracts
from emulator.core.clock import Clock, ManualClock, WallClock
from emulator.core.engine import Engine
from emulator.core.faults import Fault, FaultError
from emulator.core.lifecycle import Progression
from emulator.core.record import RecordedRequest
from emulator.core.webhooks import Attempt, Delivery
from emulator.emulation import Emulation, emulate
from emulator.server import BackgroundServer
from emulator.transport.intercept import UnmatchedRequest

__all__ = [
    "Attempt",
    "BackgroundServer",
    "Clock",
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
]
