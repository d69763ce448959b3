"""The steps making an output object, compiled from its schema (see plans.py).

A step (`Const`, `Seed`, `MediaPlan`, `ObjectPlan`…) makes one value for a `Job`
(synthesis.py's `Synthesis`: the input, the seed, and how media are made and linked); the
steps no schema shapes are in steps.py. An object's fields are compiled when it is first
made, so a part of a schema no output needs is never compiled.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from functools import cached_property
from typing import Any, TypeGuard

from emulator.contracts.documents import Endpoint
from emulator.contracts.kinds import category_kind, matte, media_kinds
from emulator.contracts.media_formats import MediaFormats
from emulator.contracts.output_checks import Keeping, OutputUnmade, keeping
from emulator.contracts.plain_values import NARROWING, given_value, scalar_plain
from emulator.contracts.schema_walk import shallowest
from emulator.contracts.steps import (
    Const,
    Duration,
    Encoded,
    Flags,
    Identifier,
    ImageArrays,
    ImageCount,
    Job,
    MediaChoice,
    Seed,
    Side,
    Step,
    Text,
    Timings,
    items_made,
    within_items,
)
from emulator.contracts.texts import (
    OPEN_TIMED_ITEM,
    TEXT_FIELDS,
    TIMED_NAMES,
    is_timed,
    timed_fields,
    timed_items,
)
from emulator.contracts.validation import object_branch

_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}
#: what a field without a value makes: left out, unless the schema requires it
OMIT: Any = object()


class Renested(OutputUnmade):
    """An object about to be made inside itself a second time. Where an optional field
    leads there (a media file, made even when optional, whose required ``meta`` is the
    object holding it) the conventions would make it for ever: the nearest field around
    gives way. An optional one is left out; a required one takes its plain value, whose
    ``anyOf``/``oneOf`` branches are those that end (`shallowest`: a required cycle no
    branch ends is refused at load)."""


class Plains:
    """The steps making schema-valid values (`plain`) of some schemas, each compiled when
    first needed. They are known by identity: each schema is held here with its step, so
    its ``id`` cannot come to name another."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._plans: dict[int, tuple[Mapping[str, Any], Step]] = {}

    def of(self, schema: Mapping[str, Any]) -> Step:
        kept = self._plans.get(id(schema))
        if kept is None:
            kept = self._plans[id(schema)] = (schema, plain(self.endpoint, schema))
        return kept[1]


class Timed:
    """Timed pieces of a transcript (``words``, ``chunks``), spread over the audio."""

    def __init__(
        self,
        endpoint: Endpoint,
        items: Mapping[str, Any],
        field: Mapping[str, Any],
        *,
        open_items: bool = False,
    ) -> None:
        self.items = items
        self.most = within_items(64, field)  # a transcript's first 64 words, or fewer
        self.fields = timed_fields(items)
        self.plains = Plains(endpoint)
        # speech made from text times the words it speaks; a transcript, the words it heard
        self.spoken = endpoint.category == "text-to-speech"
        #: items of the emulator's own shape (the schema's are open): made only when asked
        self.open_items = open_items

    def make(self, job: Job) -> Any:
        plain_value = functools.partial(self._plain_value, job)
        text = job.prompt if self.spoken and job.prompt else job.text()
        seconds = job.audio_seconds()
        return timed_items(self.items, self.fields, text, seconds, plain_value, self.most)

    def _plain_value(self, job: Job, schema: Mapping[str, Any]) -> Any:
        return self.plains.of(schema).make(job)


class Repeat:
    """An array (its schema resolved) of as few schema-valid items as it allows."""

    def __init__(self, endpoint: Endpoint, schema: Mapping[str, Any]) -> None:
        self.endpoint, self.schema = endpoint, schema

    @cached_property
    def item(self) -> Step:
        return plain(self.endpoint, self.schema.get("items", {}))

    def make(self, job: Job) -> Any:
        return [self.item.make(job) for _ in range(items_made(0, self.schema, job.limits))]


