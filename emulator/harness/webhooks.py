"""``webhook_verification``: drive a user's webhook handler with signed, forged, replayed,
late, impostor and compact deliveries, signed exactly as the emulator's providers sign them.

    def handler(body: bytes, headers: Mapping[str, str]) -> bool: ...  # True: accepted

The handler gets the verification material the way it would in production: fal's public
keys from ``https://rest.fal.ai/.well-known/jwks.json`` and WaveSpeed's secret from
``GET https://api.wavespeed.ai/api/v3/webhook/secret``, both answered in-process here.
A handler may refuse by returning False or by raising. What it returns is whether it acted
on the delivery: one that acknowledges a repeat (answers it 2xx, so that the provider stops
retrying) without acting on it again returns False for it here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.config import EmulatorConfig
from emulator.core.clock import ManualClock
from emulator.core.engine import Engine
from emulator.emulation import emulate
from emulator.harness.calls import KEY_VARIABLES
from emulator.harness.surfaces import surface_of
from emulator.providers.fal.webhooks import FalWebhooks
from emulator.providers.wavespeed.webhooks import WaveSpeedWebhooks

__all__ = ["DELIVERIES", "SIGNING", "WebhookVerdict", "check_webhook_handler"]

Handler = Callable[[bytes, Mapping[str, str]], Any]
#: how old a "late" delivery is: well past the five minutes both providers document (fal's
#: tolerance, WaveSpeed's recommended maximum age: wavespeed-protocol.md §7)
LATE_SECONDS = 20 * 60
#: each kind of delivery, and whether a correct handler accepts it: a forged one is a new
#: delivery (an id and a time no check has sent), so that only its signature gives it away;
#: an impostor's is signed as the provider signs, with keys (or a secret) not the provider's
DELIVERIES = {
    "signed": True,
    "forged": False,
    "replayed": False,
    "late": False,
    "impostor": False,
    # signed, its JSON laid out as json.dumps does not write it (no spaces, UTF-8): a
    # handler that checks the signature of the JSON parsed and written again refuses it
    "compact": True,
}


#: what else a compact delivery's JSON has that json.dumps would not write, by provider
COMPACT_LAYOUT = {"fal": " and non-ASCII text in UTF-8", "wavespeed": ""}
#: how each provider signs, as a wrongly refused signed delivery is told
SIGNING = {
    "fal": "ED25519, with a key from https://rest.fal.ai/.well-known/jwks.json",
    "wavespeed": "HMAC-SHA256, with the secret of GET /api/v3/webhook/secret for its key",
}
#: why a late delivery is one to refuse, by provider, as a wrongly accepted one is told
TOLERANCE = {
    "fal": "fal documents a five-minute tolerance",
    "wavespeed": "WaveSpeed documents a recommended maximum age of 300 s",
}
#: what a handler did wrong when its verdict on a delivery is not the expected one
_WRONG = {
    "signed": "refused a delivery the provider signed ({signing}): check the signed "
    "message, the key and the header names",
    "forged": "accepted a delivery whose body was changed after it was signed: its "
    "signature was not checked against the body",
    "replayed": "acted on a delivery it had already accepted (the same id again): keep "
    "the ids it accepted, and refuse a repeat, or acknowledge it without acting on it",
    "late": f"accepted a delivery signed {LATE_SECONDS // 60} minutes ago: check its "
    "timestamp ({tolerance}), or a captured delivery can be replayed later",
    "impostor": "accepted a delivery signed as the provider signs, but with keys (or a "
    "secret) that are not the provider's: the keys it trusts are not the ones served",
    "compact": "refused a signed delivery whose JSON has no spaces{layout}: check the "
    "signature of the body's bytes as received, not of the JSON parsed and written again",
}


@dataclass(frozen=True)
class WebhookVerdict:
    delivery: str
    accepted: bool
    expected: bool
    #: what the handler did wrong, in a sentence ("" when the verdict is the expected one)
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.accepted == self.expected

    def line(self) -> str:
        """The verdict as the command line prints it."""
        did = "accepted" if self.accepted else "refused"
        return f"  {self.delivery:<10} {did:<9} {'ok' if self.ok else 'FAILED: ' + self.problem}"


class _Headers(Mapping[str, str]):
    """A delivery's headers as web frameworks give them: looked up in any case (HTTP's
    names are case-insensitive; ASGI's are lower case), listed as they were sent. A plain
    dict refused a correct handler's ``headers["webhook-id"]`` for fal's capitalised names,
    or ``headers["X-Fal-Webhook-Signature"]`` had they been sent in lower case."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._sent = dict(headers)
        self._lower = {name.lower(): value for name, value in self._sent.items()}

    def __getitem__(self, name: str) -> str:
        try:
            return self._lower[name.lower()]
        except KeyError:
            raise KeyError(name) from None  # the name as the handler wrote it

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lower

    def __iter__(self) -> Iterator[str]:
        return iter(self._sent)

    def __len__(self) -> int:
        return len(self._sent)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._sent!r})"


