"""The ``provider_emulator`` fixture: real clients, no configuration, no sockets at all."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import fal_client
import httpx
import pytest
import requests
import respx
import wavespeed

from emulator import Emulation, ManualClock, emulate
from emulator.contracts.documents import Endpoint, endpoint_from_document
from emulator.server import BackgroundServer
from emulator.transport import UnmatchedRequest
from tests.user_contracts import renamed, schema, written

WAVESPEED_MODEL = "wavespeed-ai/bitdance-14b/text-to-image"


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any connection at all, even to loopback, fails the test."""

    def refuse(self: socket.socket, address: object) -> None:
        raise AssertionError(f"in-process emulation opened a connection to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield


def test_every_client_works_with_no_configuration(
    provider_emulator: Emulation, no_sockets: None
) -> None:
    subscribed = fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "a cat"})
    assert subscribed["images"][0]["url"].startswith("https://v3.fal.media/files/")
    assert httpx.get(subscribed["images"][0]["url"]).headers["content-type"] == "image/jpeg"

    assert fal_client.submit("fal-ai/bitdance", arguments={"prompt": "x"}).get()["prompt"] == "x"
    assert fal_client.run("fal-ai/bitdance", arguments={"prompt": "y"})["prompt"] == "y"

    async def subscribe_async() -> dict:
        return await fal_client.subscribe_async("fal-ai/bitdance", arguments={"prompt": "z"})

    assert asyncio.run(subscribe_async())["prompt"] == "z"

    outputs = wavespeed.run(WAVESPEED_MODEL, {"prompt": "a cat"})["outputs"]
    assert outputs[0].startswith("https://d2p7pge43lyniu.cloudfront.net/files/")
    assert requests.get(outputs[0]).headers["content-type"] == "image/jpeg"
    assert wavespeed.Client().run(WAVESPEED_MODEL, {"prompt": "b"}, enable_sync_mode=True)[
        "outputs"
    ]


def test_the_default_progression_needs_no_client_sleep(provider_emulator: Emulation) -> None:
    fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "quick"})
    wavespeed.run(WAVESPEED_MODEL, {"prompt": "quick"})  # polls once a second if unfinished
    paths = [entry.path for entry in provider_emulator.requests]
    assert sum(path.endswith("/status") for path in paths) == 1
    assert sum(path.endswith("/result") for path in paths) == 1


@pytest.mark.provider_emulator(progression="polls:1,2")
def test_a_marker_asks_for_every_intermediate_state(provider_emulator: Emulation) -> None:
    updates: list[fal_client.Status] = []
    fal_client.subscribe(
        "fal-ai/bitdance", arguments={"prompt": "slow"}, on_queue_update=updates.append
    )
    assert [type(u).__name__ for u in updates] == [
        "Queued",
        "InProgress",
        "InProgress",
        "Completed",
    ]
    polls = provider_emulator.requests.filter(provider="fal", path="/status")
    # the client polls until completed, then once more (without logs) before the result
    assert len(polls) == 5 and all(p.status in (200, 202) for p in polls)


@pytest.mark.provider_emulator(seed=42)
def test_a_marker_seeds_the_fixture(provider_emulator: Emulation) -> None:
    first = fal_client.submit("fal-ai/bitdance", arguments={"prompt": "x"}).request_id
    with emulate(seed=42):
        assert fal_client.submit("fal-ai/bitdance", arguments={"prompt": "x"}).request_id == first


def test_the_same_seed_gives_the_same_ids_and_bytes() -> None:
    def session() -> tuple[str, bytes]:
        with emulate(seed=9):
            handle = fal_client.submit("fal-ai/bitdance", arguments={"prompt": "same"})
            url = handle.get()["images"][0]["url"]
            return handle.request_id, httpx.get(url).content

    assert session() == session()


def test_emulations_do_not_share_state() -> None:
    with emulate() as first:
        fal_client.submit("fal-ai/bitdance", arguments={"prompt": "x"})
        assert len(first.jobs) == 1
    with emulate() as second:
        assert len(second.jobs) == 0 and len(second.requests) == 0


def test_unmatched_requests_fail_loudly_by_default(provider_emulator: Emulation) -> None:
    with pytest.raises(UnmatchedRequest, match="not a provider host"):
        httpx.get("https://example.com/")
    with pytest.raises(UnmatchedRequest):
        requests.get("https://example.com/")


def test_unmatched_requests_may_pass_through() -> None:
    with BackgroundServer() as local, emulate(unmatched="pass"):
        assert httpx.get(local.url + "/_emulator/health").status_code == 200
        assert requests.get(local.url + "/_emulator/health").status_code == 200
        assert fal_client.run("fal-ai/bitdance", arguments={"prompt": "x"})["prompt"] == "x"


