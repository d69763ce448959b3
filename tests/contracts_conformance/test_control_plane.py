# ruff: noqa: E402  (the imports below wait for the schemathesis version check)
"""schemathesis against the control plane's own OpenAPI document (/_emulator/openapi.json),
in positive and negative mode, with and without an admin token configured (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", minversion="4.32")

from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from emulator import EmulatorConfig, Engine, ManualClock, create_app
from emulator.http.control_openapi import document

from .constants import emulator_code

schemathesis.python.constants(emulator_code)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
#: Exclusions, each with its reason: listings and the clock read extra query parameters
#: leniently (an unknown one is ignored, as most HTTP APIs do), so a case "made invalid" by
#: an undeclared parameter is rightly accepted.
LENIENT = {"/_emulator/health", "/_emulator/openapi.json"}
OPERATIONS = [(path, method) for path, item in document()["paths"].items() for method in item]
#: negative cases need something to break: a body, or a parameter narrower than "any
#: string" (an operation with none, or with only a string path parameter, has no invalid case)
INPUTS = {
    (path, method)
    for path, item in document()["paths"].items()
    for method, operation in item.items()
    if operation.get("requestBody")
    or any(p["schema"] != {"type": "string"} for p in operation.get("parameters", []))
}


def _app(admin_token: str | None) -> Any:
    config = EmulatorConfig(seed=1, admin_token=admin_token)
    return create_app(engine=Engine(config, clock=ManualClock()))


@pytest.mark.slow
@pytest.mark.parametrize("admin_token", [None, "admin-secret"], ids=["open", "guarded"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_the_control_plane_conforms_to_its_document(
    path: str, method: str, mode: GenerationMode, admin_token: str | None
) -> None:
    if mode is GenerationMode.NEGATIVE and (path, method) not in INPUTS:
        pytest.skip("no parameter or body to make invalid")
    schema = schemathesis.openapi.from_dict(document())
    app = _app(admin_token)
    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    checks = [c for c in CHECKS if not (c is negative_data_rejection and path in LENIENT)]

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=schema[path][method].as_strategy(generation_mode=mode))
    def conforms(case: Any) -> None:
        case.call_and_validate(base_url="http://localhost", headers=headers, checks=checks, app=app)

    conforms()


def test_the_document_is_served_and_validates() -> None:
    from starlette.testclient import TestClient

    with TestClient(_app(None)) as client:
        served = client.get("/_emulator/openapi.json").json()
    assert served == document()
    schemathesis.openapi.from_dict(served)  # a document schemathesis accepts
