"""What a setting accepts: its kind, read from its annotation (`Kind`), the numbers it
takes (`Bounds`), and how text (a flag's, an environment variable's) is read as a value.
`EmulatorConfig` (``config.py``) and ``serve``'s own options declare theirs with these."""

from __future__ import annotations

import math
import os
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, NamedTuple

from emulator.core.lifecycle import Progression


class Bounds(NamedTuple):
    """The numbers a setting accepts: finite, from ``minimum`` (itself refused when
    ``exclusive``) to ``maximum``."""

    minimum: float | None = None
    maximum: float | None = None
    exclusive: bool = False

    def __str__(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            low = f"more than {self.minimum}" if self.exclusive else f"from {self.minimum}"
            return (
                f"{low} to {self.maximum}"
                if not self.exclusive
                else f"{low}, at most {self.maximum}"
            )
        if self.minimum is not None:
            return f"{'more than' if self.exclusive else 'at least'} {self.minimum}"
        return f"at most {self.maximum}"

    def check(self, name: str, value: Any) -> None:
        """`ValueError` naming ``name`` and the bounds unless ``value`` is within them."""
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, not {value!r}")
        low, high = self.minimum, self.maximum
        below = low is not None and (value <= low if self.exclusive else value < low)
        if below or (high is not None and value > high):
            raise ValueError(f"{name} must be {self}, not {value!r}")


#: sizes and counts: at 0 nothing could be accepted or kept
AT_LEAST_ONE = Bounds(minimum=1)
#: durations and scales: at 0 everything would end (expire, time out) at once
POSITIVE = Bounds(minimum=0, exclusive=True)
#: where 0 has a meaning of its own, given in the setting's description
NOT_NEGATIVE = Bounds(minimum=0)
#: a wait that holds a request or a session: an hour at most (a wait of 1e308 seconds never
#: ends, and holds what it holds for good)
A_WAIT = Bounds(minimum=0, maximum=3600, exclusive=True)


def described(help_text: str, bounds: Bounds | None = None) -> str:
    """A setting's description, with the numbers it accepts (for help and the docs)."""
    return f"{help_text} Must be {bounds}." if bounds else help_text


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def read_boolean(text: str) -> bool:
    """A boolean as flags, environment variables and files write it (1/0, true/false…)."""
    if text.lower() not in _TRUE | _FALSE:
        raise ValueError(f"not a boolean: {text!r}")
    return text.lower() in _TRUE


#: how text (a flag's, an environment variable's) is read as a number or a boolean
_FROM_TEXT: dict[type, Callable[[str], Any]] = {bool: read_boolean, int: int, float: float}
#: how each kind of value is named where one of another kind is refused
_WORDS: dict[type, str] = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    str: "a string",
    Path: "a path",
    Progression: "a progression (immediate, polls:Q,R or wall:Q,R[,JITTER])",
}
_PLURALS: dict[type, str] = {Path: "paths", str: "strings"}
#: what separates the items of a list given as one text (an environment variable)
_SEPARATORS: dict[type, str] = {Path: os.pathsep, str: ","}


class Kind(NamedTuple):
    """What a setting holds, read from its annotation: a ``base`` value (with ``many``, a
    tuple or frozenset of them), or None where ``optional``."""

    base: type
    many: type[Any] | None = None
    optional: bool = False

    @classmethod
    def of(cls, annotation: Any) -> Kind:
        """The kind an annotation names: ``int | None``, ``tuple[Path, ...]``…"""
        union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
        members = typing.get_args(annotation) if union else (annotation,)
        (held,) = [member for member in members if member is not type(None)]
        optional = type(None) in members
        if typing.get_origin(held) in (tuple, frozenset):
            return cls(typing.get_args(held)[0], typing.get_origin(held), optional)
        return cls(held, None, optional)

    def __str__(self) -> str:
        if self.many is not None:
            return "a list of " + _PLURALS[self.base]
        return _WORDS[self.base]

    def holds(self, value: Any) -> bool:
        """Whether ``value`` is of this kind, exactly (a bool is no number; an int is a
        float, as in Python's annotations)."""
        if value is None:
            return self.optional
        if self.many is None:
            return self._holds_one(value)
        return isinstance(value, self.many) and all(map(self._holds_one, value))

    def _holds_one(self, value: Any) -> bool:
        if self.base in (int, float) and isinstance(value, bool):
            return False
        return isinstance(value, int | float if self.base is float else self.base)

    def read(self, label: str, value: Any, base: Path = Path(), text: bool = False) -> Any:
        """``value`` as a setting of this kind holds it (see `EmulatorConfig.with_options`);
        `ValueError` naming ``label`` unless it is of this kind."""
        try:
            if self.many is not None and isinstance(value, str) and text:
                items = [item.strip() for item in value.split(_SEPARATORS[self.base])]
                held = self.many(self._read_one(item, base, text) for item in items)
            elif self.many is not None and _is_list(value):
                held = self.many(self._read_one(item, base, text) for item in value)
            else:
                held = self._read_one(value, base, text)
        except ValueError as error:  # text that says why it cannot be read (a progression)
            raise ValueError(f"{label}: {error}") from None
        except TypeError:  # a list of lists, which no set holds
            held = _UNREAD
        if not self.holds(held):
            raise ValueError(f"{label} must be {self}, not {value!r}")
        return held

    def _read_one(self, value: Any, base: Path, text: bool) -> Any:
        if not isinstance(value, str):
            return value  # typed: `holds` checks it
        if self.base is Path and value:  # an empty text is no path (it would be ".")
            return base / value
        if self.base is Progression:
            return Progression.parse(value)
        if text and self.base in _FROM_TEXT:
            with suppress(ValueError):  # unread, it is refused as not of this kind
                return _FROM_TEXT[self.base](value)
        return value


_UNREAD = object()  # what no kind holds


def _is_list(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


def kinds(cls: type) -> dict[str, Kind]:
    """The kind of each field of the dataclass ``cls``, from its annotations."""
    return {name: Kind.of(hint) for name, hint in typing.get_type_hints(cls).items()}
