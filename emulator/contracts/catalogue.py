"""fal's whole catalogue, served lazily from one compact archive.

``catalogue/fal.zip`` (shipped in the wheel as ``emulator/_catalogue/fal.zip``) is made by
``provider-emulator contracts import`` from fal's published endpoint types. It holds
``index.json`` (each endpoint's shard, input and output type names and category, where
and when the data came from, and which endpoints only older types files have: served,
flagged delisted) and ``shards/NNN.json`` (the JSON Schemas of the types those endpoints
use). Nothing is read until an endpoint outside the curated contracts is asked
for; then the index (once per process), that endpoint's shard (once), and its OpenAPI
document and validators (on its first use) are built.

Known limits: the types carry no bounds (``minimum``, ``maxLength``…) fal states only in
its OpenAPI text, no examples, and every number is a JSON ``number``.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import zipfile
from collections.abc import Iterator, Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from emulator.contracts.documents import Endpoint, endpoint_from_document

TIER = "catalogue"
_REF = "#/components/schemas/"
QUEUE_STATUS = {
    "type": "object",
    "required": ["status", "request_id"],
    "properties": {
        "status": {"type": "string", "enum": ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]},
        "request_id": {"type": "string", "description": "The request id."},
        "response_url": {"type": "string", "description": "The response url."},
        "status_url": {"type": "string", "description": "The status url."},
        "cancel_url": {"type": "string", "description": "The cancel url."},
        "logs": {"type": "object", "additionalProperties": True},
        "metrics": {"type": "object", "additionalProperties": True},
        "queue_position": {"type": "integer"},
    },
}


def _shipped_catalogue_file() -> Path:
    """Inside an installed wheel (``emulator/_catalogue``), else the source checkout's."""
    spec = importlib.util.find_spec("emulator._catalogue")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "fal.zip"
    return Path(__file__).resolve().parents[2] / "catalogue" / "fal.zip"


CATALOGUE_FILE = _shipped_catalogue_file()


