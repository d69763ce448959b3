"""Outputs synthesised from an endpoint's output schema and the validated input.

No model is named here. What an output field is comes from a short table of conventions
that hold across fal's and WaveSpeed's published schemas:

- an object with a ``url`` property is a media file; with ``width`` and ``height`` it is
  an image, otherwise its field name says what it is (``video``, ``audio``, ``image``…);
- a string with a ``contentMediaType`` is a media URL of that type (WaveSpeed's
  ``outputs``);
- an array of media holds ``num_images`` items (default 1);
- ``seed`` is the seed used: the input's, or one the emulator drew;
- a field named like an input field of the same type echoes that input (``prompt``);
- an array of booleans (``has_nsfw_concepts``) holds one ``false`` per image;
- anything else required takes its default, first example, first enum value, or an
  empty value of its type.

Image sizes come from ``image_size`` (fal's presets or ``{width, height}``), ``width``
and ``height``, ``size`` (``"W*H"`` or a ``"W:H"`` ratio) or ``aspect_ratio``; formats from
``output_format``, else the ``contentMediaType`` or the extension of the example URL.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.contracts.documents import Endpoint
from emulator.contracts.limits import COUNT_FIELDS, Limits, declared
from emulator.contracts.sizes import image_size, video_shape
from emulator.contracts.validation import Violation
from emulator.media import MediaSpec, UnsupportedMedia
from emulator.media.links import Linker
from emulator.media.sources import Source, SourceResolver
from emulator.media.spec import FORMATS

_JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


class InputRejected(Exception):
    """The input is valid by the contract but asks for something the emulator won't make."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.msg for v in violations))
        self.violations = violations


#: input fields that name the picture an image-to-video job starts from
PICTURE_FIELDS = ("image_url", "image", "input_image", "start_image_url", "first_frame_image")


