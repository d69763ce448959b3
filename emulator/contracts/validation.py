"""Inputs checked and completed from the contract.

Violations are provider-neutral and shaped after Pydantic v2 errors (``loc``, ``msg``,
``type``, ``ctx``), which is what fal's models emit; each provider renders them in its
own envelope.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.contracts.acceptance import Check, validator_acceptance
from emulator.contracts.documents import Endpoint
from emulator.contracts.matching import undeclared
from emulator.contracts.memo import EndpointMemo

if TYPE_CHECKING:  # jsonschema loads with the first validator (see documents.py)
    from jsonschema.exceptions import ValidationError


@dataclass(frozen=True)
class Violation:
    """One way an input breaks its contract, in the shape of a pydantic error (fal's 422 detail)."""

    loc: tuple[str | int, ...]
    msg: str
    type: str
    ctx: Mapping[str, Any] = field(default_factory=dict)


_TYPE_ERRORS = {
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "string": ("string_type", "Input should be a valid string"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "object": ("dict_type", "Input should be a valid dictionary"),
    "array": ("list_type", "Input should be a valid list"),
    "null": ("none_required", "Input should be None"),
}

_BOUND_ERRORS = {
    "minimum": ("greater_than_equal", "greater than or equal to", "ge"),
    "maximum": ("less_than_equal", "less than or equal to", "le"),
    "exclusiveMinimum": ("greater_than", "greater than", "gt"),
    "exclusiveMaximum": ("less_than", "less than", "lt"),
}

_LENGTH_ERRORS = {
    "minLength": ("string_too_short", "String should have at least {} characters", "min_length"),
    "maxLength": ("string_too_long", "String should have at most {} characters", "max_length"),
    "minItems": ("too_short", "List should have at least {} items", "min_length"),
    "maxItems": ("too_long", "List should have at most {} items", "max_length"),
}


def _expected(values: list[Any]) -> str:
    quoted = [repr(v) if isinstance(v, str) else str(v) for v in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _closest(error: ValidationError) -> list[ValidationError]:
    """For anyOf/oneOf, the errors of the one branch whose type matched the value, every
    one (as Pydantic lists each bad field of a model: ``image_size``'s width and height);
    when none or several matched, the deepest error of all."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return [error]
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [
        errors
        for errors in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errors)
    ]
    if len(fitting) == 1:
        return [closest for sub in fitting[0] for closest in _closest(sub)]
    if len(fitting) > 1 and all(_literal(e) for errors in fitting for e in errors):
        # a union of literals (fal's types: one const branch a preset) is one literal_error
        # naming them all, as Pydantic words a Literal; the first branch's alone misleads
        return [error]
    candidates = [e for errors in (fitting or branches.values()) for e in errors]
    return _closest(max(candidates, key=lambda e: len(e.relative_path)))


def _literal(error: ValidationError) -> bool:
    """Whether ``error`` is a value's own mismatch of a literal (an enum or a const)."""
    return error.validator in ("enum", "const") and not error.relative_path


def _literal_values(error: ValidationError) -> list[Any]:
    """Every value a union of literals allows, in its branches' order."""
    values: list[Any] = []
    for sub in error.context or ():
        if _literal(sub):
            found = sub.validator_value if sub.validator == "enum" else [sub.validator_value]
            values += [value for value in found if value not in values]
    return values


def _violations(error: ValidationError) -> list[Violation]:
    if isinstance(error.schema, Mapping) and isinstance(error.schema.get("errorMessage"), str):
        # A contract may word a rule itself (ajv's keyword): better than a regex echoed back.
        loc: tuple[str | int, ...] = tuple(error.absolute_path)
        return [Violation(loc, error.schema["errorMessage"], "value_error")]
    return [_violation(closest) for closest in _closest(error)]


def _violation(error: ValidationError) -> Violation:
    loc = tuple(error.absolute_path)
    rule, limit = error.validator, error.validator_value
    if rule == "required":
        missing = next((name for name in limit if name not in error.instance), limit[0])
        return Violation((*loc, missing), "Field required", "missing")
    if rule == "type":
        kind = limit[0] if isinstance(limit, list) else limit
        kind_type, msg = _TYPE_ERRORS.get(kind, ("type_error", f"Input should be of type {kind}"))
        return Violation(loc, msg, kind_type)
    if rule in _BOUND_ERRORS:
        kind_type, words, key = _BOUND_ERRORS[rule]
        return Violation(loc, f"Input should be {words} {limit}", kind_type, {key: limit})
    if rule in _LENGTH_ERRORS:
        kind_type, template, key = _LENGTH_ERRORS[rule]
        return Violation(loc, template.format(limit), kind_type, {key: limit})
    values = _literal_values(error) if rule in ("anyOf", "oneOf") else []  # a union of them
    if rule in ("enum", "const") or values:
        expected = _expected(values or (limit if rule == "enum" else [limit]))
        return Violation(
            loc, f"Input should be {expected}", "literal_error", {"expected": expected}
        )
    if rule == "additionalProperties":  # named as Pydantic names it: the extra field
        extra = next(undeclared(error.instance, error.schema), None)
        where = loc if extra is None else (*loc, extra)
        return Violation(where, "Extra inputs are not permitted", "extra_forbidden")
    if rule == "pattern":
        return Violation(
            loc,
            f"String should match pattern '{limit}'",
            "string_pattern_mismatch",
            {"pattern": limit},
        )
    return Violation(loc, error.message, "value_error")


def object_branch(endpoint: Endpoint, schema: Mapping[str, Any]) -> Mapping[str, Any] | None:
    schema = endpoint.resolve(schema)
    if "properties" in schema:
        return schema
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        found = object_branch(endpoint, branch)
        if found is not None:
            return found
    return None


#: a property without a default, in `_Field`
_NO_DEFAULT = object()

#: a property of an object schema: its name, its schema, its default (or `_NO_DEFAULT`)
#: and whether a default taken must be a copy (one the caller could change)
_Field = tuple[str, Mapping[str, Any], Any, bool]


def _fields(object_schema: Mapping[str, Any]) -> tuple[_Field, ...]:
    fields = []
    for name, prop in object_schema.get("properties", {}).items():
        default = prop["default"] if "default" in prop else _NO_DEFAULT
        fields.append((name, prop, default, isinstance(default, dict | list)))
    return tuple(fields)


def _filled(endpoint: Endpoint, fields: tuple[_Field, ...], value: dict[str, Any]) -> Any:
    filled = dict(value)
    for name, prop, default, copied in fields:
        if name in filled:
            item = filled[name]
            if isinstance(item, float | dict):  # the only values apply_defaults changes
                filled[name] = apply_defaults(endpoint, prop, item)
        elif default is not _NO_DEFAULT:
            # a copy only where the caller could change the contract's own value
            filled[name] = copy.deepcopy(default) if copied else default
    return filled


def apply_defaults(endpoint: Endpoint, schema: Mapping[str, Any], value: Any) -> Any:
    """A copy of ``value`` with every absent property that has a default filled in, and
    whole-number floats where integers are due (``2.0`` for 2, as Pydantic takes it)."""
    if isinstance(value, float) and value.is_integer():
        if endpoint.resolve(schema).get("type") == "integer":
            return int(value)
    if not isinstance(value, dict):
        return value
    if schema is endpoint.input_schema:  # the usual call: its properties are prepared
        fields = _input_rules(endpoint).fields
    else:
        object_schema = object_branch(endpoint, schema)
        fields = _fields(object_schema) if object_schema is not None else None
    return value if fields is None else _filled(endpoint, fields, value)


@dataclass(frozen=True)
class _InputRules:
    """What an endpoint's input is checked and completed with, prepared once."""

    #: the quick test of ``acceptance.py`` (None: the schema has none)
    accepts: Check | None
    #: the input object's properties (None: the input schema has no object branch)
    fields: tuple[_Field, ...] | None


def _rules_of(endpoint: Endpoint) -> _InputRules:
    object_schema = object_branch(endpoint, endpoint.input_schema)
    return _InputRules(
        validator_acceptance(endpoint.input_validator),
        _fields(object_schema) if object_schema is not None else None,
    )


#: an endpoint's input rules, prepared on its first input
_input_rules = EndpointMemo(_rules_of).get


def quick_test(endpoint: Endpoint) -> Check | None:
    """The quick "certainly valid" test of ``endpoint``'s input (``acceptance.py``), or
    None when its schema has none."""
    return _input_rules(endpoint).accepts


def check_input(endpoint: Endpoint, payload: Any) -> tuple[Any, list[Violation]]:
    """The payload with defaults applied, and what is wrong with it (empty when valid)."""
    violations = input_violations(endpoint, payload)
    if violations:
        return payload, violations
    return apply_defaults(endpoint, endpoint.input_schema, payload), []


def input_violations(endpoint: Endpoint, payload: Any) -> list[Violation]:
    """What is wrong with ``payload`` (empty when valid), its defaults not filled in.

    An input the quick test (``acceptance.py``) finds valid skips jsonschema; any other
    is checked by jsonschema, which alone words the violations."""
    rules = _input_rules(endpoint)
    if rules.accepts is not None and rules.accepts(payload):
        return []
    errors = sorted(
        endpoint.input_validator.iter_errors(payload),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    return _distinct(violation for error in errors for violation in _violations(error))


def _distinct(violations: Iterable[Violation]) -> list[Violation]:
    """Each violation once: two keywords (a pattern and a size rule, say) may word the
    same complaint about the same field alike."""
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for violation in violations:
        key = (violation.loc, violation.msg, violation.type)
        if key not in seen:
            seen.add(key)
            kept.append(violation)
    return kept
