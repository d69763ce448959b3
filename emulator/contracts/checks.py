"""What a contract document must be to be served: an endpoint id (the one its metadata
names), ``$ref`` pointers that lead somewhere, input and output schemas that are JSON
Schema 2020-12, patterns matched in linear time (matching.py) and no ``$ref`` cycle the
emulator could not finish (schema_walk.py). Documents of the user's own are checked as
they load (documents.py)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from emulator.contracts.matching import pattern_problem
from emulator.contracts.metaschema import check_schema
from emulator.contracts.schema_walk import Walk, walk
from emulator.core.registry import LAYOUTS

if TYPE_CHECKING:
    from emulator.contracts.documents import Endpoint


class ContractError(ValueError):
    """A document that cannot serve as an endpoint contract."""


def check_endpoint(endpoint: Endpoint) -> None:
    """`ContractError` unless the endpoint's id is one (and the one its metadata names),
    each of its ``$ref`` pointers (every one in a curated document) leads somewhere, its
    input and output schemas reach patterns RE2 runs and no endless ``$ref`` cycle, and
    they and each schema they reach are valid JSON Schema (2020-12)."""
    _check_id(endpoint)
    if endpoint.tier == "curated":  # generated tiers are checked when they are made
        for ref in refs(endpoint.document):
            try:
                endpoint._lookup(ref)
            except (KeyError, TypeError):
                raise ContractError(
                    f"{endpoint.source}: broken $ref {ref!r}: the document has nothing there"
                ) from None
    walked = walk(endpoint)
    # first: jsonschema's check compiles each pattern with Python's re, which warns of a
    # POSIX class ("FutureWarning: Possible nested set") before its refusal here
    _check_reach(endpoint, walked)
    tops = {"input": endpoint.input_schema, "output": endpoint.output_schema}
    for which, schema in tops.items():
        _check_schema(endpoint, f"{which} schema", schema)
    if endpoint.tier != "curated":
        # a generated tier's schemas are the importer's, which its tests check: checked
        # here again, each $ref'd one took 3 ms (about 25 s over fal's catalogue)
        return
    # jsonschema's check does not follow a $ref: each schema one leads to is checked too
    # (but the input's and the output's own, checked already as they resolve)
    checked = {*tops, *(top.get("$ref") for top in tops.values())}
    for ref in walked.steps:
        if ref not in checked:
            _check_schema(endpoint, f"schema {ref}", endpoint._lookup(ref))


def _check_schema(endpoint: Endpoint, which: str, schema: Any) -> None:
    """`ContractError` unless ``schema`` (the document's ``which``), its own ``$ref``
    followed, is JSON Schema 2020-12."""
    from jsonschema.exceptions import SchemaError

    try:
        _check_once(endpoint.resolve(schema) if isinstance(schema, Mapping) else schema)
    except SchemaError as exc:  # one line, where jsonschema's own text is a page
        where = "/".join(map(str, exc.path)) or "its root"
        raise ContractError(
            f"{endpoint.source}: the {which} is not JSON Schema 2020-12 (at {where}: {exc.message})"
        ) from exc
    except (KeyError, TypeError) as exc:
        raise ContractError(f"{endpoint.source}: broken $ref, no {exc} there") from exc
    except Exception as exc:  # a schema jsonschema rejects, a non-local $ref
        raise ContractError(f"{endpoint.source}: {exc}") from exc


#: digests of the schemas `_check_once` found valid in this process
_VALID_SCHEMAS: set[bytes] = set()


def _check_once(schema: Any) -> None:
    """`metaschema.check_schema`, once per distinct schema: documents share schemas (fal's
    catalogue: 3,092 input and output schemas, 1,384 distinct)."""
    try:
        text = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):  # not plain JSON (a key that is no string): not kept
        check_schema(schema)
        return
    digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
    if digest not in _VALID_SCHEMAS:
        check_schema(schema)
        _VALID_SCHEMAS.add(digest)


def _check_reach(endpoint: Endpoint, walked: Walk) -> None:
    """What the input and output schemas reach, ``$ref``s followed (schema_walk.py):
    patterns RE2 runs, and no ``$ref`` cycle the emulator would follow for ever."""
    for where, pattern in walked.patterns:
        problem = pattern_problem(pattern)
        if problem:
            raise ContractError(f"{endpoint.source}: the pattern {pattern!r} at {where} {problem}")
    if {"patternProperties", "unevaluatedProperties"} <= walked.keywords:
        raise ContractError(
            f"{endpoint.source}: patternProperties beside unevaluatedProperties is not "
            "served (jsonschema would match those patterns with a backtracking engine): "
            "use additionalProperties"
        )
    endless = walked.cycle(lambda step: not step.enters)
    if endless:
        raise ContractError(
            f"{endpoint.source}: the $ref cycle {' -> '.join(endless)} never enters the "
            "value, so a value would be checked against it for ever: break the cycle"
        )
    depths = walked.depths()
    # a schema no finite value keeps leads, whichever branches are taken, to another such:
    # followed, those make a cycle
    required = walked.cycle(lambda step: step.forced and depths.get(step.target) == math.inf)
    if required:
        raise ContractError(
            f"{endpoint.source}: every value must follow the $ref cycle "
            f"{' -> '.join(required)} (required at each step, in every anyOf/oneOf branch), "
            "so none is finite: make a field on it optional"
        )


#: an endpoint id: segments of letters, digits, ``.``, ``_`` and ``-``, joined by ``/``
_ENDPOINT_ID = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
#: where each provider's documents name their endpoint's id
_ID_METADATA = {
    "fal": ("x-fal-metadata", "endpointId"),
    "wavespeed": ("x-wavespeed-metadata", "modelId"),
}


def id_problem(provider: str, endpoint_id: str) -> str | None:
    """Why ``endpoint_id`` cannot be one of ``provider``'s endpoints, or None if it can."""
    if not _ENDPOINT_ID.fullmatch(endpoint_id):
        return (
            f"{endpoint_id!r} (its submit path) is no endpoint id: "
            "segments of letters, digits, '.', '_' and '-', joined by '/'"
        )
    first = endpoint_id.split("/", 1)[0]
    if first in LAYOUTS[provider].api_words:
        return (
            f"{endpoint_id!r} starts with {first!r}, a path of "
            f"{provider}'s own API, which would answer it: name it otherwise"
        )
    return None


def could_be_model(provider: str, endpoint_id: str) -> bool:
    """Whether a client's ``endpoint_id`` could name one of ``provider``'s models: a
    well-formed id, not a path of the provider's own API nor a request's."""
    return (
        provider in LAYOUTS
        and "/requests/" not in f"/{endpoint_id}/"
        and id_problem(provider, endpoint_id) is None
    )


def _check_id(endpoint: Endpoint) -> None:
    """The id the submit path names must be one, and the metadata's (if it names one):
    a copy renamed in one place only would replace the endpoint it was copied from."""
    problem = id_problem(endpoint.provider, endpoint.id)
    if problem:
        raise ContractError(f"{endpoint.source}: {problem}")
    extension, field = _ID_METADATA[endpoint.provider]
    info = _object(endpoint, endpoint.document, "info")
    named = _object(endpoint, info, extension).get(field)
    if isinstance(named, str) and named != endpoint.id:
        raise ContractError(
            f"{endpoint.source}: its submit path names {endpoint.id!r} but "
            f"info.{extension}.{field} names {named!r}: a copy is renamed in both"
        )


def _object(endpoint: Endpoint, node: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """``node[name]``, which must be an object if there ({} if not): the endpoint's
    category and metadata are read from there."""
    found = node.get(name, {})
    if not isinstance(found, Mapping):
        raise ContractError(f"{endpoint.source}: its {name} is not an object")
    return found


def refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` in a document, in its order."""
    for mapping in mappings(node):
        if isinstance(mapping.get("$ref"), str):
            yield mapping["$ref"]


def mappings(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every object in a document (``node`` itself first), in its order, without recursion:
    a document may nest deeper than Python's stack. An object changed as it is yielded is
    walked as it is then."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            yield node
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
