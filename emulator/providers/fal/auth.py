"""fal's ``Authorization`` header: ``Key <id>:<secret>``, ``Key <key>`` or ``Bearer <token>``."""

from __future__ import annotations

from starlette.requests import Request

from emulator.config import EmulatorConfig
from emulator.providers.fal.errors import FalError
from emulator.scopes import header as scope_header

__all__ = ["caller"]

_SCHEMES = ("key", "bearer")


def caller(request: Request, config: EmulatorConfig) -> str:
    """The key a request is made with: its identity for job ownership. Raises 401."""
    header = scope_header(request.scope, b"authorization")
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if not header:
        raise FalError.detail(
            401, "Missing Authorization header; send 'Authorization: Key <FAL_KEY>'"
        )
    if scheme.lower() not in _SCHEMES or not credential:
        raise FalError.detail(
            401, "Invalid Key Authorization header format. Expected 'Key <key_id>:<key_secret>'."
        )
    if config.api_keys is not None and credential not in config.api_keys:
        raise FalError.detail(401, "No user found for Key ID and Secret")
    return credential
