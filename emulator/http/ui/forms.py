"""An endpoint's input schema as form fields, the way fal's playground shows one."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from emulator.contracts.documents import Endpoint

#: where a job is submitted, and the scheme of its Authorization header, per provider
SUBMIT = {
    "fal": ("/fal/queue/{id}", "Key"),
    "wavespeed": ("/wavespeed/api/v3/{id}", "Bearer"),
}


class Choice(NamedTuple):
    """One value of an enum, as the form shows it and as the JSON it submits (an integer
    stays one: a choice submitted as text failed the endpoint's validation)."""

    label: str
    json: str


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # text, textarea, integer, number, checkbox, select, json
    required: bool
    value: str  # the default, as the form shows it
    description: str = ""
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


def _branches(endpoint: Endpoint, schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The schema itself, or its resolved ``anyOf``/``oneOf``/``allOf`` branches."""
    parts = [*schema.get("anyOf", ()), *schema.get("oneOf", ()), *schema.get("allOf", ())]
    return [endpoint.resolve(part) for part in parts] or [schema]


def _kind(name: str, branches: list[Mapping[str, Any]]) -> tuple[str, tuple[Choice, ...]]:
    for branch in branches:
        if "enum" in branch:
            return "select", tuple(Choice(str(c), json.dumps(c)) for c in branch["enum"])
    types = {branch.get("type") for branch in branches}
    if types == {"string"}:
        return ("textarea" if "prompt" in name else "text"), ()
    for simple in ("boolean", "integer", "number"):
        if types == {simple}:
            return {"boolean": "checkbox"}.get(simple, simple), ()
    return "json", ()


def _shown(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "json":
        return json.dumps(value)
    if kind == "checkbox":
        return "true" if value else ""
    return str(value)


def form_fields(endpoint: Endpoint) -> list[Field]:
    schema = endpoint.resolve(endpoint.input_schema)
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    order = [*schema.get("x-fal-order-properties", ()), *properties]
    fields = []
    for name in dict.fromkeys(n for n in order if n in properties):
        prop = endpoint.resolve(properties[name])
        branches = _branches(endpoint, prop)
        kind, choices = _kind(name, branches)
        default = prop.get("default")
        if default is None and name in required:
            default = next(iter(prop.get("examples", ())), None)
        fields.append(
            Field(
                name=name,
                label=str(prop.get("title") or name),
                kind=kind,
                required=name in required,
                value=_shown(default, kind),
                description=str(prop.get("description", "")),
                choices=choices,
                minimum=prop.get("minimum"),
                maximum=prop.get("maximum"),
            )
        )
    return fields
