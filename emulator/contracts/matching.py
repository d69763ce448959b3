"""A contract's ``pattern`` (and ``patternProperties``' names) matched in linear time.

A contract may be the user's own (``serve --contracts``). Python's ``re`` backtracks:
``^(a+)+$`` against thirty ``a``s and a ``!`` runs for years, holding the GIL, so nothing
else is answered and no signal ends the process. fal's models (pydantic) match with Rust's
``regex`` crate, which runs in time linear in the text and has no look-around nor
back-reference; RE2 (google-re2) is of that family. Every match of a contract's pattern is
made here; a pattern RE2 cannot run is refused as its document loads (checks.py), and
so is one Python's ``re`` (jsonschema's check of ``format: regex``, Hypothesis's draws)
reads otherwise. ``$`` is the end of the text, as in both; RE2's ``\\d``, ``\\w``,
``\\s`` and ``\\b`` are ASCII (Rust's are Unicode's).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any


class PatternError(ValueError):
    """A pattern RE2 cannot run (a look-around, a back-reference, a syntax error)."""


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Any:
    import re2  # loads with the first pattern, not with the emulator

    options = re2.Options()
    options.log_errors = False  # (RE2 writes each error to stderr; ours is raised)
    try:
        return re2.compile(_utf8(_in_re2_syntax(pattern)), options)
    except re2.error as exc:
        said = exc.args[0] if exc.args else None
        # RE2 quotes the pattern's bytes: a lone surrogate's are no UTF-8, shown escaped
        reason = said.decode(errors="backslashreplace") if isinstance(said, bytes) else exc
        raise PatternError(str(reason)) from None


def _utf8(text: str) -> bytes:
    # bytes, not str: the text's lone surrogates (JSON allows "\ud800") pass through
    return text.encode("utf-8", "surrogatepass")


#: a backslash escaped, or Python's (and Rust's) ``\\uXXXX`` and ``\\UXXXXXXXX``
_ESCAPE = re.compile(r"\\(?:\\|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))")
#: a POSIX class (``[:alpha:]``): RE2 reads one in a set, Python a set of ``:``, ``a``...
_POSIX_CLASS = re.compile(r"(?<!\\)\[:\^?[a-z]+:\]")


def _in_re2_syntax(pattern: str) -> str:
    """``pattern`` with its ``\\uXXXX`` written as RE2 writes them, ``\\x{XXXX}``."""
    return _ESCAPE.sub(lambda m: m[0] if m[0] == "\\\\" else f"\\x{{{m[1] or m[2]}}}", pattern)


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be served, to follow "the pattern ...", RE2's own words in
    it; None if it can. RE2 cannot run it, or Python's ``re`` would read it otherwise."""
    if _POSIX_CLASS.search(pattern):
        return (
            "has a POSIX class ([:alpha:]), a class to RE2 but a set of ':' and letters "
            "to Python's re, which checks and draws it: write the class out ([A-Za-z])"
        )
    try:
        _compiled(pattern)
    except PatternError as exc:
        if str(exc).startswith("invalid repetition size"):
            return (
                f"repeats more than RE2 counts, 1,000 (nested repeats multiplied; {exc}): "
                "bound a length with maxLength instead"
            )
        # in no provider's words: the contract may be any provider's, or the user's own
        return (
            f"is not one a linear-time engine runs ({exc}): the emulator matches patterns "
            "with RE2, which has no look-around nor back-reference; rewrite it in RE2 syntax"
        )
    return None


def searcher(pattern: str) -> Callable[[str], bool]:
    """`searches` of one pattern, compiled once; raises `PatternError`."""
    search = _compiled(pattern).search
    return lambda text: search(_utf8(text)) is not None


def searches(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches somewhere in ``text`` (JSON Schema's ``pattern``);
    raises `PatternError` for a pattern RE2 cannot run."""
    return _compiled(pattern).search(_utf8(text)) is not None


def fullmatches(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches the whole of ``text``."""
    return _compiled(pattern).fullmatch(_utf8(text)) is not None


def undeclared(instance: Any, schema: Any) -> Iterator[str]:
    """The names of ``instance`` that ``schema`` neither lists nor matches by a
    ``patternProperties`` name."""
    if not isinstance(instance, Mapping) or not isinstance(schema, Mapping):
        return
    listed, named = schema.get("properties", {}), schema.get("patternProperties", {})
    for name in instance:
        if name not in listed and not any(searches(pattern, name) for pattern in named):
            yield name


# jsonschema's own keywords of the same names, but for their matches (``re.search``)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not searches(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, named: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in named.items():
        for name, value in instance.items():
            if searches(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(
    validator: Any, allowed: Any, instance: Any, schema: Any
) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    extras = sorted(undeclared(instance, schema), key=str)
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        named = ", ".join(map(repr, extras))
        if "patternProperties" in schema:
            patterns = ", ".join(map(repr, sorted(schema["patternProperties"])))
            verb = "does" if len(extras) == 1 else "do"
            yield ValidationError(f"{named} {verb} not match any of the regexes: {patterns}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            message = f"Additional properties are not allowed ({named} {verb} unexpected)"
            yield ValidationError(message)


#: the keywords a validator matches patterns with, for `validators.extend`
PATTERN_KEYWORDS = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
}
