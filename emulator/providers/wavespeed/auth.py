"""WaveSpeed's ``Authorization: Bearer <key>``."""

from __future__ import annotations

from starlette.types import Scope

from emulator.config import EmulatorConfig
from emulator.http.auth import KeyProblem, api_key
from emulator.providers.wavespeed.errors import WaveSpeedError


def caller(scope: Scope, config: EmulatorConfig) -> str:
    """The key the request in ``scope`` is made with: its identity for task ownership.
    Raises 401."""
    try:
        return api_key(scope, config, ("bearer",))
    except KeyProblem as problem:
        if problem.reason == "unknown":
            raise WaveSpeedError(401, "Unauthorized: invalid API key") from None
        raise WaveSpeedError(
            401, "Unauthorized: send 'Authorization: Bearer <WAVESPEED_API_KEY>'"
        ) from None
