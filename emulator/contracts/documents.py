"""OpenAPI documents → endpoints.

An endpoint is data: one OpenAPI document in the provider's published per-endpoint
format. The submit operation is the one POST path with a request body; its path, minus the
provider's prefix, is the endpoint id. The output schema is the 200 response of the GET
path ending in ``/requests/{request_id}``. Nothing here knows any particular model.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import importlib.util
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.contracts.checks import ContractError, check_endpoint
from emulator.contracts.inlining import inline_refs
from emulator.contracts.openapi30 import as_json_schema
from emulator.contracts.shipped import SHIPPED
from emulator.core.registry import LAYOUTS

if TYPE_CHECKING:  # jsonschema loads when the first validator is built, not at start-up
    from jsonschema import Draft202012Validator


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
            for entry in self.listing():
                counts[entry["provider"]] = counts.get(entry["provider"], 0) + 1
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
        for endpoint_id in self.catalogue.ids():
            if ("fal", endpoint_id) not in self._endpoints:
                yield {
                    "provider": "fal",
                    "id": endpoint_id,
                    "category": self.catalogue.category(endpoint_id),
                    "tier": "catalogue",
                    "source": self.catalogue.source(endpoint_id),
                    "delisted": self.catalogue.delisted(endpoint_id),
                }

    def __iter__(self) -> Iterator[Endpoint]:
        """The curated endpoints (the catalogue's are built only when asked for)."""
        return iter(self._endpoints.values())

    def __len__(self) -> int:
        return len(self._endpoints)


def provider_of(document: Mapping[str, Any], path: Path) -> str:
    """The provider a document is for: its ``x-{provider}-metadata``, its servers' hosts,
    else a folder of its path named as a provider is; raises `ContractError`."""
    info = document.get("info")
    for provider in LAYOUTS:
        if isinstance(info, Mapping) and f"x-{provider}-metadata" in info:
            return provider
    servers = document.get("servers")
    for server in servers if isinstance(servers, list) else []:
        url = server.get("url", "") if isinstance(server, Mapping) else ""
        labels = url.partition("://")[2].split("/", 1)[0].split(".")
        for provider in LAYOUTS:
            if provider in labels:
                return provider
    for part in reversed(path.parts[:-1]):
        if part in LAYOUTS:
            return part
    raise ContractError(
        f"{path}: not a provider contract (no x-fal-metadata or x-wavespeed-metadata in its "
        "info, no provider host in its servers, not under a fal/ or wavespeed/ folder)"
    )


def _document_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ContractError(f"contracts {root} does not exist")
    files = sorted(root.rglob("*.json"))
    if not files:
        raise ContractError(f"contracts directory {root} holds no *.json documents")
    return files


def load_contracts(directories: Iterable[Path | str], **options: Any) -> Contracts:
    """Load every ``*.json`` document in each directory (any layout) or file given.

    The provider is read from each document (see `provider_of`); a later document for the
    same endpoint replaces an earlier one. ``options`` go to `Contracts`. Each document is
    checked (`check_endpoint`) as it loads, but for the shipped ones (`shipped.SHIPPED`,
    by their bytes): the test suite checks those, and a start-up that checked them again
    would spend most of its time on it. A document added to the shipped folder, or one of
    its documents changed, is checked. Documents are read again when changed, but the
    shipped ones, read once per process.
    """
    contracts = Contracts(**options)
    for directory in directories:
        if Path(directory) == DEFAULT_CONTRACTS_DIR:
            endpoints = _shipped_endpoints(DEFAULT_CONTRACTS_DIR)
        else:
            files = _document_files(Path(directory))
            endpoints = tuple(_loaded(path, checked=not _shipped(path)) for path in files)
        for endpoint in endpoints:
            contracts.add(endpoint)
    return contracts


def each_document(
    directories: Iterable[Path | str], *, added_only: bool = False
) -> Iterator[Endpoint | ContractError]:
    """Each document in ``directories`` (read as `load_contracts` reads them) loaded and
    checked, the shipped ones too, each once; or the `ContractError` that refuses it (or
    its directory): one broken document hides none of the others. ``added_only``: only
    the documents not shipped as they are."""
    for directory in directories:
        try:
            files = _document_files(Path(directory))
        except ContractError as exc:
            yield exc
            continue
        for path in files:
            if added_only and _shipped(path):
                continue
            try:
                yield _loaded(path, checked=True)
            except ContractError as exc:
                yield exc


@functools.lru_cache(maxsize=8)
def _resolved(path: Path) -> Path:
    return path.resolve()  # an installed wheel's path may be a link


def _shipped(path: Path) -> bool:
    """Whether ``path`` is a shipped document as it was shipped (its bytes unchanged)."""
    root, where = _resolved(DEFAULT_CONTRACTS_DIR), path.resolve()
    if not where.is_relative_to(root):
        return False
    digest = SHIPPED.get(where.relative_to(root).as_posix())
    if digest is None:
        return False
    try:
        return digest == hashlib.sha256(where.read_bytes()).hexdigest()
    except OSError:
        return False  # not as shipped: loading it says why it cannot be read


@functools.lru_cache(maxsize=8)
def _shipped_endpoints(root: Path) -> tuple[Endpoint, ...]:
    """The package's own documents, listed and read once per process: an emulator is made
    per test, and walking their folders took a third of making one (issue 17)."""
    return tuple(_loaded(path, checked=not _shipped(path)) for path in _document_files(root))


def _loaded(path: Path, *, checked: bool) -> Endpoint:
    try:
        status = path.stat()
    except OSError as exc:  # a link to nothing, a file gone since it was listed
        raise _unreadable(path, exc) from exc
    return _endpoint_at(path, status.st_mtime_ns, status.st_size, checked)


def _unreadable(path: Path, exc: OSError) -> ContractError:
    return ContractError(f"{path}: cannot be read ({exc.strerror or exc})")


@functools.lru_cache(maxsize=4096)
def _endpoint_at(path: Path, mtime_ns: int, size: int, checked: bool) -> Endpoint:
    """The endpoint of the document at ``path``, read (and checked) once per process for
    as long as the file is unchanged: every emulator (one per test, say) shares it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:  # unreadable (its permissions, a folder named *.json)
        raise _unreadable(path, exc) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(document, Mapping):
        raise ContractError(f"{path}: not a provider contract (not a JSON object)")
    provider = provider_of(document, path)
    return endpoint_from_document(provider, document, source=str(path), checked=checked)