def plain(endpoint: Endpoint, schema: Mapping[str, Any]) -> Step:
    """The step making a schema-valid value for a field no convention covers: the first
    value the schema names that keeps it, else one made from its type and keywords
    (``null`` where its type allows it, as for a scalar; of an ``anyOf``/``oneOf``, from
    its first branch of the fewest ``$ref``s deep: schema_walk.py's `shallowest`)."""
    schema = endpoint.resolve(schema)
    given = given_value(endpoint, schema)
    if given is not None:
        return given
    for key in ("anyOf", "oneOf"):
        if schema.get(key):  # its branch that ends: the first may lead back for ever
            return plain(endpoint, shallowest(endpoint, schema[key]))
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:  # a linked list's last link, say
        return Const(None)
    if kind == "object" or "properties" in schema:
        return ObjectPlan(endpoint, schema)
    if kind == "array":
        return Repeat(endpoint, schema)
    return scalar_plain(endpoint, schema)


class MediaPlan:
    """A media field (or, given the ``images`` arrays it is one of, the items of an array
    of them): its kind, the schema of one file (``schema``, resolved) and of the field as
    declared (``field``)."""

    def __init__(self, formats: MediaFormats, images: ImageArrays | None = None) -> None:
        endpoint, name, kind = formats.endpoint, formats.name, formats.kind
        self.name, self.kind, self.schema, self.field = name, kind, formats.schema, formats.field
        self.formats, self.images = formats, images
        #: which of its object's single files of its kind it is, where their specs would
        #: otherwise be one (see `ObjectPlan`)
        self.index = 0
        schema = self.schema
        self.as_url = schema.get("type") == "string"
        self.properties: Mapping[str, Any] = schema.get("properties", {})
        self.required = frozenset(schema.get("required", []))
        self.carries_content = "content" in self.properties  # fal's realtime RawImage
        self.plains = Plains(endpoint)
        self.matte = matte(endpoint.id, name) if kind in ("image", "video") else ""
        self._array = endpoint.resolve(self.field)
        if images is not None:
            images.add(self._array)

    def make(self, job: Job) -> Any:
        # a file object's content type is checked with the whole output (output_checks.py);
        # a URL carries none to check, so the type it declares is checked here
        if self.as_url and self.formats.unmade:
            raise OutputUnmade(f"{self.formats.unmade[0]!r} is no type it makes a file of")
        if self.images is None:
            return job.media(self, self.index)
        count = self.images.count(job, self._array)
        return [job.media(self, index) for index in range(count)]

    def plain_value(self, name: str, job: Job) -> Any:
        """A schema-valid value of the file's property ``name``, which nothing made tells."""
        try:
            return self.plains.of(self.properties[name]).make(job)
        except OutputUnmade as exc:
            raise exc.within(name) from None

    def described_value(self, name: str, described: Any, job: Job) -> Any:
        """The file's property ``name``, of which its description says ``described``: that,
        or of an object (a video's ``resolution``) the schema-valid object with each of its
        keys the description gives filled in (one the schema makes no object keeps its
        schema-valid value)."""
        if not isinstance(described, dict):
            return described
        plain = self.plain_value(name, job)
        if not isinstance(plain, dict):
            return plain
        return {**plain, **{key: value for key, value in described.items() if key in plain}}

    @cached_property
    def video_hints(self) -> dict[str, Any]:
        """A model's video defaults (``x-emulator-media``), the file's over the field's."""
        return {**self.field.get("x-emulator-media", {}), **self.schema.get("x-emulator-media", {})}


def _media_step(
    endpoint: Endpoint, name: str, field: Mapping[str, Any], kinds: Mapping[str, Any]
) -> MediaPlan | MediaChoice:
    plans = {k: MediaPlan(MediaFormats(endpoint, name, k, one, field)) for k, one in kinds.items()}
    return next(iter(plans.values())) if len(plans) == 1 else MediaChoice(plans)


def _fixed(
    endpoint: Endpoint,
    name: str,
    field: Mapping[str, Any],
    resolved: Mapping[str, Any],
    hint: str | None,
    images: ImageArrays,
) -> Step | None:
    """The step a field's schema alone decides (media, flags, timed items, the seed); an
    array of media or of flags is one of the object's ``images`` arrays."""
    kinds = media_kinds(name, resolved, endpoint.resolve, hint)
    if kinds:
        return _media_step(endpoint, name, field, kinds)
    if resolved.get("type") == "array":
        items = endpoint.resolve(resolved.get("items", {}))
        kinds = media_kinds(name, items, endpoint.resolve, hint)
        if kinds:  # (its items all of one kind: its first)
            kind, one = next(iter(kinds.items()))
            return MediaPlan(MediaFormats(endpoint, name, kind, one, field), images)
        if items.get("type") == "boolean":
            return Flags(resolved, images)
        if is_timed(items):
            return Timed(endpoint, items, resolved)
        if not items and name in TIMED_NAMES:  # items left open: timed pieces of our own
            return Timed(endpoint, OPEN_TIMED_ITEM, resolved, open_items=True)
    if name == "seed" and resolved.get("type") in ("integer", "number"):
        return Seed()
    return None


