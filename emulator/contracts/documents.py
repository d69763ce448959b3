"""OpenAPI documents → endpoints.

An endpoint is data: one OpenAPI document in the provider's published per-endpoint
format. The submit operation is the one POST path with a request body; its path, minus the
provider's prefix, is the endpoint id. The output schema is the 200 response of the GET
path ending in ``/requests/{request_id}``. Nothing here knows any particular model.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from emulator.contracts.rules import ContractValidator
from emulator.core.registry import LAYOUTS

__all__ = ["ContractError", "Contracts", "Endpoint", "load_contracts"]


class ContractError(ValueError):
    """A document that cannot serve as an endpoint contract."""


def _shipped_contracts() -> Path:
    """The contract documents: inside an installed wheel (``emulator/_contracts``, see
    pyproject.toml), else at the top of the source checkout this package runs from."""
    spec = importlib.util.find_spec("emulator._contracts")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "contracts"


DEFAULT_CONTRACTS_DIR = _shipped_contracts()


@dataclass(frozen=True, eq=False)
class Endpoint:
    provider: str
    id: str
    document: Mapping[str, Any] = field(repr=False)
    input_schema: Mapping[str, Any] = field(repr=False)
    output_schema: Mapping[str, Any] = field(repr=False)
    source: str = ""

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

    def validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        """A validator for ``schema`` that resolves refs against this document and
        enforces the contract's ``x-emulator-*`` rules (see ``rules.py``)."""
        return ContractValidator({**schema, "components": self.document.get("components", {})})

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
    provider: str, document: Mapping[str, Any], *, source: str = ""
) -> Endpoint:
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
    if input_schema is None or output_schema is None:
        raise ContractError(f"{source}: missing the input or the output schema of {endpoint_id}")
    endpoint = Endpoint(provider, endpoint_id, document, input_schema, output_schema, source)
    try:
        Draft202012Validator.check_schema(endpoint.resolve(input_schema))
        endpoint.resolve(output_schema)
    except Exception as exc:  # a bad $ref or a schema jsonschema rejects
        raise ContractError(f"{source}: {exc}") from exc
    return endpoint


class Contracts:
    """The endpoints the emulator serves, by provider and id."""

    def __init__(self, endpoints: Iterable[Endpoint] = ()) -> None:
        self._endpoints: dict[tuple[str, str], Endpoint] = {}
        for endpoint in endpoints:
            self.add(endpoint)

    def add(self, endpoint: Endpoint) -> None:
        self._endpoints[(endpoint.provider, endpoint.id)] = endpoint

    def get(self, provider: str, endpoint_id: str) -> Endpoint | None:
        return self._endpoints.get((provider, endpoint_id))

    def of(self, provider: str) -> list[Endpoint]:
        return [e for (p, _), e in self._endpoints.items() if p == provider]

    def __iter__(self) -> Iterator[Endpoint]:
        return iter(self._endpoints.values())

    def __len__(self) -> int:
        return len(self._endpoints)


def load_contracts(directories: Iterable[Path | str]) -> Contracts:
    """Load every ``*.json`` document below each directory's provider folders.

    A directory holds one folder per provider, named as the provider is (``fal/``…); a
    later directory's document for the same endpoint replaces an earlier one.
    """
    contracts = Contracts()
    for directory in directories:
        root = Path(directory)
        if not root.is_dir():
            raise ContractError(f"contracts directory {root} does not exist")
        for provider in LAYOUTS:
            for path in sorted((root / provider).rglob("*.json")):
                stat = path.stat()
                contracts.add(_endpoint_at(provider, path, stat.st_mtime_ns, stat.st_size))
    return contracts


@functools.lru_cache(maxsize=4096)
def _endpoint_at(provider: str, path: Path, mtime_ns: int, size: int) -> Endpoint:
    """The endpoint of the document at ``path``, read and checked once per process for as
    long as the file is unchanged: every emulator (one per test, say) shares it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ContractError(f"{path}: not JSON ({exc})") from exc
    return endpoint_from_document(provider, document, source=str(path))
