"""A quick "certainly valid" test for an input, compiled once from its schema.

jsonschema builds a validator object per subschema it enters and a generator per keyword:
about 6 µs for a submit's small input, more than the rest of a WaveSpeed submit's own
work. Most inputs are valid, and a valid input has nothing to report: compiled into plain
Python checks, the schema says so in about half a microsecond.

The test is one-sided. `accepts` answers True only when jsonschema would find no error;
False means "not certain": the input then goes through jsonschema, which alone words the
violations. So what is reported never changes, only how soon a valid input is through.
A schema using a keyword compiled here does not handle (``$ref``, ``oneOf``, ``not``,
``patternProperties``, …) gets no test at all: every input goes to jsonschema, as before.
Keywords the validator does not enforce (``title``, ``description``, ``examples``,
``x-fal-*``, ``errorMessage``, and ``format`` without a format checker) are ignored, as
jsonschema ignores them; an enforced ``format`` is tested with formats.py's checker, the
only one a validator here is given (an output's: output_checks.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from emulator.contracts.matching import PatternError, searcher
from emulator.contracts.rules import SIZE_RULE, size_problem

if TYPE_CHECKING:  # jsonschema loads with the first validator (see documents.py)
    from jsonschema.protocols import Validator

#: a compiled check: True when the value certainly satisfies its schema
Check = Callable[[Any], bool]

#: how deep compiling goes before it gives up (the schema then gets no quick test)
MAX_DEPTH = 32


class Unsupported(Exception):
    """A keyword the quick test does not handle: the schema is left to jsonschema."""


def _is_integer(value: Any) -> bool:
    # JSON Schema (draft 6 on) counts 2.0 as an integer; bool is not one
    kind = type(value)
    return kind is int or (kind is float and value.is_integer())


#: each JSON type, tested on exact built-in types only (a subclass is "not certain")
_TYPES: dict[str, Check] = {
    "string": lambda value: type(value) is str,
    "integer": _is_integer,
    "number": lambda value: type(value) is int or type(value) is float,
    "boolean": lambda value: type(value) is bool,
    "null": lambda value: value is None,
    "object": lambda value: type(value) is dict,
    "array": lambda value: type(value) is list,
}


def compile_acceptance(schema: Any, known: frozenset[str]) -> Check | None:
    """The quick test for ``schema``, or None when it uses a keyword not compiled here.
    ``known``: the keywords the validator enforces (every other one is an annotation)."""
    try:
        return _compile(schema, known, 0)
    except Unsupported:
        return None


def validator_acceptance(validator: Validator) -> Check | None:
    """The quick test for ``validator``'s schema, of the keywords it enforces: its
    class's, ``format`` only when it has a format checker (an annotation without one, as
    jsonschema reads it)."""
    enforced = set(type(validator).VALIDATORS)
    if validator.format_checker is None:
        enforced.discard("format")
    return compile_acceptance(validator.schema, frozenset(enforced))


def _compile(schema: Any, known: frozenset[str], depth: int) -> Check:
    if depth > MAX_DEPTH:
        raise Unsupported("too deep")
    if schema is True:
        return _always
    if not isinstance(schema, Mapping):
        raise Unsupported("not a schema object")  # False, or a malformed schema
    if "$schema" in schema:
        raise Unsupported("$schema")  # jsonschema may switch to that dialect's rules there
    checks = []
    keywords: Iterable[tuple[Any, Any]] = schema.items()
    if schema.get("type") == "object" and _OBJECT_KEYWORDS <= known:
        checks.append(_object(schema, known, depth + 1))
        keywords = [(k, v) for k, v in keywords if k not in _OBJECT_KEYWORDS]
    for keyword, value in keywords:
        if keyword not in known:
            continue
        build = _KEYWORDS.get(keyword)
        if build is None:
            raise Unsupported(keyword)
        checks.append(build(value, schema, known, depth + 1))
    return _all_of(checks)


def _always(value: Any) -> bool:
    return True


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:
        for test in checks:  # a loop: all() over a generator costs more than these tests
            if not test(value):
                return False
        return True

    return check


def _type(types: Any, *_: Any) -> Check:
    names = [types] if isinstance(types, str) else types
    if not isinstance(names, list) or not all(name in _TYPES for name in names):
        raise Unsupported("type")
    tests = [_TYPES[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    return lambda value: any(test(value) for test in tests)


def _property_tests(properties: Any, known: frozenset[str], depth: int) -> dict[str, Check]:
    if not isinstance(properties, Mapping):
        raise Unsupported("properties")
    return {name: _compile(sub, known, depth) for name, sub in properties.items()}


def _properties(properties: Any, schema: Any, known: frozenset[str], depth: int) -> Check:
    compiled = _property_tests(properties, known, depth)

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return not isinstance(value, dict)  # no object: nothing to check; a subclass: ask
        # an input holds few of the properties a schema declares: look up those it holds
        for name, item in value.items():
            test = compiled.get(name)
            if test is not None and not test(item):
                return False
        return True

    return check


def _additional(additional: Any, schema: Any, known: frozenset[str], depth: int) -> Check:
    if "patternProperties" in schema:
        raise Unsupported("patternProperties")
    declared = frozenset(schema.get("properties", {}))
    extra = _compile(additional, known, depth) if additional is not False else None

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return not isinstance(value, dict)
        if extra is None:
            return declared.issuperset(value)  # set operations over a dict's keys: in C
        return all(extra(value[name]) for name in value.keys() - declared)

    return check


#: the keywords `_object` tests together
_OBJECT_KEYWORDS = frozenset(("type", "required", "properties"))


def _object(schema: Mapping[str, Any], known: frozenset[str], depth: int) -> Check:
    """An object schema's ``type``, ``required`` and ``properties`` in one check, one call:
    a call each and one around them cost more than their tests (issue 17)."""
    needed = tuple(_required_names(schema.get("required", [])))
    compiled = _property_tests(schema.get("properties", {}), known, depth)

    def check(value: Any) -> bool:
        # not a dict: not certainly an object, as the type test alone answers
        if type(value) is not dict:
            return False
        # the few required names one by one: a set comparison with the dict's keys made two
        # objects, 1,300 instructions for a one-name list (issue 17)
        for name in needed:
            if name not in value:
                return False
        # `_properties`'s loop, written out: its call cost more than its test (issue 17)
        for name, item in value.items():
            test = compiled.get(name)
            if test is not None and not test(item):
                return False
        return True

    return check


def _required_names(names: Any) -> frozenset[str]:
    if not isinstance(names, list) or not all(type(name) is str for name in names):
        raise Unsupported("required")
    return frozenset(names)


def _required(names: Any, *_: Any) -> Check:
    needed = _required_names(names)

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return not isinstance(value, dict)
        return needed <= value.keys()  # a set comparison: in C

    return check


def _enum(members: Any, *_: Any) -> Check:
    """Certain for a string among the string members; any other value is left to
    jsonschema, whose equality mixes numbers (1 == 1.0) but not booleans (1 != True)."""
    if not isinstance(members, list):
        raise Unsupported("enum")
    strings = frozenset(member for member in members if type(member) is str)
    return lambda value: type(value) is str and value in strings


def _const(constant: Any, *_: Any) -> Check:
    if type(constant) is not str:
        raise Unsupported("const")
    return lambda value: type(value) is str and value == constant


def _number_bound(passes: Callable[[Any, Any], bool]) -> Callable[..., Check]:
    def build(limit: Any, *_: Any) -> Check:
        if type(limit) not in (int, float):
            raise Unsupported("bound")

        def check(value: Any) -> bool:
            kind = type(value)
            if kind is int or kind is float:
                return passes(value, limit)
            return not _may_be_number(value)

        return check

    return build


def _may_be_number(value: Any) -> bool:
    """Whether jsonschema might count ``value`` a number (it takes any numbers.Number)."""
    return not isinstance(value, str | dict | list | bool | type(None))


def _length_bound(
    kind: type[str | list[Any]], passes: Callable[[int, Any], bool]
) -> Callable[..., Check]:
    def build(limit: Any, *_: Any) -> Check:
        if type(limit) is not int:
            raise Unsupported("length")

        def check(value: Any) -> bool:
            if type(value) is kind:
                return passes(len(value), limit)
            return not isinstance(value, kind)

        return check

    return build


def _pattern(pattern: Any, *_: Any) -> Check:
    if type(pattern) is not str:
        raise Unsupported("pattern")
    try:
        search = searcher(pattern)  # compiled once
    except PatternError:  # (a document's check refuses it: never here)
        raise Unsupported("pattern") from None

    def check(value: Any) -> bool:
        if type(value) is str:
            return search(value)
        return not isinstance(value, str)

    return check


def _items(items: Any, schema: Any, known: frozenset[str], depth: int) -> Check:
    if "prefixItems" in schema:
        raise Unsupported("prefixItems")
    item = _compile(items, known, depth) if items is not False else None

    def check(value: Any) -> bool:
        if type(value) is not list:
            return not isinstance(value, list)
        return all(item(entry) for entry in value) if item is not None else not value

    return check


def _any_of(branches: Any, schema: Any, known: frozenset[str], depth: int) -> Check:
    if not isinstance(branches, list) or not branches:
        raise Unsupported("anyOf")
    compiled = [_compile(branch, known, depth) for branch in branches]
    return lambda value: any(test(value) for test in compiled)


def _all_of_keyword(branches: Any, schema: Any, known: frozenset[str], depth: int) -> Check:
    if not isinstance(branches, list) or not branches:
        raise Unsupported("allOf")
    return _all_of([_compile(branch, known, depth) for branch in branches])


def _format(name: Any, *_: Any) -> Check:
    from emulator.contracts.formats import format_checker

    if type(name) is not str:
        raise Unsupported("format")
    conforms = format_checker().conforms
    return lambda value: conforms(value, name)


def _size(rule: Any, *_: Any) -> Check:
    if not isinstance(rule, Mapping):
        return _always  # the validator ignores a malformed rule too
    return lambda value: size_problem(rule, value) is None


_KEYWORDS: dict[str, Callable[..., Check]] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": _required,
    "enum": _enum,
    "const": _const,
    "minimum": _number_bound(lambda value, limit: not value < limit),
    "maximum": _number_bound(lambda value, limit: not value > limit),
    "exclusiveMinimum": _number_bound(lambda value, limit: not value <= limit),
    "exclusiveMaximum": _number_bound(lambda value, limit: not value >= limit),
    "minLength": _length_bound(str, lambda length, limit: not length < limit),
    "maxLength": _length_bound(str, lambda length, limit: not length > limit),
    "minItems": _length_bound(list, lambda length, limit: not length < limit),
    "maxItems": _length_bound(list, lambda length, limit: not length > limit),
    "pattern": _pattern,
    "format": _format,
    "items": _items,
    "anyOf": _any_of,
    "allOf": _all_of_keyword,
    SIZE_RULE: _size,
}
