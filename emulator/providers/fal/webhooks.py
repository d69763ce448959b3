"""fal's webhooks: the payload, its Ed25519 signature, and the public key set.

A delivery is ``{request_id, gateway_request_id, status: OK|ERROR, payload, error}`` as
Python's ``json.dumps(sort_keys=True)`` writes it, signed over
``"{request_id}\\n{user_id}\\n{timestamp}\\n{sha256_hex(body)}"`` with a key whose public
half is served at ``/.well-known/jwks.json`` on the REST host. Retried ten times over about
two hours (fal: "10 times in the span of 2 hours"), scaled by ``webhook_time_scale``.

With shared state, a delivery is rebuilt by whichever worker attempts it (`build_shared`,
registered under "fal"), from the job and the base URLs of the request that asked for it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.core.engine import Engine
from emulator.core.jobs import Job
from emulator.core.outcomes import JobFailed
from emulator.core.shared_webhooks import register_builder
from emulator.core.webhooks import encode_body
from emulator.media.links import Linker, data_uri_linker, url_linker
from emulator.providers.fal.errors import failure_error

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

#: waits between attempts: 15 s doubling, ten attempts in about two hours
RETRY_SCHEDULE = tuple(15.0 * 2**n for n in range(9))


def _jwk_base64(data: bytes) -> str:
    # GUESS: padded. fal's own Python verifier (its webhooks docs) decodes ``x`` with a
    # bare ``base64.urlsafe_b64decode``, which refuses it unpadded; JWK's own base64url
    # is unpadded, and its readers (PyJWT, jose, Node's "base64url") take both.
    return base64.urlsafe_b64encode(data).decode()


@functools.lru_cache(maxsize=8)
def _signing_key(secret: bytes) -> Ed25519PrivateKey:
    # cryptography loads here, at the first signature or key set, not with the app
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(secret)


class FalWebhooks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def _key(self) -> Ed25519PrivateKey:
        # From the engine's seeded secret, so a reset with a seed signs as a fresh start with
        # that seed would; cached per secret, as signing happens on every delivery.
        return _signing_key(self.engine.secret("fal-webhook-key"))

    @property
    def jwks(self) -> dict[str, Any]:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": _jwk_base64(public),  # as fal's docs decode it
                    "use": "sig",
                    "alg": "EdDSA",
                    "kid": hashlib.sha256(public).hexdigest()[:16],
                }
            ]
        }

    def user_id(self, key: str) -> str:
        return hashlib.sha256(f"fal-user:{key}".encode()).hexdigest()[:24]

    def watch(
        self, job: Job, url: str, link: Callable[[], Linker], bases: dict[str, str] | None = None
    ) -> None:
        """Deliver ``job``'s result to ``url`` when done, media linked by ``link()`` (or, in
        another process sharing the store, under ``bases``: see `build_shared`)."""
        build = lambda: self.signed(job, self._payload(job, link()))  # noqa: E731
        self.engine.watch_webhook(job, url, job.id, build, RETRY_SCHEDULE, bases)

    def _payload(self, job: Job, link: Linker) -> dict[str, Any]:
        envelope: dict[str, Any] = {"request_id": job.id, "gateway_request_id": job.id}
        try:
            output = self.engine.outcome(job, link)
        except JobFailed as failed:
            error = failure_error(failed.failure)
            return {
                **envelope,
                "status": "ERROR",
                "error": f"Invalid status code: {error.status}",
                "payload": error.body,
            }
        return {**envelope, "status": "OK", "error": None, "payload": output}

    def signed(
        self, job: Job, payload: dict[str, Any], *, at: float | None = None, compact: bool = False
    ) -> tuple[bytes, dict[str, str]]:
        """The delivery of ``payload`` for ``job``: its body and signed headers, dated now
        (or ``at``, unix seconds); ``compact``: its JSON without spaces, in UTF-8."""
        body = encode_body(payload, compact=compact, sort_keys=True)
        timestamp = str(int(time.time() if at is None else at))
        user = self.user_id(job.owner)
        message = f"{job.id}\n{user}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode()
        headers = {
            "Content-Type": "application/json",
            "X-Fal-Webhook-Request-Id": job.id,
            "X-Fal-Webhook-User-Id": user,
            "X-Fal-Webhook-Timestamp": timestamp,
            "X-Fal-Webhook-Signature": self._key.sign(message).hex(),
        }
        return body, headers


def build_shared(engine: Engine, job: Job, bases: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The signed delivery of ``job``, its media as URLs under ``bases["cdn"]`` (as data
    URIs when there is none: the input asked for ``sync_mode``)."""
    cdn = bases.get("cdn")
    link = url_linker(engine.media, cdn) if cdn else data_uri_linker(engine.media)
    webhooks = FalWebhooks(engine)
    return webhooks.signed(job, webhooks._payload(job, link))


register_builder("fal", build_shared)
