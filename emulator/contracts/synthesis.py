"""Outputs synthesised from an endpoint's output schema and the validated input.

No model is named here. What an output field is comes from a short table of conventions
that hold across fal's and WaveSpeed's published schemas:

- an object with a ``url`` property is a media file; its field name says what it is
  (``video``, ``audio_file``, ``model_glb``, ``frames_zip``…), else its fields do (``fps``:
  a video, ``width``: an image), else the endpoint's category (see kinds.py);
- an object with ``content``, ``width`` and ``height`` is an image carried as its bytes
  (fal's realtime ``RawImage``);
- a string with a ``contentMediaType`` is a media URL of that type (WaveSpeed's
  ``outputs``);
- an array of media holds ``num_images`` items (default 1);
- ``seed`` is the seed used: the input's, or one the emulator drew;
- a string a model writes (``output``, ``text``, ``caption``…) is text from the prompt and
  seed; an array of timed items (``words``, ``chunks``) splits it over the audio's length;
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
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.contracts.described import declared_format, described_file
from emulator.contracts.documents import Endpoint
from emulator.contracts.kinds import audio_format, category_kind, field_format, media_kind
from emulator.contracts.limits import COUNT_FIELDS, Limits, declared
from emulator.contracts.sizes import SIZE_FIELDS, image_size, video_shape
from emulator.contracts.texts import TEXT_FIELDS, generated_text, is_timed, timed_items
from emulator.contracts.validation import Violation
from emulator.media import MediaSpec
from emulator.media.links import Linker
from emulator.media.sources import InputUnreachable, Source, SourceResolver
from emulator.media.spec import FORMATS, KINDS

_JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


class InputRejected(Exception):
    """The input is valid by the contract but asks for something the emulator won't make."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.msg for v in violations))
        self.violations = violations


