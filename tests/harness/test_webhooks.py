"""``check_webhook_handler``: a verifying handler passes; a trusting one is caught."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Mapping

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from emulator.harness import check_webhook_handler
from emulator.harness.webhooks import Handler

KEY = "webhook-test-key"
TOLERANCE = 300  # seconds, as fal documents


class FalHandler:
    """Verifies as fal's docs say: the JWKS keys, the signed message, the timestamp;
    ``case`` writes the header names it reads (lower case, as an ASGI app's code may)."""

    def __init__(self, case: Callable[[str], str] = str) -> None:
        self.seen: set[str] = set()
        self.case = case

    def __call__(self, body: bytes, headers: Mapping[str, str]) -> bool:
        jwks = httpx.get("https://rest.fal.ai/.well-known/jwks.json").json()
        request_id = headers[self.case("X-Fal-Webhook-Request-Id")]
        timestamp = headers[self.case("X-Fal-Webhook-Timestamp")]
        message = "\n".join(
            [request_id, headers[self.case("X-Fal-Webhook-User-Id")], timestamp,
             hashlib.sha256(body).hexdigest()]
        ).encode()  # fmt: skip
        if abs(time.time() - int(timestamp)) > TOLERANCE or request_id in self.seen:
            return False
        for key in jwks["keys"]:
            raw = base64.urlsafe_b64decode(key["x"])
            try:
                Ed25519PublicKey.from_public_bytes(raw).verify(
                    bytes.fromhex(headers[self.case("X-Fal-Webhook-Signature")]), message
                )
            except InvalidSignature:
                continue
            self.seen.add(request_id)
            return True
        return False


class WaveSpeedHandler:
    def __init__(self, case: Callable[[str], str] = str) -> None:
        self.seen: set[str] = set()
        self.case = case

    def __call__(self, body: bytes, headers: Mapping[str, str]) -> bool:
        secret = httpx.get(
            "https://api.wavespeed.ai/api/v3/webhook/secret",
            headers={"Authorization": f"Bearer {KEY}"},
        ).json()["data"]["secret"]
        webhook_id = headers[self.case("webhook-id")]
        timestamp = headers[self.case("webhook-timestamp")]
        signed = f"{webhook_id}.{timestamp}.".encode() + body
        expected = hmac.new(secret.removeprefix("whsec_").encode(), signed, hashlib.sha256)
        signature = headers[self.case("webhook-signature")]
        if not hmac.compare_digest(f"v3,{expected.hexdigest()}", signature):
            return False
        if abs(time.time() - int(timestamp)) > TOLERANCE or webhook_id in self.seen:
            return False
        self.seen.add(webhook_id)
        return True


def trusting(body: bytes, headers: Mapping[str, str]) -> bool:
    """Accepts everything (`conformance --webhook-handler`'s tests check it)."""
    return True


verifying_fal_handler = FalHandler()


@pytest.mark.parametrize(
    ("provider", "handler"), [("fal", FalHandler), ("wavespeed", WaveSpeedHandler)]
)
def test_a_verifying_handler_refuses_forged_replayed_and_late_deliveries(
    provider: str, handler: type
) -> None:
    verdicts = check_webhook_handler(handler(), provider=provider, key=KEY)
    assert [v.delivery for v in verdicts] == [
        "signed", "forged", "replayed", "late", "impostor", "compact"
    ]  # fmt: skip
    assert all(v.ok for v in verdicts), verdicts


@pytest.mark.parametrize(
    ("provider", "handler"),
    [("fal", FalHandler(str.lower)), ("wavespeed", WaveSpeedHandler(str.title))],
)
def test_header_names_are_read_in_any_case(provider: str, handler: Handler) -> None:
    # HTTP's names are case-insensitive, and frameworks' headers are too: a plain dict
    # refused fal's signed delivery to a handler reading x-fal-webhook-signature
    verdicts = check_webhook_handler(handler, provider=provider, key=KEY)
    assert all(v.ok for v in verdicts), verdicts


@pytest.mark.parametrize("provider", ["fal", "wavespeed"])
def test_a_trusting_handler_is_caught(provider: str) -> None:
    verdicts = check_webhook_handler(trusting, provider=provider, key=KEY)
    assert [v.delivery for v in verdicts if not v.ok] == ["forged", "replayed", "late", "impostor"]
    assert [bool(v.problem) for v in verdicts] == [False, True, True, True, True, False]


@pytest.mark.parametrize(
    ("provider", "told"),
    [
        ("fal", "(fal documents a five-minute tolerance)"),
        # it said WaveSpeed documents none (a review: wavespeed-protocol.md §7)
        ("wavespeed", "(WaveSpeed documents a recommended maximum age of 300 s)"),
    ],
)
def test_an_accepted_late_delivery_is_told_its_own_providers_tolerance(
    provider: str, told: str
) -> None:
    # a WaveSpeed handler was told of fal's tolerance (a docs audit)
    [late] = [v for v in check_webhook_handler(trusting, provider=provider, key=KEY)
              if v.delivery == "late"]  # fmt: skip
    assert told in late.problem


@pytest.mark.parametrize("provider", ["fal", "wavespeed"])
def test_a_refused_signed_delivery_is_told_how_the_provider_signs(provider: str) -> None:
    verdicts = check_webhook_handler(lambda body, headers: False, provider=provider, key=KEY)
    assert [v.delivery for v in verdicts if not v.ok] == ["signed", "compact"]
    signing = {"fal": "ED25519", "wavespeed": "HMAC-SHA256"}[provider]
    assert signing in verdicts[0].problem and verdicts[0].line().startswith("  signed     refused")


def crashes(body: bytes, headers: Mapping[str, str]) -> bool:
    """A handler with a bug: it reads a header no delivery has."""
    return headers["X-Signature"] == "x"


def test_a_signed_delivery_refused_by_a_crash_says_what_was_raised() -> None:
    # the crash was told only "check the signed message, the key and the header names"
    verdicts = check_webhook_handler(crashes, provider="fal", key=KEY)
    assert [v.delivery for v in verdicts if not v.ok] == ["signed", "compact"]
    assert verdicts[0].problem.endswith(" (it raised KeyError: 'X-Signature')")
    assert all("raised" not in v.problem for v in verdicts if v.ok)  # refusing is right


def test_a_handler_that_checks_only_the_signature_is_caught_replaying() -> None:
    class SignatureOnly(FalHandler):
        def __call__(self, body: bytes, headers: Mapping[str, str]) -> bool:
            self.seen.clear()  # forgets what it saw: replays get through
            return super().__call__(body, headers)

    verdicts = check_webhook_handler(SignatureOnly(), provider="fal", key=KEY)
    assert [v.delivery for v in verdicts if not v.ok] == ["replayed"]


@pytest.mark.parametrize("provider", ["fal", "wavespeed"])
def test_a_handler_that_checks_times_and_ids_but_no_signature_is_caught_forging(
    provider: str,
) -> None:
    # the forgery kept the signed delivery's id, which such a handler had just seen, so it
    # passed (an audit): a forgery is a new delivery now
    seen: set[str] = set()

    def unsigned(body: bytes, headers: Mapping[str, str]) -> bool:
        lowered = {name.lower(): value for name, value in headers.items()}
        delivery = lowered.get("webhook-id") or lowered["x-fal-webhook-request-id"]
        moment = lowered.get("webhook-timestamp") or lowered["x-fal-webhook-timestamp"]
        if abs(time.time() - int(moment)) > TOLERANCE or delivery in seen:
            return False
        seen.add(delivery)
        return True

    verdicts = check_webhook_handler(unsigned, provider=provider, key=KEY)
    assert [v.delivery for v in verdicts if not v.ok] == ["forged", "impostor"]


SEEN_BY_THE_NEWCOMER: set[str] = set()


def newcomers_handler(body: bytes, headers: Mapping[str, str]) -> bool:
    """A reviewer's handler, as a newcomer writes it (2026-11-30 review, /tmp/hc/wh3.py):
    the secret fetched with the key from the environment, accepted ids kept for good."""
    h = {k.lower(): v for k, v in headers.items()}
    wid, ts, sig = h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"]
    if abs(time.time() - int(ts)) > TOLERANCE or wid in SEEN_BY_THE_NEWCOMER:
        return False
    secret = httpx.get(
        "https://api.wavespeed.ai/api/v3/webhook/secret",
        headers={"Authorization": "Bearer " + os.environ.get("WAVESPEED_API_KEY", "k")},
    ).json()["data"]["secret"]
    key = secret.removeprefix("whsec_").encode()
    want = hmac.new(key, f"{wid}.{ts}.".encode() + body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(sig.split(",", 1)[1], want)
    if ok:
        SEEN_BY_THE_NEWCOMER.add(wid)
    return ok


def test_by_default_deliveries_are_signed_for_the_key_the_fixture_gives(
    provider_emulator: object,
) -> None:
    for _ in range(2):  # and the second check's deliveries are new ones
        verdicts = check_webhook_handler(newcomers_handler, provider="wavespeed")
        assert all(v.ok for v in verdicts), verdicts


def test_by_default_deliveries_are_signed_for_the_environments_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WAVESPEED_API_KEY", "the-users-own-key")
    verdicts = check_webhook_handler(newcomers_handler, provider="wavespeed")
    assert all(v.ok for v in verdicts), verdicts


@pytest.mark.parametrize(
    ("provider", "handler"), [("fal", FalHandler), ("wavespeed", WaveSpeedHandler)]
)
def test_a_handler_that_verifies_the_json_written_again_is_caught(
    provider: str, handler: type
) -> None:
    # a body parsed and written again before its signature was checked passed, every
    # delivery being what json.dumps writes (a harness audit)
    verifying = handler()

    def rewritten(body: bytes, headers: Mapping[str, str]) -> bool:
        written = json.dumps(json.loads(body), sort_keys=provider == "fal").encode()
        return verifying(written, headers)

    verdicts = check_webhook_handler(rewritten, provider=provider, key=KEY)
    assert [v.delivery for v in verdicts if not v.ok] == ["compact"]
    assert "bytes as received" in verdicts[-1].problem
