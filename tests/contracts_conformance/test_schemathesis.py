# ruff: noqa: E402  (the imports below wait for the schemathesis version check)
"""schemathesis against the in-process app, for every shipped contract document.

Each document is loaded from contracts/ (``from_dict``) and every operation is sent to the
app under the provider's prefix (``/fal/queue`` stands for ``https://queue.fal.run``), in
positive and negative mode, with schemathesis's checks. Operations on a request id get the
id of a real job (a random id can only be 404).

What the test adds to the documents in memory, each with its reason (the files are
published-format data and stay as they are):
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest

# The lowest-dependencies environment (.ci/lowest) resolves an older schemathesis, whose
# API differs; these tests are for the pinned one (.ci/constraints.txt).
schemathesis = pytest.importorskip("schemathesis", minversion="4.32")

from hypothesis import HealthCheck, Phase, find, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, ManualClock, Progression, create_app
from emulator.contracts.documents import Endpoint, endpoint_from_document
from emulator.contracts.limits import Limits, limit_violations
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR
from emulator.contracts.rules import SIZE_RULE, size_problem
from emulator.http.responses import ALL_METHODS
from emulator.strategies import valid_inputs

from .constants import emulator_code

schemathesis.python.constants(emulator_code)

DOCUMENTS = sorted(DEFAULT_CONTRACTS_DIR.rglob("*.json"))
#: the surface each provider's documents describe, under the app's one port
BASES = {"fal": "http://localhost/fal/queue", "wavespeed": "http://localhost/wavespeed"}
AUTH = {"fal": "Key schemathesis", "wavespeed": "Bearer schemathesis"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
#: Exclusions, each with its reason. fal's status poll documents ``logs`` as a number
#: (``1`` or ``0``); the queue reads it leniently (any other value means no logs) and so
#: does the emulator, so a non-number there is not rejected.
EXCLUDED = {("fal", "status"): [negative_data_rejection]}

# -- amendments ---------------------------------------------------------------------------

#: fal's published per-endpoint documents say "openapi: 3.0.4" but their schemas use JSON
#: Schema 2020-12 keywords (a numeric ``exclusiveMinimum`` on ImageSize, as the published
#: seedream document does); schemathesis reads 3.0 as draft 4 and refuses them. They are
#: read as what they are written in: 3.1.
OPENAPI_VERSION = "3.1.0"
_FAL_ERROR = {"type": "object", "required": ["detail"]}
#: fal's documents list only the 200 answers; fal's documented errors (docs: errors) are
#: added so that they are checked too: 400 (result still in progress, cancel after
#: completion), 401 (no or bad key), 404 (unknown request), 422 (input validation).
FAL_ERRORS = {"400": _FAL_ERROR, "401": _FAL_ERROR, "404": _FAL_ERROR, "422": _FAL_ERROR}
#: fal answers 202 to a status poll while the request is queued or running, and 202
#: (CANCELLATION_REQUESTED) to a cancel: both are in fal's queue docs, not in the files.
FAL_ACCEPTED = {"status": "#/components/schemas/QueueStatus", "cancel": None}
#: WaveSpeed's documents declare their errors themselves (400/401 at submit, 401/404 at the
#: result, the base64-with-webhook refusal inside ErrorResponse): nothing is added.
WAVESPEED_ERRORS: dict[str, Any] = {}
#: WaveSpeed's webhook URL (``webhook_url`` in the body, or a ``webhook`` query parameter)
#: is any string in the documents. The emulator refuses one that is not an http(s) URL
#: (our guess of the live rule) and posts the result to one that is, and refuses base64
#: output asked for with a webhook. No pattern says exactly which strings Python's URL
#: parser accepts as http(s) URLs, and a delivery would go nowhere, so both are left out
#: here; webhooks are tested end to end in tests/clients/test_webhooks.py.
WEBHOOK_FIELDS = ("webhook", "webhook_url")


def _error_response(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "An error.", "content": {"application/json": {"schema": schema}}}


def amended(path: Path) -> tuple[str, dict[str, Any]]:
    """The provider of a document, and the document with the amendments above."""
    provider = path.relative_to(DEFAULT_CONTRACTS_DIR).parts[0]
    document = copy.deepcopy(json.loads(path.read_text()))
    document["openapi"] = OPENAPI_VERSION
    errors = FAL_ERRORS if provider == "fal" else WAVESPEED_ERRORS
    for route, item in document["paths"].items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for status, schema in errors.items():
                documented = responses.get(status, {}).get("content", {})
                old = documented.get("application/json", {}).get("schema")
                both = {"anyOf": [old, schema]} if old and old != schema else schema
                responses[status] = _error_response(both)
            action = route.rsplit("/", 1)[-1]
            if provider == "fal" and action in FAL_ACCEPTED:
                ref = FAL_ACCEPTED[action]
                responses["202"] = _error_response({"$ref": ref} if ref else {"type": "object"})
            operation["parameters"] = [
                p for p in operation.get("parameters", []) if p["name"] not in WEBHOOK_FIELDS
            ]
    if provider == "wavespeed":
        submit = next(item["post"] for item in document["paths"].values() if "post" in item)
        ref = submit["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        for name in WEBHOOK_FIELDS:
            schema["properties"].pop(name, None)
    return provider, document


def _operations(path: Path) -> list[tuple[str, str]]:
    # Read from the file as it is, not from a schemathesis schema: every test process
    # collects these, and parsing each document there cost more than all the rest of this
    # module's collection. (A path item's other keys, its parameters or summary, are no
    # operation.)
    paths = json.loads(path.read_text())["paths"]
    return [
        (route, method)
        for route, item in paths.items()
        for method in item
        if method.upper() in ALL_METHODS
    ]


CASES = [
    pytest.param(
        path,
        route,
        method,
        mode,
        id=f"{path.relative_to(DEFAULT_CONTRACTS_DIR)}:{method.upper()} {route}:{mode.value}",
    )
    for path in DOCUMENTS
    for route, method in _operations(path)
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
]


@functools.cache
def _endpoint(path: Path) -> Endpoint:
    """The amended document's endpoint, made once for all the tests of its operations."""
    return endpoint_from_document(*amended(path))