@dataclass(frozen=True)
class Synthesis:
    endpoint: Endpoint
    inputs: Mapping[str, Any]
    seed: int
    link: Linker
    limits: Limits = Limits()
    sources: SourceResolver | None = None
    flagged: bool = False  # NSFW: flags raised, media blanked as the providers blank it

    # -- sizes and formats -------------------------------------------------------------

    def image_size(self) -> tuple[int, int]:
        field = self.endpoint.resolve(self.endpoint.input_schema).get("properties", {})
        return image_size(self.inputs, field.get("image_size", {}).get("default"))

    def image_format(self, schema: Mapping[str, Any]) -> str:
        requested = self.inputs.get("output_format")
        if isinstance(requested, str) and requested.lower() in FORMATS:
            return requested.lower()
        declared = schema.get("contentMediaType", schema.get("items", {}).get("contentMediaType"))
        for name, (content_type, _, _) in FORMATS.items():
            if content_type == declared:
                return name
        for example in _flatten(schema.get("examples", [])):
            if isinstance(example, Mapping) and isinstance(example.get("url"), str):
                extension = example["url"].rsplit(".", 1)[-1].lower()
                if extension in FORMATS:
                    return extension
        return "png"

    def image_count(self) -> int:
        for name in COUNT_FIELDS:
            value = self.inputs.get(name)
            if isinstance(value, int) and value > 0:
                return value
        return 1

    # -- the output --------------------------------------------------------------------

    def output(self) -> dict[str, Any]:
        return self._object(self.endpoint.output_schema)

    def _checked(self, width: int, height: int) -> tuple[int, int]:
        max_pixels = self.limits.max_image_pixels
        if width < 1 or height < 1 or width * height > max_pixels:
            raise InputRejected(
                [
                    Violation(
                        ("image_size",),
                        f"provider-emulator renders images of 1 to {max_pixels} pixels; "
                        f"{width}x{height} asks for {width * height}",
                        "emulator_limit",
                        {"max_pixels": max_pixels},
                    )
                ]
            )
        return width, height

    def _object(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        schema = self.endpoint.resolve(schema)
        required = set(schema.get("required", []))
        result: dict[str, Any] = {}
        for name, prop in schema.get("properties", {}).items():
            value = self._field(name, prop)
            if value is not _OMIT:
                result[name] = value
            elif name in required:
                result[name] = self._plain(prop)
        return result

    def _field(self, name: str, schema: Mapping[str, Any]) -> Any:
        """The value a convention gives the field, or _OMIT if none does."""
        resolved = self.endpoint.resolve(schema)
        kind = self._media_kind(name, resolved)
        if kind:
            return self._media(kind, resolved, schema, 0)
        if resolved.get("type") == "array":
            items = self.endpoint.resolve(resolved.get("items", {}))
            item_kind = self._media_kind(name, items)
            if item_kind:
                count = self.image_count() if item_kind == "image" else 1
                return [self._media(item_kind, items, schema, i) for i in range(count)]
            if items.get("type") == "boolean":
                return [self.flagged] * self.image_count()
        if name == "seed" and resolved.get("type") == "integer":
            return self.seed
        if name in self.inputs and _matches_type(self.inputs[name], resolved.get("type")):
            return copy.deepcopy(self.inputs[name])
        if "default" in resolved:
            return copy.deepcopy(resolved["default"])
        return _OMIT

    @staticmethod
    def _media_kind(name: str, schema: Mapping[str, Any]) -> str | None:
        if schema.get("type") == "string" and "contentMediaType" in schema:
            return str(schema["contentMediaType"]).split("/", 1)[0]
        properties = schema.get("properties", {})
        if "url" not in properties:
            return None
        if "width" in properties and "height" in properties:
            return "image"
        for kind in ("video", "audio", "image"):
            if kind in name.lower() or kind in str(schema.get("title", "")).lower():
                return kind
        return "file"

    def _media(
        self, kind: str, schema: Mapping[str, Any], field: Mapping[str, Any], index: int
    ) -> dict[str, Any] | str:
        if kind == "image":
            spec = self._image(field, index)
        elif kind == "video":
            spec = self._video(schema, field, index)
        else:
            raise UnsupportedMedia(f"provider-emulator does not synthesise {kind} output yet")
        width, height = spec.width, spec.height
        url, size = self.link(spec)
        if schema.get("type") == "string":
            return url
        described = {
            "url": url,
            "content_type": spec.content_type,
            "file_name": url.rsplit("/", 1)[-1]
            if not url.startswith("data:")
            else f"{index}.{spec.extension}",
            "file_size": size,
            "width": width,
            "height": height,
        }
        return {
            k: v
            for k, v in described.items()
            if k in schema.get("properties", {}) and v is not None
        }

    def _image(self, field: Mapping[str, Any], index: int) -> MediaSpec:
        width, height = self._checked(*self.image_size())
        return MediaSpec(
            "image",
            width,
            height,
            self.image_format(field),
            self.endpoint.id,
            str(self.inputs.get("prompt", "")),
            self.seed,
            index,
            blank=self.flagged,
        )

    def _video(self, schema: Mapping[str, Any], field: Mapping[str, Any], index: int) -> MediaSpec:
        source = Source("", None)
        for name in PICTURE_FIELDS:
            url = self.inputs.get(name)
            if isinstance(url, str) and url and self.sources is not None:
                source = self.sources.picture(name, url)
                break
        hints = {**field.get("x-emulator-media", {}), **schema.get("x-emulator-media", {})}
        width, height, seconds, fps = video_shape(self.inputs, hints, source.size)
        self._checked(width, height)
        if width * height * seconds * fps > self.limits.max_video_pixels:
            raise InputRejected(
                [
                    Violation(
                        ("duration",),
                        "provider-emulator renders videos of up to "
                        f"{self.limits.max_video_pixels} pixels "
                        f"(1080p, 60 s, 24 fps); {width}x{height}, {seconds:g} s, {fps} fps "
                        "is more",
                        "emulator_limit",
                    )
                ]
            )
        return MediaSpec(
            "video",
            width,
            height,
            "mp4",
            self.endpoint.id,
            str(self.inputs.get("prompt", "")),
            self.seed,
            index,
            duration=seconds,
            fps=fps,
            source=source.id,
            blank=self.flagged,
        )

    def _plain(self, schema: Mapping[str, Any]) -> Any:
        """A schema-valid value for a field no convention covers."""
        schema = self.endpoint.resolve(schema)
        for key in ("default", "const"):
            if key in schema:
                return copy.deepcopy(schema[key])
        if schema.get("examples"):
            return copy.deepcopy(schema["examples"][0])
        if schema.get("enum"):
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                return self._plain(schema[key][0])
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self._object(schema)
        if kind == "array":
            return [self._plain(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
            return int(low) if kind == "integer" else float(low)
        return {"string": "", "boolean": False}.get(str(kind))


_OMIT = object()


def _matches_type(value: Any, json_type: Any) -> bool:
    python_type: Any = _JSON_TYPES.get(json_type) if isinstance(json_type, str) else None
    if python_type is None:
        return False
    return isinstance(value, python_type) and not (
        isinstance(value, bool) and json_type != "boolean"
    )


def _flatten(values: Any) -> list[Any]:
    if isinstance(values, list):
        return [item for value in values for item in _flatten(value)]
    return [values]


def synthesize(
    endpoint: Endpoint,
    inputs: Mapping[str, Any],
    seed: int,
    link: Linker,
    *,
    limits: Limits,
    sources: SourceResolver | None = None,
    flagged: bool = False,
) -> dict[str, Any]:
    """The output of ``endpoint`` for validated ``inputs``; raises `InputRejected`,
    `InputUnreachable` or `UnsupportedMedia` when it cannot be made. Only the inputs the
    contract declares shape it."""
    shaping = declared(endpoint, inputs)
    return Synthesis(endpoint, shaping, seed, link, limits, sources, flagged).output()
