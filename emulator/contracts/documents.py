"""OpenAPI documents → endpoints.

An endpoint is data: one OpenAPI document in the provider's published per-endpoint
format. The submit operation is the one POST path with a request body; its path, minus the
provider's prefix, is the endpoint id. The output schema is the 200 response of the GET
path ending in ``/requests/{request_id}``. Nothing here knows any particular model.
Reading documents from folders and files is loading.py's.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from emulator.contracts.checks import ContractError, check_endpoint
from emulator.contracts.inlining import inline_refs
from emulator.contracts.openapi30 import as_json_schema
from emulator.contracts.schema_walk import walk
from emulator.core.registry import LAYOUTS

if TYPE_CHECKING:  # jsonschema loads when the first validator is built, not at start-up
    from jsonschema import Draft202012Validator


@dataclass(frozen=True, eq=False)
class Endpoint:
    """One endpoint's contract: its OpenAPI document, and the input and output schemas in it."""

    provider: str
    id: str
    document: Mapping[str, Any] = field(repr=False)
    input_schema: Mapping[str, Any] = field(repr=False)
    output_schema: Mapping[str, Any] = field(repr=False)
    source: str = ""
    #: where the contract comes from: "curated" (a full document), "catalogue" (imported
    #: from fal's published types) or "generic" (--unknown-endpoints generic)
    tier: str = "curated"

    @property
    def category(self) -> str | None:
        metadata = self.document.get("info", {}).get(f"x-{self.provider}-metadata", {})
        return metadata.get("category")

    @property
    def delisted(self) -> bool:
        """Whether the provider no longer lists the endpoint (still served; see drift.py)."""
        return "x-emulator-delisted" in self.document.get("info", {})

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow local ``$ref`` pointers until a schema with content is reached."""
        ref = schema.get("$ref") if len(schema) == 1 else None
        if isinstance(ref, str):
            # A lone pointer always means the same schema: followed once per endpoint
            # (a shared answer, like the schema returned for a schema without one).
            resolved = self._lone_refs.get(ref)
            if resolved is None:
                resolved = self._lone_refs[ref] = self._follow(schema)
            return resolved
        return self._follow(schema)

    @cached_property
    def _lone_refs(self) -> dict[str, Mapping[str, Any]]:
        return {}

    def _follow(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 32:
            schema = {
                **self._lookup(schema["$ref"]),
                **{k: v for k, v in schema.items() if k != "$ref"},
            }
            seen += 1
        return schema

    def _lookup(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ContractError(f"{self.id}: only local $refs are supported, not {ref!r}")
        node: Any = self.document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def validator(
        self, schema: Mapping[str, Any], *, formats: bool = False
    ) -> Draft202012Validator:
        """A validator for ``schema`` that resolves refs against this document and
        enforces the contract's ``x-emulator-*`` rules (see ``rules.py``), and with
        ``formats`` each ``format`` jsonschema can check (see ``formats.py``); lone local
        refs are inlined first (``inlining.py``: the same rules, found without a lookup)."""
        from emulator.contracts.formats import format_checker
        from emulator.contracts.rules import contract_validator

        inlined = inline_refs(schema, self.document)
        components = self.document.get("components", {})
        checker = format_checker() if formats else None
        return contract_validator()({**inlined, "components": components}, format_checker=checker)

    @cached_property
    def ref_depths(self) -> Mapping[str, float]:
        """How many ``$ref``s deep the shallowest value of each schema its input and
        output reach goes (schema_walk.py), walked when synthesis first chooses a branch."""
        return walk(self).depths()

    @cached_property
    def input_validator(self) -> Draft202012Validator:
        return self.validator(self.input_schema)

    @cached_property
    def output_validator(self) -> Draft202012Validator:
        return self.validator(self.output_schema)


def _operation_schema(operation: Mapping[str, Any], *path: str) -> Mapping[str, Any] | None:
    node: Any = operation
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, Mapping) else None


def endpoint_from_document(
    provider: str,
    document: Mapping[str, Any],
    *,
    source: str = "",
    tier: str = "curated",
    checked: bool = True,
) -> Endpoint:
    """The endpoint a document describes; `ContractError` if it cannot serve as one.
    ``checked=False`` skips `check_endpoint`, for documents checked already (the shipped
    ones, by the test suite)."""
    document = as_json_schema(document)
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        raise ContractError(f"{source}: no paths")
    submits = [
        (path, item["post"])
        for path, item in paths.items()
        if isinstance(item, Mapping) and "post" in item and "requestBody" in item["post"]
    ]
    if len(submits) != 1:
        raise ContractError(
            f"{source}: expected one POST with a request body, found {len(submits)}"
        )
    submit_path, submit = submits[0]
    layout = LAYOUTS[provider]
    if not submit_path.startswith(layout.path_prefix):
        raise ContractError(
            f"{source}: submit path {submit_path!r} is not under {layout.path_prefix!r}"
        )
    endpoint_id = submit_path[len(layout.path_prefix) :].strip("/")
    input_schema = _operation_schema(submit, "requestBody", "content", "application/json", "schema")
    result = paths.get(layout.result_path.format(submit=submit_path), {}).get("get", {})
    output_schema = _operation_schema(
        result, "responses", "200", "content", "application/json", "schema"
    )
    if input_schema is None:
        raise ContractError(
            f"{source}: no input schema: POST {submit_path} needs requestBody.content."
            "application/json.schema"
        )
    if output_schema is None:
        result_path = layout.result_path.format(submit=submit_path)
        raise ContractError(
            f"{source}: no output schema: GET {result_path} needs responses.200.content."
            "application/json.schema"
        )
    endpoint = Endpoint(provider, endpoint_id, document, input_schema, output_schema, source, tier)
    if checked:
        check_endpoint(endpoint)
    return endpoint


class Contracts:
    """The endpoints the emulator serves, by provider and id: the curated ones (loaded
    documents) first, then fal's catalogue, then (if set) a generic contract by name."""

    def __init__(
        self,
        endpoints: Iterable[Endpoint] = (),
        *,
        catalogue: Any = None,
        fallback: Callable[[str, str], Endpoint | None] | None = None,
    ) -> None:
        """``catalogue``: an `emulator.contracts.catalogue.Catalogue` for fal's ids;
        ``fallback``: what answers an id neither knows (None: nothing, fal's 404)."""
        self._endpoints: dict[tuple[str, str], Endpoint] = {}
        self._counts: dict[str, int] | None = None
        self.catalogue = catalogue
        self.fallback = fallback
        for endpoint in endpoints:
            self.add(endpoint)

    def add(self, endpoint: Endpoint) -> None:
        self._endpoints[(endpoint.provider, endpoint.id)] = endpoint
        self._counts = None

    def counts(self) -> dict[str, int]:
        """How many endpoints are served, by provider: the curated ones and the
        catalogue's (counted once, without building any)."""
        if self._counts is None:
            counts: dict[str, int] = {}
            for provider, _ in self._endpoints:
                counts[provider] = counts.get(provider, 0) + 1
            if self.catalogue is not None:  # (the listing's rows, not made: the first health
                # answer waits on this count)
                counts["fal"] = counts.get("fal", 0) + sum(1 for _ in self._catalogue_only())
            self._counts = counts
        return dict(self._counts)

    def get(self, provider: str, endpoint_id: str) -> Endpoint | None:
        endpoint = self._endpoints.get((provider, endpoint_id))
        if endpoint is None and provider == "fal" and self.catalogue is not None:
            endpoint = self.catalogue.endpoint(endpoint_id)
        if endpoint is None and self.fallback is not None:
            endpoint = self.fallback(provider, endpoint_id)
        return endpoint

    def of(self, provider: str) -> list[Endpoint]:
        """The curated endpoints of ``provider``."""
        return [e for (p, _), e in self._endpoints.items() if p == provider]

    def serve_any(self, pattern: str, provider: str | None = None) -> bool:
        """Whether the id of an endpoint served (``provider``'s, if given) matches the glob
        ``pattern``: with a fallback (``--unknown-endpoints generic``) any id does."""
        if self.fallback is not None:
            return True
        return any(
            fnmatch.fnmatchcase(row["id"], pattern)
            for row in self.listing()
            if provider in (None, row["provider"])
        )

    def listing(self) -> Iterator[dict[str, Any]]:
        """Every endpoint served, with its tier and source, without building any."""
        for endpoint in self:
            yield {
                "provider": endpoint.provider,
                "id": endpoint.id,
                "category": endpoint.category,
                "tier": endpoint.tier,
                "source": endpoint.source,
                "delisted": endpoint.delisted,
            }
        if self.catalogue is None:
            return
        for endpoint_id in self._catalogue_only():
            yield {
                "provider": "fal",
                "id": endpoint_id,
                "category": self.catalogue.category(endpoint_id),
                "tier": "catalogue",
                "source": self.catalogue.source(endpoint_id),
                "delisted": self.catalogue.delisted(endpoint_id),
            }

    def _catalogue_only(self) -> Iterator[str]:
        """The catalogue's ids no curated contract serves (it answers those)."""
        ids = () if self.catalogue is None else self.catalogue.ids()
        return (i for i in ids if ("fal", i) not in self._endpoints)

    def __iter__(self) -> Iterator[Endpoint]:
        """The curated endpoints (the catalogue's are built only when asked for)."""
        return iter(self._endpoints.values())

    def __len__(self) -> int:
        return len(self._endpoints)
