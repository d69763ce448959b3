"""Reading an ASGI scope directly, where building Starlette's objects costs too much."""

from __future__ import annotations

from starlette.types import Scope

from emulator.core.record import first_header


def header(scope: Scope, name: bytes) -> str:
    """The first value of header ``name`` (lower-case bytes), or ``""``."""
    return first_header(scope["headers"], name)


#: the scope key under which a handler notes which endpoint a request was for
ENDPOINT = "emulator.endpoint"
#: the scope key under which `bodies.read_body` keeps the body it read (what arrived, if it
#: refused it), for the request record
BODY = "emulator.body"


def note_endpoint(scope: Scope, endpoint_id: str) -> None:
    """Tell the request record which endpoint the request in ``scope`` is for."""
    scope[ENDPOINT] = endpoint_id