def test_a_tests_own_respx_mock_answers_beside_the_real_clients() -> None:
    # A product's own service mocked with respx (its default level), the providers emulated.
    with respx.mock() as own, emulate():
        own.post("https://api.example.com/renders").respond(status_code=201)
        result = fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "x"})
        output = wavespeed.Client(api_key="k").run(WAVESPEED_MODEL, {"prompt": "x"})
        saved = httpx.post("https://api.example.com/renders", json={"url": output["outputs"][0]})
        sent = json.loads(own.calls.last.request.content)  # read before respx resets its log
    assert result["images"] and saved.status_code == 201
    assert sent == {"url": output["outputs"][0]}


def test_the_status_stream_streams_in_process() -> None:
    async def scenario(emulation: Emulation) -> list[str]:
        headers = {"Authorization": "Key k"}
        async with httpx.AsyncClient() as client:
            queued = (
                await client.post(
                    "https://queue.fal.run/fal-ai/bitdance", json={"prompt": "x"}, headers=headers
                )
            ).json()
            statuses = []
            async with client.stream(
                "GET", queued["status_url"] + "/stream", headers=headers
            ) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        statuses.append(json.loads(line[6:])["status"])
                        emulation.advance(2.0)  # only now may the job move on
            return statuses

    with emulate(progression="wall:1,2,0", clock=ManualClock()) as emulation:
        statuses = asyncio.run(scenario(emulation))
    assert statuses == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]


def test_used_as_a_decorator_on_sync_and_async_functions() -> None:
    @emulate(seed=3)
    def sync_call() -> str:
        return fal_client.run("fal-ai/bitdance", arguments={"prompt": "d"})["prompt"]

    @emulate(seed=3)
    async def async_call() -> str:
        return (await fal_client.run_async("fal-ai/bitdance", arguments={"prompt": "e"}))["prompt"]

    assert sync_call() == "d"
    assert asyncio.run(async_call()) == "e"


def test_controls_reset_and_progression(provider_emulator: Emulation) -> None:
    fal_client.submit("fal-ai/bitdance", arguments={"prompt": "x"})
    provider_emulator.reset()
    assert len(provider_emulator.jobs) == 0 and len(provider_emulator.requests) == 0
    provider_emulator.progression = "polls:2,0"
    handle = fal_client.submit("fal-ai/bitdance", arguments={"prompt": "x"})
    assert [type(handle.status()).__name__ for _ in range(3)] == ["Queued", "Queued", "Completed"]
    with pytest.raises(TypeError, match="ManualClock"):
        provider_emulator.advance(1)


def test_fault_and_webhook_controls_on_the_fixture(provider_emulator: Emulation) -> None:
    provider_emulator.add_fault("fail", error_type="runner_disconnected", times=1)
    assert [rule.effect for rule in provider_emulator.faults] == ["fail"]
    provider_emulator.clear_faults()
    assert provider_emulator.faults == []
    assert fal_client.run("fal-ai/bitdance", arguments={"prompt": "x"})["prompt"] == "x"
    fal_client.submit(
        "fal-ai/bitdance", arguments={"prompt": "x"}, webhook_url="https://hooks.example.com/in"
    )
    (delivery,) = provider_emulator.wait_for_webhooks(timeout=5)
    assert delivery.state == "refused"  # not a loopback address


def test_fal_clients_status_polls_are_answered_quickly_and_counted_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # fal_client polls without logs: `FalApi.quick_status` answers those polls (issue 17),
    # and the client still sees its request move, finish and give its result.
    from emulator.providers.fal.routes import FalApi

    quick, answered = FalApi.quick_status, []

    def counted(self: FalApi, scope: dict, path: str) -> object:
        made = quick(self, scope, path)
        answered.append(made is not None)
        return made

    monkeypatch.setattr(FalApi, "quick_status", counted)
    with emulate(progression="polls:1,2") as emulation:
        handle = fal_client.submit("fal-ai/bitdance", arguments={"prompt": "quick"})
        seen = [type(handle.status()).__name__ for _ in range(4)]
        assert handle.get()["prompt"] == "quick"
        polls = emulation.requests.filter(path="/status")
    assert seen == ["Queued", "InProgress", "InProgress", "Completed"]
    # every poll (`get` polls once more), not the submit nor the result
    assert answered.count(True) == len(polls) == 5
    assert [(p.status, p.endpoint) for p in polls] == [(202, "fal-ai/bitdance")] * 3 + [
        (200, "fal-ai/bitdance")
    ] * 2


def test_what_each_client_submitted_is_in_the_record(provider_emulator: Emulation) -> None:
    """A submit is recorded from what its route read and answered (`Recorder.finish`):
    its body (to the record's limit), its status and its endpoint, as the README's
    assertion reads them."""
    fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "a cat"})
    wavespeed.run(WAVESPEED_MODEL, {"prompt": "a dog"})
    fal_client.submit("fal-ai/bitdance", arguments={"prompt": "x" * 200_000})  # past 64 KiB

    fal = provider_emulator.requests.filter(method="POST", endpoint="fal-ai/bitdance")
    assert [call.status for call in fal] == [200, 200]
    assert fal[0].json == {"prompt": "a cat"} and fal[0].body_size == len(fal[0].body)
    assert len(fal[1].body) == 64 * 1024 < fal[1].body_size and fal[1].truncated
    (submitted,) = provider_emulator.requests.filter(method="POST", endpoint=WAVESPEED_MODEL)
    assert (submitted.method, submitted.status) == ("POST", 200)
    assert submitted.json == {"prompt": "a dog"}