def _within_rules_and_limits(endpoint: Endpoint) -> Any:
    """Whether a case's body keeps the contract's size rules (``x-emulator-size``: a
    provider rule its schema states only in prose, "Width and height must be between 512
    and 2048", made machine-readable by the emulator but not JSON Schema) and the
    emulator's own documented bounds (a video of at most 60 s, say, where a schema bounds
    no ``num_frames``). schemathesis cannot draw by either: positive cases that break
    them are not positive."""
    fields = endpoint.resolve(endpoint.input_schema).get("properties", {})
    rules = {
        name: endpoint.resolve(field)[SIZE_RULE]
        for name, field in fields.items()
        if SIZE_RULE in endpoint.resolve(field)
    }

    def keeps(case: Any) -> bool:
        body = case.body if isinstance(case.body, dict) else {}
        within = not limit_violations(endpoint, body, Limits())
        return within and all(size_problem(rule, body[name]) is None
                              for name, rule in rules.items() if name in body)  # fmt: skip

    return keeps


def _config(provider: str, route: str, method: str) -> EmulatorConfig:
    """The emulator each operation is checked against. Under the manual clock a job stays
    queued (status and cancel answer 202), except where the operation needs it finished:
    the result is read from a job that completes at once, and so are WaveSpeed's jobs (a
    sync-mode submit waits for its job, up to 90 s of real time). fal's queue accepts any JSON
    object at submit and reports invalid input at the result (the emulator's default, as
    fal does); its ``validate_on_submit`` mode rejects at submit, which is what the
    document's input schema states, so submits are checked in that mode."""
    if provider == "wavespeed" or route.endswith("{request_id}"):
        return EmulatorConfig(seed=1, progression=Progression.parse("immediate"))
    return EmulatorConfig(seed=1, validate_on_submit=provider == "fal" and method == "post")


def _real_job(client: TestClient, provider: str, submit_path: str, example: dict[str, Any]) -> str:
    """Submit the document's own example input; the new job's request id."""
    answer = client.post(
        BASES[provider].removeprefix("http://localhost") + submit_path, json=example
    )
    answer.raise_for_status()
    body = answer.json()
    return body["request_id"] if provider == "fal" else body["data"]["id"]


@functools.cache
def _example_input(path: Path) -> dict[str, Any]:
    """The simplest input the contract accepts (found once for all the document's tests)."""
    quiet = settings(database=None, max_examples=1, phases=[Phase.generate, Phase.shrink])
    return find(valid_inputs(_endpoint(path)), lambda value: True, settings=quiet)


@pytest.mark.slow
@pytest.mark.parametrize(("path", "route", "method", "mode"), CASES)
def test_the_emulator_conforms_to_its_contract(
    path: Path, route: str, method: str, mode: GenerationMode
) -> None:
    provider, document = amended(path)
    schema = schemathesis.openapi.from_dict(document)
    app = create_app(engine=Engine(_config(provider, route, method), clock=ManualClock()))
    operation = schema[route][method]
    submit = next(p for p, item in document["paths"].items() if "post" in item)
    example = _example_input(path)
    excluded = EXCLUDED.get((provider, route.rsplit("/", 1)[-1]), [])
    # Reading a job changes nothing, so the examples of a read share one job; a cancel
    # changes its job (a second cancel is rightly a 400), so each gets a job of its own.
    job_each = method != "get"
    with TestClient(app, headers={"Authorization": AUTH[provider]}) as client:
        fixed: dict[str, Any] = {}
        if "{request_id}" in route:
            fixed["path_parameters"] = {"request_id": _real_job(client, provider, submit, example)}
        cases = operation.as_strategy(generation_mode=mode, **fixed)
        if mode is GenerationMode.POSITIVE:
            cases = cases.filter(_within_rules_and_limits(_endpoint(path)))

        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=cases)
        def conforms(case: Any) -> None:
            if fixed and job_each:
                case.path_parameters["request_id"] = _real_job(client, provider, submit, example)
            case.call_and_validate(
                base_url=BASES[provider],
                headers={"Authorization": AUTH[provider]},
                checks=[check for check in CHECKS if check not in excluded],
                app=app,
            )

        conforms()
