"""Which format a media output field is made in when its input asks for none, and which
formats its schema allows (a ``content_type`` ``const`` or ``enum``: a format asked that
it does not allow gives way to one it does). Worked out once per field, in its plan."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from emulator.contracts.described import (
    allowed_types,
    content_type_schema,
    declared_format,
    unmade_types,
)
from emulator.contracts.documents import Endpoint
from emulator.contracts.kinds import field_format
from emulator.media.spec import FORMATS, KINDS


class MediaFormats:
    """The formats of a media field ``name`` of ``kind``: the schema of one file
    (``schema``, resolved) and of the field as declared (``field``)."""

    def __init__(
        self,
        endpoint: Endpoint,
        name: str,
        kind: str,
        schema: Mapping[str, Any],
        field: Mapping[str, Any],
    ) -> None:
        self.name, self.kind, self.schema, self.field = name, kind, schema, field
        self.endpoint = endpoint

    @cached_property
    def allowed(self) -> tuple[str, ...] | None:
        """The formats of its kind whose content types the file's schema allows (None:
        any; empty: none the emulator makes)."""
        types = allowed_types(self.schema, self.endpoint.resolve)
        if types is None:
            return None
        return tuple(name for name in KINDS[self.kind] if FORMATS[name][0] in types)

    @cached_property
    def unmade(self) -> tuple[str, ...]:
        """The content types the file's schema declares if the emulator makes a file of
        none of them (empty: it makes one, or none is declared)."""
        return unmade_types(self.schema, self.endpoint.resolve)

    def fitting(self, media_format: str) -> str:
        """``media_format`` if the file's schema allows its content type, else the first
        format of its kind that it does (or, with none, ``media_format``: the output's
        check then names the field)."""
        allowed = self.allowed
        return media_format if not allowed or media_format in allowed else allowed[0]

    @cached_property
    def image(self) -> str:
        """An image's format when the input asks for none: the declared content type,
        else the media object's own default type (fal's RawImage: JPEG), else an
        example URL's extension, else PNG."""
        field = self.field
        declared = field.get("contentMediaType", field.get("items", {}).get("contentMediaType"))
        if declared is None:
            item = self.endpoint.resolve(field.get("items", field))
            declared = content_type_schema(item, self.endpoint.resolve).get("default")
        for name, (content_type, _, _) in FORMATS.items():
            if content_type == declared:
                return name
        for example in _flatten(field.get("examples", [])):
            if isinstance(example, Mapping) and isinstance(example.get("url"), str):
                extension = example["url"].rsplit(".", 1)[-1].lower()
                if extension in FORMATS:
                    return extension
        return "png"

    @cached_property
    def declared(self) -> str | None:
        return declared_format(self.schema, self.field, self.kind, self.endpoint.resolve)

    @cached_property
    def other(self) -> str:
        """The format of a mesh, archive or other file: named by the field, else declared,
        else the kind's first."""
        named = field_format(self.name, self.kind)
        return named or self.declared or KINDS[self.kind][0]


def _flatten(values: Any) -> list[Any]:
    if isinstance(values, list):
        return [item for value in values for item in _flatten(value)]
    return [values]
