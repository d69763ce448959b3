"""Checking a request's API key.

Each provider words its own refusals; what a key is and whether it is accepted is the same
for both.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.types import Scope

from emulator.config import EmulatorConfig
from emulator.core.keys import split_authorization
from emulator.http.asgi import header


class KeyProblem(Exception):
    """Why a request's key is refused: ``missing``, ``malformed`` or ``unknown``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def api_key(scope: Scope, config: EmulatorConfig, schemes: Collection[str]) -> str:
    """The credential of the request in ``scope`` if its scheme is one of ``schemes``
    (lower case)."""
    value = header(scope, b"authorization")
    if not value.strip():
        raise KeyProblem("missing")
    scheme, credential = split_authorization(value)
    if scheme not in schemes or not credential:
        raise KeyProblem("malformed")
    if config.api_keys is not None and credential not in config.api_keys:
        raise KeyProblem("unknown")
    return credential
