"""provider-emulator: the fal.ai and WaveSpeed AI APIs, offline.

The public API is what ``__all__`` lists; every other module is an implementation detail.
"""

from emulator._version import __version__
from emulator.app import create_app
from emulator.config import EmulatorConfig
from emulator.contracts.documents import ContractError, Contracts, Endpoint, load_contracts
from emulator.core.clock import Clock, ManualClock, WallClock
from emulator.core.engine import Engine
from emulator.core.lifecycle import Progression
from emulator.emulation import Emulation, emulate

__all__ = [
    "Clock",
    "ContractError",
    "Contracts",
    "Emulation",
    "EmulatorConfig",
    "Endpoint",
    "Engine",
    "ManualClock",
    "Progression",
    "WallClock",
    "__version__",
    "create_app",
    "emulate",
    "load_contracts",
]