def _accepts(
    handler: Handler, body: bytes, headers: Mapping[str, str]
) -> tuple[bool, BaseException | None]:
    """Whether the handler acted on the delivery, and what it raised to refuse it."""
    try:
        return bool(handler(body, _Headers(headers))), None
    except Exception as error:
        return False, error


def _signer(provider: str, engine: Engine, key: str) -> Callable[..., tuple[bytes, dict[str, str]]]:
    """Signs a new job's delivery as the provider does (its own signing code, under the
    emulation's seed, so the keys match what the emulator serves), dated ``moment``;
    ``compact``, its JSON without spaces and in UTF-8 (fal's carries a model's text, not
    ASCII)."""
    signer = FalWebhooks(engine) if provider == "fal" else WaveSpeedWebhooks(engine)

    def at(moment: float, *, compact: bool = False) -> tuple[bytes, dict[str, str]]:
        job = engine.submit(engine.contracts.of(provider)[0], {"prompt": "webhook"}, key)
        payload: dict[str, Any]
        if provider == "fal":
            said = {"text": "un café, s'il vous plaît ☕"}
            payload = {"request_id": job.id, "status": "OK", "payload": said, "error": None}
        else:
            payload = {"id": job.id, "status": "completed", "outputs": []}
        return signer.signed(job, payload, at=moment, compact=compact)

    return at


def check_webhook_handler(
    handler: Handler, *, provider: str, key: str | None = None, seed: int | None = None
) -> list[WebhookVerdict]:
    """Send the handler one delivery of each kind; the verdicts, in `DELIVERIES` order.

    Each check's deliveries are new ones (their ids unseen), so a handler that remembers
    the ids it accepted, as it should, accepts the next check's too; a ``seed`` repeats
    the same deliveries (ids, keys and secrets) instead.

    ``key``: the API key the deliveries' jobs were submitted with, which is the key a
    WaveSpeed handler must present for the secret. By default, the key the environment
    gives the SDKs (``$WAVESPEED_API_KEY``, ``$FAL_KEY``): the user's own, or the emulated
    placeholder an emulation sets where there is none (as the ``provider_emulator``
    fixture does)."""
    surface_of(provider)  # a ValueError naming the providers for any other
    with emulate(seed=seed, clock=ManualClock()) as emulation:
        key = key or os.environ[KEY_VARIABLES[provider]]
        sign = _signer(provider, emulation.engine, key)
        # another emulator's keys and secrets: what anyone but the provider signs with
        other = Engine(EmulatorConfig(seed=None if seed is None else seed + 1))
        impostor = _signer(provider, other, key)
        now = time.time()
        body, headers = sign(now)
        fresh_body, fresh_headers = sign(now)
        forged = fresh_body.replace(b'"status": "', b'"status": "X', 1)
        old_body, old_headers = sign(now - LATE_SECONDS)
        deliveries = {
            "signed": (body, headers),
            "forged": (forged, fresh_headers),
            "replayed": (body, headers),
            "late": (old_body, old_headers),
            "impostor": impostor(now),
            "compact": sign(now, compact=True),
        }
        other.close()
        return [
            _verdict(provider, name, *_accepts(handler, *deliveries[name])) for name in DELIVERIES
        ]


def _verdict(
    provider: str, delivery: str, accepted: bool, raised: BaseException | None = None
) -> WebhookVerdict:
    expected = DELIVERIES[delivery]
    told = {
        "signing": SIGNING[provider],
        "layout": COMPACT_LAYOUT[provider],
        "tolerance": TOLERANCE[provider],
    }
    wrong = "" if accepted == expected else _WRONG[delivery].format(**told)
    if wrong and raised is not None:  # a crash (a KeyError on a name, say) tells most
        wrong += f" (it raised {type(raised).__name__}: {str(raised)[:300]})"
    return WebhookVerdict(delivery, accepted, expected, wrong)