#: output numbers that count the images beside them (extract-nth-frame's ``frame_count``,
#: "Total number of frames extracted")
IMAGE_COUNTS = ("frame_count",)
#: output numbers that give a side of a frame size (its axis, and whether the input's):
#: scale-video's "Width of the original video in pixels", "Width of the output video"
SIDES = {
    "original_width": (0, True),
    "original_height": (1, True),
    "scaled_width": (0, False),
    "scaled_height": (1, False),
}


def _fallback(
    endpoint: Endpoint, name: str, resolved: Mapping[str, Any], images: ImageArrays
) -> Step | None:
    """The step of a field no input echoes: text, a duration, a count of the object's
    images, or its default."""
    json_type = resolved.get("type")
    if name in TEXT_FIELDS and json_type == "string":
        return Text()
    if name in ("duration", "duration_ms") and json_type in ("number", "integer"):
        return Duration(milliseconds=name == "duration_ms")
    if name in IMAGE_COUNTS and json_type in ("number", "integer"):
        return ImageCount(images, plain(endpoint, resolved))
    if name in SIDES and json_type in ("number", "integer"):
        return Side(*SIDES[name], otherwise=plain(endpoint, resolved))
    if "default" in resolved:
        return Const(resolved["default"])
    return None


def declared_inputs(endpoint: Endpoint) -> Mapping[str, Any]:
    """The input fields the endpoint's contract declares (its input object's properties)."""
    schema = object_branch(endpoint, endpoint.input_schema)
    return schema.get("properties", {}) if schema else {}


def _named(endpoint: Endpoint, name: str, field: Mapping[str, Any]) -> Step | None:
    """The step of a required field, with nothing to echo, that its name says more of
    than its schema: an open ``timings`` (fal's are an object, never null), or a string
    the model made, which no input of its name gives: a ``prompt``
    (video-prompt-generator's), a file's URL (csm-1b's ``audio``), an id (``voice_id``),
    base64 bytes (``embedding_b64``)."""
    resolved = endpoint.resolve(field)
    if name == "timings":
        is_open = resolved.get("type", "object") == "object" and not resolved.get("properties")
        return Timings() if is_open else None
    if resolved.get("type") != "string" or name in declared_inputs(endpoint):
        return None
    if name == "prompt":
        return Text()
    if name in ("image", "video", "audio"):
        return MediaPlan(MediaFormats(endpoint, name, name, resolved, field))
    if name.endswith("_id"):
        return Identifier(name)
    return Encoded(name) if name.endswith(("_b64", "_base64")) else None


