"""WaveSpeed's ``Authorization: Bearer <key>``."""

from __future__ import annotations

from starlette.requests import Request

from emulator.config import EmulatorConfig
from emulator.providers.wavespeed.errors import WaveSpeedError
from emulator.scopes import header

__all__ = ["caller"]


def caller(request: Request, config: EmulatorConfig) -> str:
    """The key a request is made with: its identity for task ownership. Raises 401."""
    scheme, _, key = header(request.scope, b"authorization").strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise WaveSpeedError(401, "Unauthorized: send 'Authorization: Bearer <WAVESPEED_API_KEY>'")
    if config.api_keys is not None and key not in config.api_keys:
        raise WaveSpeedError(401, "Unauthorized: invalid API key")
    return key
