"""Hostile and careless input against a real server (issue 14): each answered in bounded
time with a 4xx in the provider's own envelope, health green throughout, and another key's
job unaffected."""

import json

import httpx
import pytest

from emulator import BackgroundServer, EmulatorConfig, Progression

FAL, WAVESPEED = {"Authorization": "Key attacker"}, {"Authorization": "Bearer attacker"}
BITDANCE_WS = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
#: every answer comes within this; a stall fails the test through the client's timeout
TIMEOUT = httpx.Timeout(15.0)


def raw(body: bytes) -> dict:
    return {"content": body}


ATTACKS = [
    # (method, path, headers, request options, expected status, envelope key)
    (
        "POST",
        "/fal/run/fal-ai/bitdance",
        FAL,
        raw(b"[" + b"{}," * 2_000_000 + b"{}]"),
        413,
        "detail",
    ),
    ("POST", "/fal/run/fal-ai/bitdance", FAL, raw(b'{"prompt": "x", "n": 1e999}'), 422, "detail"),
    ("POST", "/fal/run/fal-ai/bitdance", FAL, raw(b'{"prompt": NaN}'), 422, "detail"),
    ("POST", "/fal/run/fal-ai/bitdance", FAL, raw(b"[" * 100 + b"]" * 100), 422, "detail"),
    (
        "POST",
        "/fal/run/fal-ai/bitdance",
        FAL,
        {"json": {"prompt": "x", "image_size": {"width": 99999, "height": 99999}}},
        422,
        "detail",
    ),
    ("POST", BITDANCE_WS, WAVESPEED, raw(b"[" + b"1," * 1_000_000 + b"1]"), 413, "message"),
    (
        "POST",
        BITDANCE_WS,
        WAVESPEED,
        {"json": {"prompt": "x", "size": "9999*9999"}},
        400,
        "message",
    ),
    ("POST", "/_emulator/faults", {}, {"json": {"effect": "delay", "seconds": "1"}}, 422, "detail"),
    ("POST", "/_emulator/clock", {}, {"json": {"advance": "nan"}}, 409, "detail"),
    ("POST", "/_emulator/progression", {}, {"json": {"progression": 5}}, 422, "detail"),
]


@pytest.fixture(scope="module")
def server() -> BackgroundServer:
    config = EmulatorConfig(seed=1, progression=Progression.parse("immediate"))
    with BackgroundServer(config) as server:
        yield server


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: f"{a[1]} {str(a[3])[:30]}")
def test_each_attack_is_a_clear_4xx_and_nothing_else_suffers(
    server: BackgroundServer, attack: tuple
) -> None:
    method, path, headers, options, status, envelope = attack
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        sent = {**headers, "Content-Type": "application/json"}
        answer = client.request(method, path, headers=sent, **options)
        assert answer.status_code == status, answer.text[:300]
        assert envelope in answer.json()
        assert client.get("/_emulator/health").status_code == 200
        other = client.post(
            "/fal/run/fal-ai/bitdance",
            json={"prompt": "bystander", "image_size": "square"},
            headers={"Authorization": "Key bystander"},
        )
        assert other.status_code == 200 and other.json()["images"][0]["width"] == 512


def test_undeclared_counts_change_nothing_on_a_real_server(server: BackgroundServer) -> None:
    body = {"prompt": "x", "num_images": 10**9, "fps": 10**6, "enable_sync_mode": True}
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        answer = client.post(BITDANCE_WS, json=body, headers=WAVESPEED)
        assert answer.status_code == 200 and len(answer.json()["data"]["outputs"]) == 1


def test_a_webhook_at_the_emulator_itself_is_refused(server: BackgroundServer) -> None:
    target = f"{server.url}/_emulator/reset"
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        client.post(
            f"/fal/queue/fal-ai/bitdance?fal_webhook={target}", json={"prompt": "x"}, headers=FAL
        )
        deliveries = client.get("/_emulator/webhooks").json()
    refused = [d for d in deliveries if d["url"] == target]
    assert refused and refused[-1]["state"] == "refused"
    assert json.dumps(refused[-1]).count("own address") == 1
