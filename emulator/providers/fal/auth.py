"""fal's ``Authorization`` header: ``Key <id>:<secret>``, ``Key <key>`` or ``Bearer <token>``."""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.types import Scope

from emulator.config import EmulatorConfig
from emulator.http.auth import KeyProblem, api_key
from emulator.providers.fal.errors import FalError

_REFUSALS = {
    "missing": "Missing Authorization header; send 'Authorization: Key <FAL_KEY>'",
    "malformed": "Invalid Key Authorization header format. Expected 'Key <key_id>:<key_secret>'.",
    "unknown": "No user found for Key ID and Secret",
    # a client token sent where fal's clients never send one (curl, a hand-written client)
    "token_elsewhere": (
        "Missing Authorization header; a fal_jwt_token opens only the realtime WebSocket, "
        "fal.run and the queue's status stream: send 'Authorization: Key <FAL_KEY>'"
    ),
}


#: the schemes of fal's Authorization header, in lower case
_SCHEMES = ("key", "bearer")


def caller(scope: Scope, config: EmulatorConfig) -> str:
    """The key the request in ``scope`` is made with: its identity for job ownership. Raises 401."""
    try:
        return api_key(scope, config, _SCHEMES)
    except KeyProblem as problem:
        reason = problem.reason
        if reason == "missing" and "fal_jwt_token" in QueryParams(scope.get("query_string", b"")):
            reason = "token_elsewhere"
        raise FalError.detail(401, _REFUSALS[reason]) from None


def accepted_key(scope: Scope, config: EmulatorConfig) -> str | None:
    """The key of a request `caller` accepts; None for one it refuses."""
    try:
        return api_key(scope, config, _SCHEMES)
    except KeyProblem:
        return None
