"""Where newer published contract documents come from, for ``contracts diff`` and ``sync``.

A source answers one question: the documents it publishes for a provider, by endpoint id.
``complete`` says whether it lists the provider's whole active catalogue, so that an
endpoint missing from it counts as delisted. Implementations:

- `DocumentFile`: one per-endpoint OpenAPI document, a file or a URL;
- `PerEndpointURL`: a URL template with ``{endpoint_id}``, fetched once per shipped endpoint
  (fal publishes ``https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=…``);
- `DocumentDirectory`: a folder laid out like ``contracts/`` (``fal/…``, ``wavespeed/…``),
  with an optional ``catalogue.json`` naming the source, its date and the listed ids;
- `EndpointTypes`: fal's published endpoint-types ``.ts`` file, converted as
  ``contracts import`` converts it (`catalogue.documents_from_types`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from emulator.contracts import catalogue
from emulator.contracts.documents import ContractError, endpoint_from_document
from emulator.core.registry import LAYOUTS

Documents = dict[str, Mapping[str, Any]]
FAL_PER_ENDPOINT = "https://fal.ai/api/openapi/queue/openapi.json?endpoint_id={endpoint_id}"
_FETCH_TIMEOUT = 20.0
_MAX_DOCUMENT = 8 * 1024 * 1024


class SourceError(ValueError):
    """A drift source that cannot be read: missing, unreachable, or not documents."""


#: a source's silence on these is no change: it cannot state them (an OpenAPI document can)
NOTHING_UNSTATED: frozenset[str] = frozenset()
#: what fal's endpoint-types file cannot state: TypeScript has no bounds, titles, formats,
#: patterns, examples or typed additional properties, writes a default only where the
#: field's text gives one, an untyped field as ``any``, and has one ``number`` for JSON's
#: integer and number (`NUMBERS`)
TYPES_UNSTATED = frozenset(
    {
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
        "maxLength", "minItems", "maxItems", "title", "format", "pattern", "examples",
        "additionalProperties", "default", "type",
    }
)  # fmt: skip
#: in a source's `unstated`: it writes ``number`` for an integer too
NUMBERS = "integer"


class DocumentSource(Protocol):
    #: what to record as the origin of synced changes
    description: str
    #: the date the source was published or retrieved (ISO), when known
    date: str | None
    #: the schema keywords the source cannot state: its silence on them is no change
    #: (with `NUMBERS`: nor its ``number`` for an integer)
    unstated: ClassVar[frozenset[str]]
    #: whether its fal documents are fal's whole catalogue, as the catalogue is imported
    #: from (fal's endpoint-types file): the catalogue's endpoints are compared too
    whole_catalogue: ClassVar[bool]

    def documents(self, provider: str, wanted: Iterable[str]) -> Documents:
        """The published documents of ``provider`` by endpoint id (``wanted``: the ids
        shipped, for sources fetched per endpoint)."""
        ...

    def complete(self, provider: str) -> bool:
        """Whether an endpoint absent from `documents` is no longer listed."""
        ...


def _read_json(location: str) -> Any:
    """A JSON document from a path or an http(s) URL; one clear error otherwise."""
    try:
        if location.startswith(("http://", "https://")):
            request = urllib.request.Request(location, headers={"Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=_FETCH_TIMEOUT) as answer:
                text = answer.read(_MAX_DOCUMENT + 1)
            if len(text) > _MAX_DOCUMENT:
                raise SourceError(f"{location}: larger than {_MAX_DOCUMENT} bytes")
        else:
            text = Path(location).read_bytes()
        return json.loads(text)
    except (OSError, urllib.error.URLError) as exc:
        raise SourceError(f"cannot read {location}: {getattr(exc, 'reason', exc)}") from None
    except ValueError as exc:
        raise SourceError(f"{location}: not JSON ({exc})") from None


def _identify(document: Any, location: str) -> tuple[str, str]:
    """The provider and endpoint id a per-endpoint document describes."""
    problem = f"{location}: not a per-endpoint OpenAPI document of a known provider"
    if isinstance(document, Mapping):
        for provider in LAYOUTS:
            try:
                return provider, endpoint_from_document(provider, document, source=location).id
            except ContractError as exc:
                if "is not under" not in str(exc):  # the provider's document, but broken
                    problem = str(exc)
            except (AttributeError, TypeError):
                continue
    raise SourceError(problem)


def _published_date(document: Mapping[str, Any]) -> str | None:
    return document.get("info", {}).get("x-emulator-published", {}).get("date")


@dataclass
class DocumentFile:
    """One per-endpoint OpenAPI document, from a file or a URL."""

    unstated: ClassVar[frozenset[str]] = NOTHING_UNSTATED
    whole_catalogue: ClassVar[bool] = False

    location: str
    date: str | None = None

    def __post_init__(self) -> None:
        self.description = self.location
        self._document = _read_json(self.location)
        self._provider, self._id = _identify(self._document, self.location)
        self.date = self.date or _published_date(self._document)

    def documents(self, provider: str, wanted: Iterable[str]) -> Documents:
        return {self._id: self._document} if provider == self._provider else {}

    def complete(self, provider: str) -> bool:
        return False


@dataclass
class PerEndpointURL:
    """A URL template with ``{endpoint_id}``, fetched once per shipped endpoint."""

    unstated: ClassVar[frozenset[str]] = NOTHING_UNSTATED
    whole_catalogue: ClassVar[bool] = False

    template: str
    provider: str = "fal"
    date: str | None = None

    def __post_init__(self) -> None:
        self.description = self.template

    def documents(self, provider: str, wanted: Iterable[str]) -> Documents:
        if provider != self.provider:
            return {}
        return {i: _read_json(self.template.format(endpoint_id=i)) for i in wanted}

    def complete(self, provider: str) -> bool:
        return False


@dataclass
class DocumentDirectory:
    """A folder laid out like ``contracts/``, with an optional ``catalogue.json``."""

    unstated: ClassVar[frozenset[str]] = NOTHING_UNSTATED
    whole_catalogue: ClassVar[bool] = False

    root: Path
    date: str | None = None
    _catalogue: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.root.is_dir():
            raise SourceError(f"{self.root} is not a directory of documents")
        index = self.root / "catalogue.json"
        self._catalogue = _read_json(str(index)) if index.is_file() else {}
        self.description = self._catalogue.get("source", str(self.root))
        self.date = self.date or self._catalogue.get("date")

    def documents(self, provider: str, wanted: Iterable[str]) -> Documents:
        found: Documents = {}
        for path in sorted((self.root / provider).rglob("*.json")):
            document = _read_json(str(path))
            found[_identify(document, str(path))[1]] = document
        return found

    def complete(self, provider: str) -> bool:
        return provider in self._catalogue.get("complete", [])


@dataclass
class EndpointTypes:
    """fal's published endpoint-types ``.ts`` file, converted as the catalogue is imported."""

    unstated: ClassVar[frozenset[str]] = TYPES_UNSTATED | {NUMBERS}
    whole_catalogue: ClassVar[bool] = True

    path: Path
    date: str | None = None

    def __post_init__(self) -> None:
        if not self.path.is_file():
            raise SourceError(f"cannot read {self.path}: no such file")
        self.description = str(self.path)
        self._documents = catalogue.documents_from_types(self.path)

    def documents(self, provider: str, wanted: Iterable[str]) -> Documents:
        return dict(self._documents) if provider == "fal" else {}

    def complete(self, provider: str) -> bool:
        return provider == "fal"  # the file lists every active fal endpoint


def open_source(against: str | None) -> DocumentSource:
    """The source ``--against`` names: a ``.ts`` file, a directory, a URL (a template with
    ``{endpoint_id}`` is fetched per endpoint) or a file; none: fal's per-endpoint URLs."""
    if against is None:
        return PerEndpointURL(FAL_PER_ENDPOINT)
    if against.startswith(("http://", "https://")):
        if "{endpoint_id}" in against:
            return PerEndpointURL(against)
        return DocumentFile(against)
    path = Path(against)
    if path.suffix == ".ts":
        return EndpointTypes(path)
    if path.is_dir():
        return DocumentDirectory(path)
    return DocumentFile(against)
