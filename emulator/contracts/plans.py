"""What output synthesis reads from an endpoint's schemas alone, worked out once.

The conventions of synthesis.py ask the same questions of an output schema for every job:
which fields hold media, of which kind and format, which echo an input, which take a
default, which ``$ref`` each field points to. Their answers depend on the endpoint only,
so they are compiled into a plan the first time the endpoint makes an output and kept
with it (weakly: a plan goes when its endpoint goes); a job then only fills in what its
input and seed decide. A part of a schema is compiled when an output first reaches it,
as the conventions reached it, so a part no output needs is never compiled.

The output's steps (`ObjectPlan` and those it holds) are outputs.py's.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from emulator.contracts.documents import Endpoint
from emulator.contracts.kinds import category_kind
from emulator.contracts.memo import EndpointMemo
from emulator.contracts.outputs import ObjectPlan, declared_inputs
from emulator.contracts.steps import Flags


class Plan:
    """Everything synthesis (and limits.py) reads from one endpoint's schemas alone (its
    parts refer to the endpoint weakly, through ``self.endpoint``)."""

    def __init__(self, endpoint: Endpoint) -> None:
        # `_PLANS` keeps a plan for as long as its endpoint lives: a strong reference from
        # the plan back to the endpoint would keep both for good.
        self.endpoint: Endpoint = weakref.proxy(endpoint)
        self.output = ObjectPlan(self.endpoint, endpoint.output_schema)
        self._defaults: dict[str, Any] = {}
        self._settings: dict[str, Mapping[str, Any]] = {}

    @cached_property
    def input_names(self) -> Mapping[str, Any]:
        """The input fields the contract declares: the only ones that shape an output."""
        return declared_inputs(self.endpoint)

    @cached_property
    def flags_nsfw(self) -> bool:
        """Whether the output holds NSFW flags (an array of booleans, fal's
        ``has_nsfw_concepts``): what an ``nsfw`` fault raises. Without them the fault
        changes nothing a client could see (an LLM's text, an audio file)."""
        return any(isinstance(field.fixed, Flags) for field in self.output.fields)

    @cached_property
    def makes(self) -> str | None:
        """The kind of media the endpoint's category says it makes (see kinds.py)."""
        return category_kind(self.endpoint.category)

    @cached_property
    def input_properties(self) -> Mapping[str, Any]:
        return self.endpoint.resolve(self.endpoint.input_schema).get("properties", {})

    @cached_property
    def image_size_field(self) -> Mapping[str, Any]:
        """The input's ``image_size`` field: its default and its presets, if it states
        them (``x-emulator-presets``, for an app whose presets are not fal's usual ones)."""
        return self.input_properties.get("image_size", {})

    def setting_defaults(self, name: str) -> Mapping[str, Any]:
        """The defaults of the fields of input object ``name`` (minimax's
        ``audio_setting``): empty where it is no object, or its fields have none."""
        if name not in self._settings:
            field = self.endpoint.resolve(self.input_properties.get(name, {}))
            properties = field.get("properties")
            properties = properties if isinstance(properties, Mapping) else {}
            defaults = ((key, self.endpoint.resolve(value)) for key, value in properties.items())
            self._settings[name] = {k: v["default"] for k, v in defaults if "default" in v}
        return self._settings[name]

    def input_default(self, name: str) -> Any:
        """The default of input field ``name`` (None without one)."""
        if name not in self._defaults:
            field = self.endpoint.resolve(self.input_properties.get(name, {}))
            self._defaults[name] = field.get("default")
        return self._defaults[name]


_PLANS: EndpointMemo[Plan] = EndpointMemo(Plan)


def plan_of(endpoint: Endpoint) -> Plan:
    """The endpoint's plan, made on its first output."""
    return _PLANS.get(endpoint)