def _outputs_of(
    folder: Path, name: str, field: str, value: dict, schemas: dict[str, dict]
) -> dict[str, Endpoint]:
    """Both providers' contracts for ``name``, written to ``folder``, with ``schemas`` among
    their components and an output of ``value``: fal's its required ``field``, WaveSpeed's
    its outputs' items (as an LLM's are its texts)."""
    contracts = {}
    for provider, suffix in (("fal", "Output"), ("wavespeed", "Prediction")):
        document = renamed(provider, name)
        document["components"]["schemas"].update(schemas)
        output = schema(document, suffix)
        if provider == "fal":
            output["properties"][field] = value
            output["required"].append(field)
        else:
            output["properties"]["outputs"] = {"type": "array", "minItems": 1, "items": value}
        written(folder, provider, document)
        contracts[provider] = endpoint_from_document(provider, document)
    return contracts


def test_a_users_backtracking_pattern_is_the_clients_validation_error(tmp_path: Path) -> None:
    """^(a+)+$ against 34 a's and a "!": Python's re held the process for years (an audit);
    matched in linear time, fal_client and the wavespeed SDK get their refusals at once."""
    for provider in ("fal", "wavespeed"):
        document = renamed(provider, "acme/bomb")
        schema(document, "Input")["properties"]["prompt"]["pattern"] = "^(a+)+$"
        written(tmp_path, provider, document)
    bombing = {"prompt": "a" * 34 + "!"}
    with emulate(contracts=(tmp_path,)):
        with pytest.raises(fal_client.FalClientHTTPError) as refused:
            fal_client.run("acme/bomb", arguments=bombing)
        assert refused.value.status_code == 422
        assert refused.value.response.json()["detail"][0]["type"] == "string_pattern_mismatch"
        with pytest.raises(Exception, match="String should match pattern") as invalid:
            wavespeed.run("acme/bomb", bombing)
        assert "400" in str(invalid.value)
        assert fal_client.run("acme/bomb", arguments={"prompt": "aaa"})["prompt"] == "aaa"


def test_a_users_recursive_output_is_made_by_the_branch_that_ends(tmp_path: Path) -> None:
    """A required ``child`` whose first branch is its own schema again, its second null:
    synthesis took the first for ever (a RecursionError: each result a 500); it takes the
    one that ends, and each client gets an output its contract keeps."""
    node = {"$ref": "#/components/schemas/Node"}
    tree = {"type": "object", "required": ["child"],
            "properties": {"child": {"oneOf": [node, {"type": "null"}]}}}  # fmt: skip
    contracts = _outputs_of(tmp_path, "acme/tree", "tree", node, {"Node": tree})
    with emulate(contracts=(tmp_path,)):
        made = fal_client.run("acme/tree", arguments={"prompt": "a cat"})
        outputs = wavespeed.run("acme/tree", {"prompt": "a cat"})["outputs"]
        task = wavespeed.run_no_throw("acme/tree", {"prompt": "a dog"})["task_id"]
        result = wavespeed.get_result(task)
    assert made["tree"] == {"child": None} and outputs == [{"child": None}]
    assert contracts["fal"].output_validator.is_valid(made)
    assert contracts["wavespeed"].output_validator.is_valid(result)


def test_a_users_file_holding_its_own_object_is_made_once_inside_it(tmp_path: Path) -> None:
    """An optional ``image`` whose file requires ``meta``, the object holding the image:
    a file is made even where optional, so each result nested for ever (a RecursionError:
    a 500); the copy inside itself leaves its image out, and each client gets an output
    its contract keeps."""
    wrapper = {"$ref": "#/components/schemas/Wrapper"}
    image = {"$ref": "#/components/schemas/File"}
    contracts = _outputs_of(tmp_path, "acme/wrapped", "wrapper", wrapper, {
        "Wrapper": {"type": "object", "properties": {"image": image}},
        "File": {"type": "object", "required": ["url", "meta"],
                 "properties": {"url": {"type": "string"}, "meta": wrapper}},
    })  # fmt: skip
    with emulate(contracts=(tmp_path,)):
        made = fal_client.run("acme/wrapped", arguments={"prompt": "a cat"})
        task = wavespeed.run_no_throw("acme/wrapped", {"prompt": "a dog"})["task_id"]
        result = wavespeed.get_result(task)
    assert made["wrapper"]["image"]["meta"] == {}
    assert result["data"]["outputs"][0]["image"]["meta"] == {}
    assert contracts["fal"].output_validator.is_valid(made)
    assert contracts["wavespeed"].output_validator.is_valid(result)
