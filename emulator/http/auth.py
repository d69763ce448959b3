"""API keys: reading ``Authorization: <scheme> <credential>`` and checking it.

Each provider words its own refusals; what a key is and whether it is accepted is the same
for both. A key is also the identity that owns jobs: another key never sees them.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.requests import Request

from emulator.config import EmulatorConfig
from emulator.http.asgi import header

__all__ = ["KeyProblem", "api_key"]


class KeyProblem(Exception):
    """Why a request's key is refused: ``missing``, ``malformed`` or ``unknown``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def api_key(request: Request, config: EmulatorConfig, schemes: Collection[str]) -> str:
    """The credential of a request whose scheme is one of ``schemes`` (lower case)."""
    value = header(request.scope, b"authorization").strip()
    if not value:
        raise KeyProblem("missing")
    scheme, _, credential = value.partition(" ")
    credential = credential.strip()
    if scheme.lower() not in schemes or not credential:
        raise KeyProblem("malformed")
    if config.api_keys is not None and credential not in config.api_keys:
        raise KeyProblem("unknown")
    return credential
