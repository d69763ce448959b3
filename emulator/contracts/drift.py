"""Drift between the shipped contracts and newer published documents, classified.

critical: a new required field, a removed field or enum value, a type change, a tighter
bound, an output field no longer required, an endpoint no longer listed; warning: a new
optional field, an input field no longer required, a new enum value, a new or changed
default, a looser bound, a size rule the text states but the contract does not enforce, a
new endpoint; info: text. Each change names the emulator behaviour it affects and carries
the patch that `contracts sync` applies to the shipped document (a catalogue endpoint's,
`contracts import` applies). Which endpoints are compared is
comparison.py's.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from emulator.contracts.checks import refs
from emulator.contracts.documents import Endpoint
from emulator.contracts.rules import SIZE_RULE, rule_from_text
from emulator.contracts.sources import NOTHING_UNSTATED, NUMBERS, DocumentSource

SEVERITIES = ("critical", "warning", "info")
DELETE = None  # a patch value: remove the key
DELISTED = "x-emulator-delisted"

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")
_TEXT = ("description", "title")
_MEDIA_FIELDS = {
    "image_size", "size", "width", "height", "resolution", "aspect_ratio", "duration",
    "num_frames", "num_images", "max_images",
}  # fmt: skip
_MAX_DEPTH = 12

VALIDATION = "input validation: what the emulator accepts or rejects (422 on fal, 400 on WaveSpeed)"
DEFAULTS = "defaults the emulator fills in before rendering (validation.apply_defaults)"
MEDIA = "the number, size or length of the media the emulator renders (contracts/sizes.py)"
OUTPUT = "output synthesis and the output validator (contracts/synthesis.py)"
SIZE_RULE_AFFECTS = "the x-emulator-size rule the validator enforces (contracts/rules.py)"
LISTING = "the delisted flag in /_emulator/endpoints (the endpoint stays served)"
SERVED = "the endpoints served: not yet (a 404); `contracts import` of the newer types serves it"


@dataclass(frozen=True)
class Change:
    provider: str
    endpoint: str
    field: str
    aspect: str
    severity: str
    message: str
    affects: str
    #: the patch: in the shipped document, at ``pointer``, set ``key`` to ``value``
    #: (`DELETE`: remove it)
    pointer: str
    key: str
    value: Any = DELETE
    #: where the change comes from, when not the report's source
    origin: str | None = None
    #: a new field that is required: sync also lists it in its object's ``required``
    required: bool = False
    #: the endpoint's tier: a catalogue endpoint's change is `contracts import`'s to apply
    #: (it has no document of its own), a curated one's `contracts sync`'s
    tier: str = "curated"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DriftReport:
    source: str
    date: str | None
    changes: list[Change]
    #: how many shipped endpoints the source said anything of
    compared: int = 0

    def count(self, severity: str) -> int:
        return sum(1 for change in self.changes if change.severity == severity)

    @property
    def critical(self) -> bool:
        return self.count("critical") > 0

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "date": self.date,
            "compared": self.compared,
            "counts": {s: self.count(s) for s in SEVERITIES},
            "changes": [change.as_json() for change in self.changes],
        }


class _Walk:
    """Compares one endpoint's shipped document with a newer one."""

    def __init__(
        self,
        old: Endpoint,
        new: Endpoint,
        origin: str | None = None,
        unstated: frozenset[str] = NOTHING_UNSTATED,
    ) -> None:
        self.old, self.new = old, new
        self.origin = origin
        #: what the newer document's source cannot state (`DocumentSource.unstated`)
        self.unstated = unstated
        self.changes: list[Change] = []

    def add(self, field: str, aspect: str, severity: str, message: str, affects: str,
            pointer: str, key: str, value: Any = DELETE,
            required: bool = False) -> None:  # fmt: skip
        self.changes.append(
            Change(
                self.old.provider,
                self.old.id,
                field,
                aspect,
                severity,
                f"{field}: {message}",
                affects,
                pointer,
                key,
                value,
                self.origin,
                required,
                self.old.tier,
            )  # fmt: skip
        )

    def follow(self, pointer: str, schema: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
        """The pointer to patch and the resolved schema: a bare ``$ref`` is followed to
        its target; a ``$ref`` with siblings is patched where the siblings are."""
        bare = set(schema) == {"$ref"}
        while bare and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
            pointer = schema["$ref"][1:]
            schema = self.old._lookup(schema["$ref"])
            bare = set(schema) == {"$ref"}
        return pointer, self.old.resolve(schema)

    def schema(self, pointer: str, old: Mapping[str, Any], new: Mapping[str, Any],
               field: str, depth: int = 0) -> None:  # fmt: skip
        if depth > _MAX_DEPTH:
            return
        pointer, old = self.follow(pointer, old)
        new = self.new.resolve(new)
        self.keywords(pointer, old, new, field)
        self.text_rule(pointer, old, new, field)
        self.properties(pointer, old, new, field, depth)
        for key in ("anyOf", "oneOf"):
            olds, news = old.get(key, []), _consts_as_enum(new.get(key, []), olds=old.get(key, []))
            if olds and len(olds) == len(news):
                for index, (a, b) in enumerate(zip(olds, news, strict=True)):
                    self.schema(f"{pointer}/{key}/{index}", a, b, field, depth + 1)
            elif olds != news and (olds or news):
                self.add(field, key, "critical", "the accepted shapes changed",
                         VALIDATION, pointer, key, copy.deepcopy(news) or DELETE)  # fmt: skip
        if isinstance(old.get("items"), Mapping) and isinstance(new.get("items"), Mapping):
            self.schema(f"{pointer}/items", old["items"], new["items"], f"{field}[]", depth + 1)

    def keywords(self, pointer: str, old: Mapping[str, Any], new: Mapping[str, Any],
                 field: str) -> None:  # fmt: skip
        inputs = field.startswith("input")
        for key in sorted((set(old) | set(new)) - {"properties", "anyOf", "oneOf", "items"}):
            before, after = old.get(key), new.get(key)
            if before == after or key.startswith("x-") or key in ("$ref", "examples"):
                continue
            if self.silent(key, before, after):
                continue
            if key == "required":  # of fields added or removed, their own change says it
                kept = old.get("properties", {}).keys() & new.get("properties", {}).keys()
                before, after = _among(before, kept), _among(after, kept)
            severity, message = _classify(key, before, after, inputs)
            if severity is None:
                continue
            affects = _affects(field, key, inputs)
            self.add(field, key, severity, message, affects, pointer, key,
                     copy.deepcopy(new.get(key)))  # fmt: skip

    def silent(self, key: str, before: Any, after: Any) -> bool:
        """Whether the newer source cannot state what differs: its silence on a keyword
        it cannot write, or its ``number`` for an integer, is no change."""
        if key in self.unstated and after is None:
            return True
        return key == "type" and NUMBERS in self.unstated and _as_numbers(before) == after

    def text_rule(self, pointer: str, old: Mapping[str, Any], new: Mapping[str, Any],
                  field: str) -> None:  # fmt: skip
        if self.old.tier != "curated":  # the import writes no rule: its text's are no drift
            return
        stated = rule_from_text(new.get("description"))
        if stated != old.get(SIZE_RULE) and (stated or SIZE_RULE in old):
            message = f"the text states {stated}" if stated else "the text no longer states a rule"
            self.add(field, SIZE_RULE, "warning", message, SIZE_RULE_AFFECTS, pointer, SIZE_RULE,
                     stated)  # fmt: skip

    def properties(self, pointer: str, old: Mapping[str, Any], new: Mapping[str, Any],
                   field: str, depth: int) -> None:  # fmt: skip
        olds, news = old.get("properties", {}), new.get("properties", {})
        required = set(new.get("required", []))
        inputs = field.startswith("input")
        for name in sorted(news.keys() - olds.keys()):
            severity = "critical" if name in required else "warning"
            kind = "required" if name in required else "optional"
            affects = _affects(f"{field}.{name}", "added", inputs)
            self.add(f"{field}.{name}", "added", severity, f"new {kind} field", affects,
                     f"{pointer}/properties", name, self.portable(news[name]),
                     required=name in required)  # fmt: skip
        for name in sorted(olds.keys() - news.keys()):
            affects = _affects(f"{field}.{name}", "removed", inputs)
            self.add(f"{field}.{name}", "removed", "critical", "field removed", affects,
                     f"{pointer}/properties", name)  # fmt: skip
        for name in sorted(olds.keys() & news.keys()):
            self.schema(f"{pointer}/properties/{name}", olds[name], news[name],
                        f"{field}.{name}", depth + 1)  # fmt: skip

    def portable(self, fragment: Any) -> Any:
        """A new fragment with the components it refers to copied in (and noted)."""
        for ref in refs(fragment):
            target = ref[2:].split("/")
            if target[0] == "components" and _missing(self.old.document, target):
                self.add("components", "added", "info", f"new component {target[-1]}", OUTPUT,
                         "/" + "/".join(target[:-1]), target[-1],
                         copy.deepcopy(self.new._lookup(ref)))  # fmt: skip
        return copy.deepcopy(fragment)


def _as_numbers(kind: Any) -> Any:
    """A schema's ``type`` with ``integer`` written as ``number``."""
    if isinstance(kind, list):
        return [_as_numbers(each) for each in kind]
    return "number" if kind == "integer" else kind


def _consts_as_enum(options: list[Any], *, olds: list[Any]) -> list[Any]:
    """``options`` (an ``anyOf``) with its string ``const`` options as one ``enum``, as
    ``olds`` write them, unless ``olds`` have consts of their own: the same values either
    way, whatever the source (fal's endpoint types spell ``"a" | "b"`` as consts, its
    OpenAPI documents as an enum)."""
    consts = [o for o in options if isinstance(o, Mapping) and set(o) == {"const", "type"}]
    if len(consts) < 2 or any(isinstance(o, Mapping) and "const" in o for o in olds):
        return options
    first = options.index(consts[0])
    merged = {"enum": [o["const"] for o in consts], "type": consts[0]["type"]}
    rest = [o for o in options if o not in consts]
    return [*rest[:first], merged, *rest[first:]]


def _missing(document: Mapping[str, Any], parts: list[str]) -> bool:
    node: Any = document
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return True
        node = node[part]
    return False


def _among(names: Any, fields: set[str]) -> list[str]:
    """The names of a ``required`` list that are among ``fields``, as a set would hold them."""
    return sorted(set(names or []) & fields)


def _classify(key: str, before: Any, after: Any, inputs: bool) -> tuple[str | None, str]:
    if key in ("type", "const"):
        return "critical", f"{key} {before!r} → {after!r}"
    if key == "enum":
        removed = [v for v in before or [] if v not in (after or [])]
        added = [v for v in after or [] if v not in (before or [])]
        if removed:
            return "critical", f"enum values removed: {removed}" + (
                f", added: {added}" * bool(added)
            )
        return "warning", f"enum values added: {added}"
    if key == "required":
        newly = sorted(set(after or []) - set(before or []))
        if newly:
            return "critical", f"newly required: {newly}"
        no_longer = sorted(set(before or []) - set(after or []))
        if not no_longer:
            return None, ""
        if inputs:  # the provider accepts more: nothing a client sent breaks
            return "warning", f"no longer required: {no_longer}"
        # the provider may leave them out: a client reading one unguarded crashes
        return "critical", f"no longer required: {no_longer} (may be missing from answers)"
    if key == "default":
        return "warning", f"default {before!r} → {after!r}"
    if key in _LOWER_BOUNDS or key in _UPPER_BOUNDS:
        lower = key in _LOWER_BOUNDS
        tighter = before is None if after is not None else False
        if before is not None and after is not None:
            tighter = after > before if lower else after < before
        return ("critical" if tighter else "warning"), f"{key} {before!r} → {after!r}"
    if key in _TEXT:
        return "info", f"{key} changed"
    if key in ("pattern", "format", "additionalProperties"):
        return "warning", f"{key} {before!r} → {after!r}"
    return None, ""


def _affects(field: str, key: str, inputs: bool) -> str:
    if not inputs:
        return OUTPUT
    name = field.rsplit(".", 1)[-1].rstrip("[]")
    if key in _TEXT:
        return "documentation only"
    if key == "default":
        return f"{DEFAULTS}; {MEDIA}" if name in _MEDIA_FIELDS else DEFAULTS
    return f"{VALIDATION}; {MEDIA}" if name in _MEDIA_FIELDS else VALIDATION


def compare(
    old: Endpoint, new: Endpoint, unstated: frozenset[str] = NOTHING_UNSTATED
) -> list[Change]:
    """The changes from ``old`` (shipped) to ``new`` (published), inputs then outputs;
    ``unstated``: what ``new``'s source cannot state (`DocumentSource.unstated`)."""
    walk = _Walk(old, new, unstated=unstated)
    walk.schema(_pointer(old, "input"), old.input_schema, new.input_schema, "input")
    walk.schema(_pointer(old, "output"), old.output_schema, new.output_schema, "output")
    return walk.changes


def _pointer(endpoint: Endpoint, which: str) -> str:
    """Where the input or output schema sits in its document (the ref's target, if any)."""
    schema = endpoint.input_schema if which == "input" else endpoint.output_schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        return ref[1:]
    raise ValueError(f"{endpoint.id}: the {which} schema is not a $ref to a component")


def unenforced_rules(endpoint: Endpoint) -> list[Change]:
    """Size rules the shipped document's own text states but does not enforce."""
    walk = _Walk(endpoint, endpoint, origin="the document's own field descriptions")
    schema = endpoint.resolve(endpoint.input_schema)
    for name, prop in schema.get("properties", {}).items():
        pointer, resolved = walk.follow(f"{_pointer(endpoint, 'input')}/properties/{name}", prop)
        walk.text_rule(pointer, resolved, resolved, f"input.{name}")
    return walk.changes


def delisting(endpoint: Endpoint, listed: bool, source: DocumentSource) -> list[Change]:
    """The flag to set (or clear) as ``source`` lists the endpoint or not, if it is not so."""
    flagged = DELISTED in endpoint.document.get("info", {})
    if listed == (not flagged):
        return []
    walk = _Walk(endpoint, endpoint)
    if listed:
        walk.add("endpoint", "relisted", "warning", "listed again by the source", LISTING,
                 "/info", DELISTED)  # fmt: skip
    else:
        flag = {"source": source.description, "date": source.date}
        walk.add("endpoint", "delisted", "critical", "no longer in the provider's active list",
                 LISTING, "/info", DELISTED, flag)  # fmt: skip
    return walk.changes


def new_endpoint(provider: str, endpoint_id: str) -> Change:
    """An endpoint the source lists that the emulator does not serve (no patch: a
    catalogue's endpoint, which `contracts import` adds)."""
    return Change(provider, endpoint_id, "endpoint", "added", "warning",
                  "endpoint: new in the provider's active list", SERVED, "", "",
                  tier="catalogue")  # fmt: skip