#: input fields that name the picture an image-to-video job starts from
PICTURE_FIELDS = ("image_url", "image", "input_image", "start_image_url", "first_frame_image")
#: input fields naming media files the job reads
MEDIA_INPUT = re.compile(
    r"[a-z0-9_]*(image|video|audio|mask|mesh|model|file)[a-z0-9_]*_urls?"
    r"|video|audio|images|mask_image|last_image|reference_images"  # WaveSpeed's names
)
#: the longest audio output the emulator renders, in seconds
MAX_AUDIO_SECONDS = 300
#: input fields that give an audio output's length in seconds
DURATION_FIELDS = (
    "duration",
    "duration_seconds",
    "audio_duration",
    "music_duration",
    "seconds",
    "seconds_total",
    "total_seconds",
)
#: input fields that ask a video for a sound track
SOUND_FIELDS = ("generate_audio", "with_audio", "enable_audio", "audio_enabled")


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
        """The size asked for; with none asked, an input picture's (an edit, a mask, a
        depth map is the size of its input), else fal's default."""
        if all(self.inputs.get(name, "auto") == "auto" for name in SIZE_FIELDS):
            picture = self.picture()
            if picture.size is not None:
                return picture.size
        field = self.endpoint.resolve(self.endpoint.input_schema).get("properties", {})
        # An app whose presets are not fal's usual ones states them (``x-emulator-presets``).
        presets = field.get("image_size", {}).get("x-emulator-presets", {})
        chosen = self.inputs.get("image_size")
        preset = presets.get(chosen) if isinstance(chosen, str) else None
        if isinstance(preset, list) and len(preset) == 2:
            return int(preset[0]), int(preset[1])
        return image_size(self.inputs, field.get("image_size", {}).get("default"))

    def picture(self) -> Source:
        """The input picture a job starts from, if its input names one."""
        for name in PICTURE_FIELDS:
            url = self.inputs.get(name)
            if isinstance(url, str) and url and self.sources is not None:
                try:
                    return self.sources.picture(name, url)
                except InputUnreachable:
                    if url != self._input_default(name):
                        raise
                    return Source("", None)  # fal's example picture, not the caller's
        return Source("", None)

    def _input_default(self, name: str) -> Any:
        properties = self.endpoint.resolve(self.endpoint.input_schema).get("properties", {})
        return self.endpoint.resolve(properties.get(name, {})).get("default")

    def text(self) -> str:
        """What the model "wrote": deterministic from the prompt and seed."""
        return generated_text(self.prompt(), self.seed)

    def prompt(self) -> str:
        for name in ("prompt", "text", "input", "lyrics", "query", "question"):
            if isinstance(self.inputs.get(name), str):
                return str(self.inputs[name])
        return ""

    def audio_seconds(self) -> float:
        """The length asked for, else about the time to speak the input text, else 5 s."""
        for name in DURATION_FIELDS:
            value = self.inputs.get(name)
            if isinstance(value, str) and value.rstrip("s").isdigit():
                value = int(value.rstrip("s"))  # fal's "5" or "10s" enums
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                return self._bounded_seconds(float(value))
        words = len(self.prompt().split())
        return max(1.0, min(60.0, words / 2.5)) if words else 5.0

    def _bounded_seconds(self, seconds: float) -> float:
        if seconds > MAX_AUDIO_SECONDS:
            raise InputRejected(
                [
                    Violation(
                        ("duration",),
                        f"provider-emulator renders audio of up to {MAX_AUDIO_SECONDS} s",
                        "emulator_limit",
                    )
                ]
            )
        return seconds

    def image_format(self, schema: Mapping[str, Any]) -> str:
        # ``format`` is the older spelling some fal apps declare (fast-lcm-diffusion)
        requested = self.inputs.get("output_format", self.inputs.get("format"))
        if isinstance(requested, str) and requested.lower() in FORMATS:
            return requested.lower()
        declared = schema.get("contentMediaType", schema.get("items", {}).get("contentMediaType"))
        if declared is None:  # a media object's own default type (fal's RawImage: JPEG)
            item = self.endpoint.resolve(schema.get("items", schema))
            declared = item.get("properties", {}).get("content_type", {}).get("default")
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
        self._read_media_inputs()
        return self._object(self.endpoint.output_schema)

    def _read_media_inputs(self) -> None:
        """Every media URL the input names (``video_url``, ``audio_urls``…) must be
        readable, as ``image_url`` is: the provider fetches each before it runs."""
        if self.sources is None or self.sources.synthetic_fallback:
            return
        for name, value in self.inputs.items():
            if name in PICTURE_FIELDS or not MEDIA_INPUT.fullmatch(name):
                continue
            for url in value if isinstance(value, list) else [value]:
                readable = not isinstance(url, str) or self.sources.read(url) is not None
                if not readable and url != self._input_default(name):
                    raise InputUnreachable(name, url)

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
        hint = category_kind(self.endpoint.category)
        kind = media_kind(name, resolved, hint)
        if kind:
            return self._media(name, kind, resolved, schema, 0)
        if resolved.get("type") == "array":
            items = self.endpoint.resolve(resolved.get("items", {}))
            item_kind = media_kind(name, items, hint)
            if item_kind:
                count = self.image_count() if item_kind == "image" else 1
                return [self._media(name, item_kind, items, schema, i) for i in range(count)]
            if items.get("type") == "boolean":
                return [self.flagged] * self.image_count()
            if is_timed(items):
                return timed_items(items, self.text(), self.audio_seconds(), self._plain)
        if name == "seed" and resolved.get("type") in ("integer", "number"):
            return self.seed
        if name in self.inputs and _matches_type(self.inputs[name], resolved.get("type")):
            return copy.deepcopy(self.inputs[name])
        if name in TEXT_FIELDS and resolved.get("type") == "string":
            return self.text()
        if name in ("duration", "duration_ms") and resolved.get("type") in ("number", "integer"):
            seconds = self.audio_seconds()  # the length of what was made
            return round(seconds * 1000) if name == "duration_ms" else seconds
        if "default" in resolved:
            return copy.deepcopy(resolved["default"])
        return _OMIT

    def _media(
        self,
        name: str,
        kind: str,
        schema: Mapping[str, Any],
        field: Mapping[str, Any],
        index: int,
    ) -> dict[str, Any] | str:
        if kind == "image":
            spec = self._image(field, index)
        elif kind == "video":
            spec = self._video(schema, field, index)
        else:
            spec = self._other(name, kind, schema, field, index)
        url, size = self.link(spec)
        if schema.get("type") == "string":
            return url
        described = described_file(spec, url, size, index)
        properties = schema.get("properties", {})
        if "content" in properties:  # an image carried as its bytes (fal's realtime RawImage)
            described["content"] = self.link.raw(spec)
        required = set(schema.get("required", []))
        return {
            k: described[k] if k in described else self._plain(prop)
            for k, prop in properties.items()
            if (k in described and described[k] is not None) or k in required
        }

    def _other(
        self, name: str, kind: str, schema: Mapping[str, Any], field: Mapping[str, Any], index: int
    ) -> MediaSpec:
        """The spec of an audio, mesh, archive or other file output."""
        media_format, rate = field_format(name, kind), None
        if kind == "audio":
            media_format, rate = audio_format(self.inputs.get("output_format"))
            media_format = media_format or declared_format(schema, field, "audio") or "wav"
            rate = rate if rate else self.inputs.get("sample_rate")
            if not isinstance(rate, int) or not 8000 <= rate <= 96000:
                rate = 44100
            if media_format in ("ogg", "opus"):
                rate = 48000  # all Opus decodes to
        media_format = media_format or declared_format(schema, field, kind) or KINDS[kind][0]
        width = height = 0
        if kind == "archive":
            width, height = 64, 64
        return MediaSpec(
            kind,
            width,
            height,
            media_format,
            self.endpoint.id,
            self.prompt(),
            self.seed,
            index,
            duration=self.audio_seconds() if kind == "audio" else 0.0,
            sample_rate=rate or 0,
            blank=self.flagged,
        )

    def _image(self, field: Mapping[str, Any], index: int) -> MediaSpec:
        width, height = self._checked(*self.image_size())
        return MediaSpec(
            "image",
            width,
            height,
            self.image_format(field),
            self.endpoint.id,
            self.prompt(),
            self.seed,
            index,
            blank=self.flagged,
        )

    def _video(self, schema: Mapping[str, Any], field: Mapping[str, Any], index: int) -> MediaSpec:
        source = self.picture()
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
            self.prompt(),
            self.seed,
            index,
            duration=seconds,
            fps=fps,
            source=source.id,
            blank=self.flagged,
            sample_rate=44100 if self._sound() else 0,
            with_audio=self._sound(),
        )

    def _sound(self) -> bool:
        """Whether a video output carries sound: asked for, or made from input audio."""
        asked = any(self.inputs.get(name) is True for name in SOUND_FIELDS)
        return asked or isinstance(self.inputs.get("audio_url"), str)

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
