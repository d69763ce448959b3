"""fal's short-lived client tokens: ``POST rest.fal.ai/tokens/`` and their checks.

A browser or a realtime client must not hold a key, so it asks (through a proxy, or a
server that holds the key) for a token scoped to the apps it names, and sends it as
``?fal_jwt_token=`` where fal's clients send one: the realtime WebSocket, and a
client-mode `FalStream` (``fal.stream`` on ``fal.run``, and the queue's status stream of
``fal.queue.streamStatus`` and ``fal.subscribe``'s streaming mode). No other request of
``@fal-ai/client`` or ``fal_client`` carries one.

The request body is ``{"allowed_apps": [alias, …], "token_expiration": seconds}``; the
answer is the token as a bare JSON string, which both clients read (fal-protocol.md,
"Realtime"). fal's own tokens are JWTs signed with fal's keys; these are JWT-shaped too
(HS256, signed with a key the engine keeps), so a client that decodes one sees the same
shape. The claim names (``allowed_apps``, ``sub``) and the expiry bounds are guesses.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from emulator.core.engine import Engine
from emulator.http.bodies import read_payload
from emulator.http.responses import json_response
from emulator.providers.fal.auth import caller
from emulator.providers.fal.errors import FalError
from emulator.providers.fal.paths import alias

#: the longest lifetime a token may ask for (a guess: fal publishes none; its clients ask 120)
MAX_EXPIRATION = 24 * 3600
#: the most apps one token may name, and the longest name (bounds, not fal's figures)
MAX_APPS = 32
MAX_APP_LENGTH = 200
#: the longest token the checks read (a real one is a few hundred bytes)
MAX_TOKEN_LENGTH = 4096
_HEADER = {"alg": "HS256", "typ": "JWT"}
_ISSUER = "provider-emulator"


class TokenRejected(Exception):
    """A token that does not open the app: ``status`` is 401 (bad or expired) or 403."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class TokenClaims(NamedTuple):
    """What a realtime token grants: whose jobs, which apps, until when."""

    owner: str  # who the jobs made with it belong to: a fingerprint of the issuing key
    allowed_apps: tuple[str, ...]
    expires: float  # unix seconds

    def speaks_for(self, owner: str) -> bool:
        """Whether the token acts for ``owner``: the key that issued it (whose jobs it may
        follow), or the token's own fingerprint (jobs made with a token of that key)."""
        return owner == self.owner or _owner_of(owner) == self.owner


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _owner_of(key: str) -> str:
    # The key itself must not travel in a token anyone can decode: a fingerprint does.
    return "jwt:" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _requested(payload: Any) -> tuple[list[str], int]:
    """The apps and lifetime a token request asks for; `FalError` 422 naming the field."""
    if not isinstance(payload, dict):
        raise FalError.detail(422, "The body must be a JSON object")
    apps = payload.get("allowed_apps")
    if (
        not isinstance(apps, list)
        or not 0 < len(apps) <= MAX_APPS
        or not all(isinstance(a, str) and 0 < len(a) <= MAX_APP_LENGTH for a in apps)
    ):
        raise FalError.detail(
            422, f"allowed_apps must be a list of 1 to {MAX_APPS} app names (aliases)"
        )
    expiration = payload.get("token_expiration", 120)
    if type(expiration) is not int or not 0 < expiration <= MAX_EXPIRATION:
        raise FalError.detail(
            422, f"token_expiration must be an integer number of seconds, 1 to {MAX_EXPIRATION}"
        )
    return apps, expiration


class Tokens:
    """Issues and checks client tokens, signed with a key the engine owns."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def _key(self) -> bytes:
        # The seed's key, so a reset with a seed signs the same tokens, mixed with a random
        # one the engine keeps, so that knowing a seed forges none. Read afresh: a reset
        # re-seeds the first.
        seeded = self.engine.secret("fal-client-token")
        return hashlib.sha256(self.engine.kept_secret("fal-client-token") + seeded).digest()

    def _sign(self, signing_input: str) -> str:
        return _b64(hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest())

    def issue(self, owner_key: str, apps: Sequence[str], expiration: int) -> str:
        now = int(self.engine.clock.wall())
        claims = {
            "iss": _ISSUER,
            "sub": _owner_of(owner_key),
            "allowed_apps": list(apps),
            "iat": now,
            "exp": now + expiration,
        }
        signing_input = ".".join(
            _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (_HEADER, claims)
        )
        return f"{signing_input}.{self._sign(signing_input)}"

    async def answer(self, request: Request, owner_key: str) -> Response:
        """``POST /tokens/``: the token, as a bare JSON string."""
        apps, expiration = _requested(
            await read_payload(request.scope, request.receive, self.engine.config)
        )
        return json_response(self.issue(owner_key, apps, expiration))

    def check(self, token: str, alias: str) -> TokenClaims:
        """The claims of ``token`` if it opens app ``alias`` now; else `TokenRejected`."""
        claims = self._verified(token)
        if self.engine.clock.wall() >= claims.expires:
            raise TokenRejected(401, "The token has expired; request a new one")
        if alias not in claims.allowed_apps:
            raise TokenRejected(403, f"The token does not allow the app '{alias}'")
        return claims

    def admitted(self, connection: HTTPConnection, app: str) -> TokenClaims | None:
        """The claims of the ``?fal_jwt_token=`` a request carries if it opens ``app`` (an
        endpoint id or app path) now; None if it carries none; `FalError` 401 or 403 saying
        why one does not."""
        token = query_token(connection)
        if token is None:
            return None
        try:
            return self.check(token, alias(app))
        except TokenRejected as rejected:
            raise FalError.detail(rejected.status, rejected.message) from None

    def owner(self, connection: HTTPConnection, app: str) -> str:
        """Whose request it is, on a surface that takes a token: the token's owner if it
        carries one (`admitted`), else its key's (`caller`)."""
        claims = self.admitted(connection, app)
        if claims is None:
            return caller(connection.scope, self.engine.config)
        return claims.owner

    def _verified(self, token: str) -> TokenClaims:
        parts = token.split(".") if len(token) <= MAX_TOKEN_LENGTH else []
        if len(parts) != 3:
            raise TokenRejected(401, "Invalid token")
        signing_input = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._sign(signing_input), parts[2]):
            raise TokenRejected(401, "Invalid token signature")
        try:
            claims = json.loads(_unb64(parts[1]))
            return TokenClaims(
                str(claims["sub"]), tuple(claims["allowed_apps"]), float(claims["exp"])
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise TokenRejected(401, "Invalid token") from None


def query_token(connection: HTTPConnection) -> str | None:
    """The ``fal_jwt_token`` a client sent in the query string, if any."""
    return connection.query_params.get("fal_jwt_token")
