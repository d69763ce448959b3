"""The contracts an emulator serves, as its settings say: the documents loaded, fal's
catalogue behind them, and the generic fallback if asked for."""

from __future__ import annotations

from emulator.config import EmulatorConfig
from emulator.contracts.catalogue import Catalogue, shipped_catalogue
from emulator.contracts.documents import Contracts
from emulator.contracts.generic import generic_endpoint
from emulator.contracts.loading import load_contracts


def served_contracts(config: EmulatorConfig | None = None) -> Contracts:
    """Every endpoint an emulator with ``config`` (the defaults if None) serves, curated
    or from the catalogue: ``served_contracts().get("fal", "fal-ai/flux/dev")``."""
    config = config or EmulatorConfig()
    return load_contracts(
        config.contracts,
        catalogue=served_catalogue(config),
        fallback=generic_endpoint if config.unknown_endpoints == "generic" else None,
    )


def served_catalogue(config: EmulatorConfig) -> Catalogue | None:
    """fal's catalogue, unless ``config`` serves the curated endpoints only."""
    return None if config.curated_only else shipped_catalogue()