def referenced(names: list[str], types: Mapping[str, Any]) -> dict[str, Any]:
    """``names`` and every type they refer to, by name, in sorted order."""
    found: set[str] = set()
    pending = [n for n in names if n]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        stack: list[Any] = [types[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith(_REF):
                    pending.append(ref[len(_REF) :])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return {name: types[name] for name in sorted(found)}


def _path_item(operation: str, schema_name: str, description: str) -> dict[str, Any]:
    request_id = {
        "name": "request_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    content = {"application/json": {"schema": {"$ref": _REF + schema_name}}}
    return {
        operation: {
            "parameters": [request_id],
            "responses": {"200": {"description": description, "content": content}},
        }
    }


def openapi_document(
    endpoint_id: str,
    input_name: str,
    output_name: str,
    types: Mapping[str, Any],
    category: str | None,
) -> dict[str, Any]:
    """The endpoint in fal's per-endpoint OpenAPI format (as fal.ai/api/openapi serves)."""
    submit = f"/{endpoint_id}"
    queue = {"application/json": {"schema": {"$ref": _REF + "QueueStatus"}}}
    result = _path_item("get", output_name, "Result of the request.")
    status = _path_item("get", "QueueStatus", "The request status.")
    return {
        "openapi": "3.0.4",
        "info": {
            "title": f"Queue OpenAPI for {endpoint_id}",
            "version": "1.0.0",
            "description": f"The OpenAPI schema for the {endpoint_id} queue.",
            "x-fal-metadata": {
                "endpointId": endpoint_id,
                "category": category,
                "playgroundUrl": f"https://fal.ai/models/{endpoint_id}",
                "documentationUrl": f"https://fal.ai/models/{endpoint_id}/api",
            },
        },
        "servers": [{"url": "https://queue.fal.run"}],
        "security": [{"apiKeyAuth": []}],
        "paths": {
            submit: {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": _REF + input_name}}},
                    },
                    "responses": {"200": {"description": "The request status.", "content": queue}},
                }
            },
            f"{submit}/requests/{{request_id}}": result,
            f"{submit}/requests/{{request_id}}/status": status,
        },
        "components": {
            "securitySchemes": {
                "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "schemas": {
                "QueueStatus": QUEUE_STATUS,
                **referenced([input_name, output_name], types),
            },
        },
    }


class Catalogue:
    """The endpoints of one catalogue archive, read on demand and kept once read."""

    def __init__(self, path: Path, *, checked: bool = True) -> None:
        self.path = path
        self.checked = checked  # whether each endpoint gets `check_endpoint` as it is built
        self._lock = threading.Lock()
        self._index: dict[str, Any] | None = None
        self._shards: dict[int, dict[str, Any]] = {}
        self._endpoints: dict[str, Endpoint] = {}

    def _read(self, member: str) -> Any:
        with zipfile.ZipFile(self.path) as archive:
            return json.loads(archive.read(member))

    @property
    def index(self) -> dict[str, Any]:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = self._read("index.json")
        return self._index

    @property
    def metadata(self) -> dict[str, Any]:
        return self.index["metadata"]

    @cached_property
    def _delisted(self) -> frozenset[str]:
        return frozenset(self.index.get("delisted", ()))

    def delisted(self, endpoint_id: str) -> bool:
        """Whether the endpoint comes from an older types file only: the newer one, fal's
        active list, no longer has it (still served; see drift.py)."""
        return endpoint_id in self._delisted

    def source(self, endpoint_id: str) -> str:
        """How a listing names where the endpoint's definition came from."""
        meta: Mapping[str, Any] = self.metadata
        if self.delisted(endpoint_id):
            meta = self._older_source(self.index["endpoints"][endpoint_id][0])
        return f"catalogue: {meta.get('source_name')} ({meta.get('source_date') or 'undated'})"

    def _older_source(self, shard: int) -> Mapping[str, Any]:
        """The metadata of the older types file a delisted endpoint of ``shard`` is from:
        the first's, unless a later one's shards begin at or before it."""
        meta = self.metadata
        found = meta["delisted_source"]
        for further in meta.get("further_delisted_sources", ()):
            if shard >= further["first_shard"]:
                found = further
        return found

    def __contains__(self, endpoint_id: object) -> bool:
        return endpoint_id in self.index["endpoints"]

    def ids(self) -> Iterator[str]:
        return iter(self.index["endpoints"])

    def category(self, endpoint_id: str) -> str | None:
        return self.index["endpoints"][endpoint_id][3]

    def document(self, endpoint_id: str) -> dict[str, Any] | None:
        """The endpoint's OpenAPI document, or None if the catalogue has no such id."""
        entry = self.index["endpoints"].get(endpoint_id)
        if entry is None:
            return None
        shard, input_name, output_name, category = entry
        with self._lock:
            types = self._shards.get(shard)
            if types is None:
                types = self._shards[shard] = self._read(f"shards/{shard:03d}.json")
        document = openapi_document(endpoint_id, input_name, output_name, types, category)
        if self.delisted(endpoint_id):
            # the flag `contracts sync` writes: which source no longer lists it, and when
            meta = self.metadata
            flag = {"source": meta.get("source_name"), "date": meta.get("source_date")}
            document["info"]["x-emulator-delisted"] = flag
        return document

    def endpoint(self, endpoint_id: str) -> Endpoint | None:
        """The endpoint, built on its first use; None if the catalogue has no such id."""
        endpoint = self._endpoints.get(endpoint_id)
        if endpoint is None:
            document = self.document(endpoint_id)
            if document is None:
                return None
            endpoint = endpoint_from_document(
                "fal", document, source=self.source(endpoint_id), tier=TIER, checked=self.checked
            )
            self._endpoints[endpoint_id] = endpoint
        return endpoint


@cache
def shipped_catalogue() -> Catalogue | None:
    """The catalogue shipped with the package (one per process), if it is there. Its
    endpoints skip `check_endpoint` (6-8 ms each here, nine tenths of building one): the
    test suite checks every one of them, as it does the shipped contracts."""
    return Catalogue(CATALOGUE_FILE, checked=False) if CATALOGUE_FILE.is_file() else None


def documents_from_types(path: Path | str) -> dict[str, Mapping[str, Any]]:
    """fal-format OpenAPI documents by endpoint id, from an endpoint-types ``.ts`` file
    (fal's ``endpoints.ts``, or ``endpoints.d.ts`` of the ``@fal-ai/client`` package).
    Needs Node and ``npm ci --prefix tools/catalogue`` in a source checkout."""
    from emulator.contracts.catalogue_build import categorise, convert_types

    converted = convert_types(Path(path))
    types = converted["types"]
    return {
        endpoint_id: openapi_document(
            endpoint_id,
            entry["input"],
            entry["output"],
            types,
            categorise(endpoint_id, entry["input"], entry["output"], types),
        )
        for endpoint_id, entry in sorted(converted["endpoints"].items())
    }
