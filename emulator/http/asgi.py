"""Reading an ASGI scope directly, where building Starlette's objects costs too much."""

from __future__ import annotations

from starlette.types import Scope

from emulator.core.record import first_header


def header(scope: Scope, name: bytes) -> str:
    """The first value of header ``name`` (lower-case bytes), or ``""``."""
    return first_header(scope["headers"], name)
