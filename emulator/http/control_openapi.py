"""The control plane's own OpenAPI document, served at ``/_emulator/openapi.json``.

Built from the same schemas the control plane validates with (a fault rule is
`emulator.core.faults.RULE_SCHEMA`), so that the document and the checks cannot drift.
"""

from __future__ import annotations

from typing import Any

from emulator._version import __version__
from emulator.core.faults import RULE_SCHEMA


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_DETAIL = {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}}
_REFUSALS = {
    "401": _json(_DETAIL, "no credential, with an admin token configured"),
    "403": _json(_DETAIL, "an API key asked for what needs the admin token"),
}
_INVALID = {"422": _json(_DETAIL, "the body or a parameter is not valid")}
_PAGE = [
    {
        "name": "offset",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": 10**9},
    },
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10000}},
]
_FILTERS = [
    {"name": name, "in": "query", "schema": {"type": "string"}}
    for name in ("provider", "method", "path", "key", "endpoint")
] + [{"name": "status", "in": "query", "schema": {"type": "integer", "minimum": 100}}]
_LIST = {"type": "array", "items": {"type": "object"}}
_PROGRESSION = {
    "type": "object",
    "properties": {
        "mode": {"enum": ["immediate", "polls", "wall"]},
        "queue": {"type": "number"},
        "run": {"type": "number"},
        "jitter": {"type": "number"},
        "queue_position": {"type": "integer"},
    },
}
_CLOCK = {
    "type": "object",
    "required": ["manual", "now"],
    "properties": {"manual": {"type": "boolean"}, "now": {"type": "number"}},
}


def _operation(
    summary: str,
    ok: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    more: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {**ok, **_REFUSALS, **(more or {})},
    }
    if body is not None:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": body}},
        }
    if parameters:
        operation["parameters"] = parameters
    return operation


def document() -> dict[str, Any]:
    rule = {**RULE_SCHEMA}
    return {
        "openapi": "3.1.0",
        "info": {"title": "provider-emulator control plane", "version": __version__},
        "paths": {
            "/_emulator/health": {
                "get": {
                    "summary": "Health; 503 while the shared state cannot be reached",
                    "responses": {
                        "200": _json({"type": "object"}),
                        "503": _json({"type": "object"}),
                    },
                }
            },
            "/_emulator/endpoints": {
                "get": _operation("The endpoints served", {"200": _json(_LIST)})
            },
            "/_emulator/jobs": {
                "get": _operation(
                    "Jobs kept", {"200": _json(_LIST)}, parameters=_PAGE, more=_INVALID
                )
            },
            "/_emulator/requests": {
                "get": _operation(
                    "The request record",
                    {"200": _json(_LIST)},
                    parameters=_PAGE + _FILTERS,
                    more=_INVALID,
                )
            },
            "/_emulator/webhooks": {
                "get": _operation(
                    "Webhook deliveries", {"200": _json(_LIST)}, parameters=_PAGE, more=_INVALID
                )
            },
            "/_emulator/faults": {
                "get": _operation("Fault rules in force", {"200": _json(_LIST)}),
                "post": _operation(
                    "Add a fault rule",
                    {"201": _json({"type": "object"}, "the rule, with its id")},
                    body=rule,
                    more={**_INVALID, "413": _json(_DETAIL, "too large"), "415": _json(_DETAIL)},
                ),
                "delete": _operation("Remove every rule", {"200": _json(_LIST)}),
            },
            "/_emulator/faults/{fault_id}": {
                "delete": _operation(
                    "Remove a rule",
                    {"204": {"description": "removed"}},
                    parameters=[
                        {
                            "name": "fault_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    more={"404": _json(_DETAIL, "no such rule")},
                )
            },
            "/_emulator/reset": {
                "post": _operation(
                    "Forget every job, medium and request; reseed",
                    {"200": _json({"type": "object"})},
                    body={
                        "type": "object",
                        "properties": {"seed": {"type": ["integer", "null"]}},
                        "additionalProperties": False,
                    },
                    more={**_INVALID, "413": _json(_DETAIL), "415": _json(_DETAIL)},
                )
            },
            "/_emulator/progression": {
                "get": _operation("How jobs move", {"200": _json(_PROGRESSION)}),
                "post": _operation(
                    "Change how jobs move from now on",
                    {"200": _json(_PROGRESSION)},
                    body={
                        "type": "object",
                        "required": ["progression"],
                        "properties": {"progression": {"type": "string"}},
                        "additionalProperties": False,
                    },
                    more={**_INVALID, "413": _json(_DETAIL), "415": _json(_DETAIL)},
                ),
            },
            "/_emulator/clock": {
                "get": _operation("The clock", {"200": _json(_CLOCK)}),
                "post": _operation(
                    "Move a manual clock on",
                    {"200": _json(_CLOCK)},
                    body={
                        "type": "object",
                        "required": ["advance"],
                        "properties": {"advance": {"type": "number", "minimum": 0, "maximum": 1e9}},
                        "additionalProperties": False,
                    },
                    more={
                        **_INVALID,
                        "409": _json(_DETAIL, "the clock is wall time"),
                        "413": _json(_DETAIL),
                        "415": _json(_DETAIL),
                    },
                ),
            },
        },
    }
