"""A short string a schema's ``pattern`` matches, for an output string no value of the
contract's own fills (no default, example or enum value).

The pattern's parse tree is walked (Python's own parser: a contract's patterns are the
ECMA-262 subset both read alike), each piece written as little as it allows: a repeat its
fewest times, a branch its first alternative, a class its first character. What the walk
does not follow (a look-around, a back-reference, a conditional) gives no string; nor does
a string the pattern then does not match (checked in linear time: matching.py), nor one
longer than `LONGEST` (nested repeats would write gigabytes), nor a class that holds no
character: the caller says so rather than guess.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from re import _constants as sre
from re import _parser
from typing import Any

from emulator.contracts.matching import PatternError, searches

#: the longest string the emulator writes for a schema (a pattern's match, a minLength)
LONGEST = 1024
#: each class escape (``\\d``, ``\\W``…), by the parser's name: a character it holds,
#: and the escape itself (to test a character against)
_CATEGORIES = {
    "DIGIT": ("0", r"\d"),
    "NOT_DIGIT": ("a", r"\D"),
    "SPACE": (" ", r"\s"),
    "NOT_SPACE": ("a", r"\S"),
    "WORD": ("a", r"\w"),
    "NOT_WORD": (" ", r"\W"),
    "LINEBREAK": ("\n", r"\n"),
    "NOT_LINEBREAK": ("a", r"[^\n]"),
}
#: what a negated class (``[^…]``) or a negated literal is tried with, in turn
_ORDINARY = "a0A_ -.x"
#: the repeats (``*``, ``+?``, ``{2,}``, and ``*+`` where Python has it)
_REPEATS = tuple(
    getattr(sre, name)
    for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    if hasattr(sre, name)
)


class _Unfollowed(Exception):
    """A piece of the pattern the walk does not write."""


@functools.lru_cache(maxsize=256)
def shortest_match(pattern: str) -> str | None:
    """A short string ``pattern`` matches (searched for, as JSON Schema's ``pattern`` is),
    or None where none is worked out."""
    try:
        written = _written(_parser.parse(pattern))
        matched = searches(pattern, written)  # in linear time, as every match
    except (_Unfollowed, re.error, PatternError, RecursionError):
        return None
    return written if matched else None


def _written(pieces: Any) -> str:
    written = "".join(_piece(op, value) for op, value in pieces)
    if len(written) > LONGEST:
        raise _Unfollowed(f"a match longer than {LONGEST} characters")
    return written


def _piece(op: Any, value: Any) -> str:
    if op is sre.LITERAL:
        return chr(value)
    if op is sre.NOT_LITERAL:
        return _first((c for c in _ORDINARY if ord(c) != value), "[^…]")
    if op is sre.ANY:
        return "a"
    if op is sre.AT:
        return ""  # an anchor or a boundary: the string around it is short already
    if op is sre.IN:
        return _in_class(value)
    if op in _REPEATS:
        fewest, _, repeated = value
        piece = _written(repeated)
        if len(piece) * fewest > LONGEST:  # checked before it is written
            raise _Unfollowed(f"a match longer than {LONGEST} characters")
        return piece * fewest
    if op is sre.SUBPATTERN:
        return _written(value[-1])
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return _written(value)
    if op is sre.BRANCH:
        return _written(value[1][0])
    if op is sre.CATEGORY:
        return _category(value)[0]
    raise _Unfollowed(str(op))


def _first(characters: Iterator[str], piece: str) -> str:
    """The first of ``characters``; `_Unfollowed` if there is none (``[^\\s\\S]``
    holds no character): a StopIteration inside the walk's generators would escape as a
    RuntimeError."""
    for character in characters:
        return character
    raise _Unfollowed(f"no ordinary character fits {piece}")


def _category(category: Any) -> tuple[str, str]:
    name = str(category).removeprefix("CATEGORY_").removeprefix("UNI_").removeprefix("LOC_")
    return _CATEGORIES[name]


def _in_class(items: Any) -> str:
    """A character of a class ``[…]``: its first, or (``[^…]``) an ordinary one outside."""
    if items and items[0][0] is sre.NEGATE:
        outside = (c for c in _ORDINARY if not any(_holds(item, c) for item in items[1:]))
        return _first(outside, "[^…]")
    op, value = items[0]
    if op is sre.LITERAL:
        return chr(value)
    if op is sre.RANGE:
        return chr(value[0])
    if op is sre.CATEGORY:
        return _category(value)[0]
    raise _Unfollowed(str(op))


def _holds(item: Any, character: str) -> bool:
    """Whether one item of a class holds ``character``."""
    op, value = item
    if op is sre.LITERAL:
        return ord(character) == value
    if op is sre.RANGE:
        return bool(value[0] <= ord(character) <= value[1])
    if op is sre.CATEGORY:
        return re.fullmatch(_category(value)[1], character) is not None
    raise _Unfollowed(str(op))