class FieldPlan:
    """One property of an output object: its fixed step, else an echo of the input field
    of the same name and type, else its fallback, else (when required) a plain value. A
    value a convention makes that the field's own keywords refuse (an echo outside its
    enum, the model's text where it has a pattern) gives way to the plain value; so does
    one that would nest an object inside itself again (`Renested`), or, of an optional
    field, it is left out."""

    def __init__(
        self,
        endpoint: Endpoint,
        name: str,
        field: Mapping[str, Any],
        required: bool,
        hint: str | None,
        images: ImageArrays,
    ) -> None:
        resolved = endpoint.resolve(field)
        self.name, self.field, self.required, self._endpoint = name, field, required, endpoint
        self.fixed = _fixed(endpoint, name, field, resolved, hint, images)
        json_type = resolved.get("type")
        self.echo_type = _JSON_TYPES.get(json_type) if isinstance(json_type, str) else None
        self.echoes_bool = json_type == "boolean"
        self.fallback = _fallback(endpoint, name, resolved, images)
        # a media file's own keywords are its file's (the format chosen keeps them)
        media = isinstance(self.fixed, MediaPlan | MediaChoice)
        self.narrowed = not media and not NARROWING.isdisjoint(resolved)

    @cached_property
    def plain(self) -> Step:
        return plain(self._endpoint, self.field)

    @cached_property
    def named(self) -> Step:
        return _named(self._endpoint, self.name, self.field) or self.plain

    @cached_property
    def flag_asks(self) -> bool:
        """Whether an input flag of the field's name asks for it (openrouter's
        ``reasoning``, ElevenLabs' ``timestamps``): an optional field, made only then."""
        if self.required or self.echoes_bool:
            return False
        flag = self._endpoint.resolve(declared_inputs(self._endpoint).get(self.name, {}))
        return flag.get("type") == "boolean"

    @cached_property
    def keeps(self) -> Keeping:
        return keeping(self._endpoint, self.field)

    def make(self, job: Job) -> Any:
        try:
            value = self._conventional(job)
            if value is OMIT or not self.narrowed or self.keeps(value):
                return value
        except Renested:  # its value would nest an object in itself once more
            if not self.required:
                return OMIT  # an optional field may always be absent
        except OutputUnmade as exc:
            raise exc.within(self.name) from None
        try:
            return self.plain.make(job)  # (of the anyOf/oneOf branches that end)
        except OutputUnmade as exc:
            raise exc.within(self.name) from None

    def _conventional(self, job: Job) -> Any:
        # an optional field a flag of its name asks for ("only returned if `timestamps` is
        # set to True in the request", as ElevenLabs' TTS says) is made only when it does
        asked = job.inputs.get(self.name) is True and not self.echoes_bool
        if self.flag_asks and not asked:
            return OMIT
        if self.fixed is not None:
            if isinstance(self.fixed, Timed) and self.fixed.open_items:
                return self.fixed.make(job) if self.required or asked else OMIT
            return self.fixed.make(job)
        if self.echo_type is not None and self.name in job.inputs:
            value = job.inputs[self.name]
            # a scalar of the field's type (a bool is no number): the input's own value
            if isinstance(value, self.echo_type) and (
                self.echoes_bool or not isinstance(value, bool)
            ):
                return value
        if self.fallback is not None:
            return self.fallback.make(job)
        return self.named.make(job) if self.required or asked else OMIT


class ObjectPlan:
    """An output object: its properties' plans, compiled when first made."""

    def __init__(self, endpoint: Endpoint, schema: Mapping[str, Any]) -> None:
        self.endpoint, self.schema = endpoint, schema

    @cached_property
    def properties(self) -> Mapping[str, Any]:
        """Its properties, as its document holds them: the same whichever ``$ref`` led
        here, so they tell the object again where it is made inside itself."""
        properties: Mapping[str, Any] = self.endpoint.resolve(self.schema).get("properties", {})
        return properties

    @cached_property
    def fields(self) -> tuple[FieldPlan, ...]:
        required = set(self.endpoint.resolve(self.schema).get("required", []))
        hint = category_kind(self.endpoint.category)
        images = ImageArrays()  # its images and their flags, as many of each
        fields = tuple(
            FieldPlan(self.endpoint, name, prop, name in required, hint, images)
            for name, prop in self.properties.items()
        )
        # several sounds of one object (demucs's stems, sam-audio's target and residual)
        # are each a sound of its own, not one file under several names
        sounds = [field.fixed for field in fields if _single(field.fixed, "audio")]
        for index, sound in enumerate(sounds if len(sounds) > 1 else ()):
            sound.index = index
        # the sides of "the output video" are those of the object's one video (or image)
        framed = [field.fixed for field in fields if _single(field.fixed, "video")] or [
            field.fixed for field in fields if _single(field.fixed, "image")
        ]
        for field in fields:
            if isinstance(field.fallback, Side) and len(framed) == 1:
                field.fallback.media = framed[0]
        return fields

    def make(self, job: Job) -> dict[str, Any]:
        making = job.making
        if sum(properties is self.properties for properties in making) > 1:
            raise Renested(
                "it nests an object inside itself, and no field on the way may be left out"
            )
        making.append(self.properties)
        try:
            made = {}
            for field in self.fields:
                value = field.make(job)
                if value is not OMIT:
                    made[field.name] = value
            return made
        finally:
            making.pop()


def _single(step: Step | None, kind: str) -> TypeGuard[MediaPlan]:
    """Whether ``step`` makes one file (not an array's) of media ``kind``."""
    return isinstance(step, MediaPlan) and step.kind == kind and step.images is None
