"""Whether an output keeps its contract's output schema, formats asserted (formats.py).

Synthesis picks each value the schema's keywords allow where it can (outputs.py), then
checks the whole output here: what it could not keep (a ``const`` content type of a file
kind it does not make, a pattern no string it writes matches) fails the job with
`OutputUnmade`, naming the field, rather than answering an output its own contract
refuses. Each check is compiled once per schema: a quick test (acceptance.py) answers for
a valid output, and only an output it is not certain of goes through jsonschema.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from emulator.contracts.acceptance import validator_acceptance
from emulator.contracts.documents import Endpoint
from emulator.contracts.memo import EndpointMemo

if TYPE_CHECKING:  # jsonschema loads with the first validator (see documents.py)
    from jsonschema import Draft202012Validator


class OutputUnmade(Exception):
    """The emulator cannot make an output (or a field of one) its contract allows."""

    def __init__(self, reason: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(reason, path)
        self.reason, self.path = reason, path

    def within(self, name: str | int) -> OutputUnmade:
        """The same failure, its field inside ``name``."""
        return type(self)(self.reason, (name, *self.path))

    def __str__(self) -> str:
        where = "/".join(map(str, self.path)) or "(the whole output)"
        return (
            f"provider-emulator cannot make output field {where} as its schema says: {self.reason}"
        )


class Keeping:
    """Whether a value keeps one schema: the quick test, then jsonschema when unsure."""

    def __init__(self, validator: Draft202012Validator) -> None:
        self.validator = validator
        self.quick = validator_acceptance(validator)

    def __call__(self, value: Any) -> bool:
        if self.quick is not None and self.quick(value):
            return True
        return bool(self.validator.is_valid(value))

    def first_error(self, value: Any) -> tuple[tuple[str | int, ...], str] | None:
        """Where ``value`` breaks the schema, and how (None if it keeps it)."""
        if self(value):
            return None
        errors = self.validator.iter_errors(value)
        error = min(errors, key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
        return tuple(error.absolute_path), error.message


def keeping(endpoint: Endpoint, schema: Mapping[str, Any]) -> Keeping:
    """The check of a value against ``schema`` (a part of ``endpoint``'s document)."""
    return Keeping(endpoint.validator(schema, formats=True))


_OUTPUTS: EndpointMemo[Keeping] = EndpointMemo(
    lambda endpoint: keeping(endpoint, endpoint.output_schema)
)


def check_output(endpoint: Endpoint, output: Any) -> None:
    """Raises `OutputUnmade` at the first field (the shallowest) where ``output`` breaks
    the endpoint's output schema."""
    check = _OUTPUTS.get(endpoint)
    if check(output):
        return
    broken = check.first_error(_as_json(output))
    if broken is not None:
        path, message = broken
        raise OutputUnmade(message, path)


def _as_json(value: Any) -> Any:
    """``value`` as a JSON answer carries it: bytes (a ``RawImage``'s content, raw in a
    realtime app's msgpack frame) as their base64 text, a string of format binary."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {name: _as_json(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value
