"""Outputs synthesised from an endpoint's output schema and the validated input.

No model is named here. What an output field is comes from a short table of conventions
that hold across fal's and WaveSpeed's published schemas:

- an object with a ``url`` property is a media file; its field name says what it is
  (``video``, ``audio_file``, ``model_glb``, ``frames_zip``…), else its fields do (``fps``:
  a video, ``width``: an image), else the endpoint's category (see kinds.py); so is a
  field of which an ``anyOf``/``oneOf`` branch is one (its first such branch; of
  branches of several kinds, the one of its input clip's kind: ffmpeg-api's metadata);
- an object with ``content``, ``width`` and ``height`` is an image carried as its bytes
  (fal's realtime ``RawImage``);
- a string with a ``contentMediaType`` is a media URL of that type (WaveSpeed's
  ``outputs``);
- an array of media holds as many items as the input asks (``num_images``,
  ``num_samples``…: limits.py's ``COUNT_FIELDS``; every Nth frame of its input video,
  ``frame_interval``; default 1), and a ``frame_count`` beside it says how many;
- ``seed`` is the seed used: the input's, or one the emulator drew;
- a string a model writes (``output``, ``text``, ``caption``…) is text from the prompt and
  seed; an array of timed items (``words``, ``chunks``) splits it over the audio's length;
- a field named like an input field of the same type echoes that input (``prompt``);
- an array of booleans (``has_nsfw_concepts``) holds one ``false`` per image;
- a required ``timings`` its schema leaves open is fal's ``{"inference": seconds}``; a
  required string no input names is what the model made, by its name (``prompt``: text,
  ``audio``: a file's URL, ``voice_id``: an id, ``embedding_b64``: bytes);
- anything else required takes the first of its const, default, examples and enum
  values that its schema allows, else the simplest value of its type and keywords
  (plain_values.py: the lowest number in its bounds, a string of its format or pattern).

What a schema's keywords fix is kept: a file's ``content_type`` ``const`` or ``enum``
decides its kind and format, an array of media (and its NSFW flags) holds as many as its
``minItems`` and ``maxItems`` allow, up to the emulator's ``max_outputs``, and a value a
convention makes (an echo, the model's text, the seed) that its field's ``const``,
``enum``, ``pattern``, ``format``, length or bounds refuse gives way to the plain value.
The output is then checked against the schema (output_checks.py): what the emulator
cannot make as the schema says fails the job, naming the field.

Image sizes come from ``image_size`` (fal's presets or ``{width, height}``), ``width``
and ``height``, ``size`` (``"W*H"`` or a ``"W:H"`` ratio) or ``aspect_ratio`` (scaled by a
``resolution`` tier, ``"2K"``), else the input picture's or video's; formats from
``output_format``, else the ``contentMediaType`` or the extension of the example URL.

What these conventions read from the schemas alone is worked out once per endpoint, in its
plan (plans.py); a job's input and seed fill the plan in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.contracts.audio_settings import audio_shape
from emulator.contracts.described import described_file
from emulator.contracts.documents import Endpoint
from emulator.contracts.input_clips import as_input_video, carries_sound
from emulator.contracts.input_fields import (
    DURATION_FIELDS,
    MUSIC_ID,
    MUSIC_SECONDS,
    PROMPT_FIELDS,
    every_nth_frame,
    frame_interval,
    speaking_seconds,
    token_limit,
    video_format,
)
from emulator.contracts.input_media import InputMedia
from emulator.contracts.limits import (
    COUNT_FIELDS,
    Limits,
    audio_beyond,
    file_beyond,
    image_beyond,
    output_count,
    video_beyond,
)
from emulator.contracts.mattes import matte_of
from emulator.contracts.output_checks import OutputUnmade, check_output
from emulator.contracts.outputs import MediaPlan
from emulator.contracts.plans import Plan, plan_of
from emulator.contracts.sizes import (
    SIZE_FIELDS,
    image_size,
    number,
    resolution_tier,
    tier_size,
    video_shape,
    within_pixels,
)
from emulator.contracts.texts import generated_text, within_tokens
from emulator.contracts.upscales import upscale_factor
from emulator.contracts.validation import Violation
from emulator.contracts.vectors import makes_vectors
from emulator.media import MediaSpec
from emulator.media.links import Linker
from emulator.media.sources import Source, SourceResolver
from emulator.media.spec import ALPHA_CODECS, ALPHA_FORMATS, KINDS, codec_of


class InputRejected(Exception):
    """The input is valid by the contract but asks for something the emulator won't make."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.msg for v in violations))
        self.violations = violations


def _refuse(violation: Violation | None) -> None:
    """Refuse the input with ``violation``, if there is one (a bound of limits.py's)."""
    if violation is not None:
        raise InputRejected([violation])


class Synthesis:
    """One job's output: the endpoint's `Plan` filled in from the input and seed."""

    def __init__(
        self,
        plan: Plan,
        inputs: Mapping[str, Any],
        seed: int,
        link: Linker,
        limits: Limits,
        sources: SourceResolver | None = None,
        flagged: bool = False,  # NSFW: flags raised, media blanked as the providers blank it
    ) -> None:
        self.plan, self.inputs, self.seed, self.link = plan, inputs, seed, link
        self.limits, self.sources, self.flagged = limits, sources, flagged
        self.endpoint = plan.endpoint
        self.prompt = next(
            (str(inputs[name]) for name in PROMPT_FIELDS if isinstance(inputs.get(name), str)), ""
        )
        self._text: str | None = None
        self._seconds: float | None = None
        self.input_media = InputMedia(plan, inputs, sources)
        self.making: list[Mapping[str, Any]] = []  # (outputs.py's `ObjectPlan`)
        self._shapes: dict[int, tuple[int, int, float, int]] = {}  # by id of a video's plan

    # -- sizes and formats -------------------------------------------------------------

    def image_size(self) -> tuple[int, int]:
        """The size asked for; with none asked, an input picture's (an edit, a mask, a
        depth map is the size of its input), else fal's default."""
        tier = resolution_tier(self.inputs)
        if tier is not None:
            return self._tier_size(tier)
        if all(self.inputs.get(name, "auto") == "auto" for name in SIZE_FIELDS):
            picture = self.picture()
            if picture.size is not None:
                factor = self._upscale(picture.size)
                return round(picture.size[0] * factor), round(picture.size[1] * factor)
            clip = self.input_media.clip()
            if clip is not None and clip.width:  # a frame of it: extract-frame's, a mask
                return clip.width, clip.height
        field = self.plan.image_size_field
        presets = field.get("x-emulator-presets", {})
        chosen = self.inputs.get("image_size")
        preset = presets.get(chosen) if isinstance(chosen, str) else None
        if isinstance(preset, list) and len(preset) == 2:
            return int(preset[0]), int(preset[1])
        return image_size(self.inputs, field.get("default"))

    def _tier_size(self, tier: float) -> tuple[int, int]:
        """The size of a ``resolution`` tier at the aspect asked (``auto``: the input
        picture's): a size of about, not exactly, so kept within the pixel bound."""
        aspect = self.inputs["aspect_ratio"]
        shape = self.picture().size if aspect == "auto" else None
        return within_pixels(tier_size(aspect, tier, shape), self.limits.max_image_pixels)

    def picture(self) -> Source:
        """The input picture a job starts from, if its input names one."""
        return self.input_media.picture()

    def text(self) -> str:
        """What the model "wrote": deterministic from the prompt and seed, within the
        tokens its input allows."""
        if self._text is None:
            made = generated_text(self.prompt, self.seed)
            self._text = within_tokens(made, token_limit(self.inputs))
        return self._text

    def audio_seconds(self) -> float:
        """The length asked for, else its input clip's, else a piece of music's
        (`MUSIC_SECONDS`), else about the time to speak the input text, else 5 s."""
        if self._seconds is None:
            self._seconds = self._asked_seconds()
        return self._seconds

    def _asked_seconds(self) -> float:
        for name, unit in DURATION_FIELDS.items():
            seconds = number(self.inputs.get(name))  # 5, or fal's "5" and "10s" enums
            if seconds is not None and seconds > 0:
                return self._bounded_seconds(seconds * unit, name)
        # speech lasts as its text takes to say (an input audio is a voice to clone); with
        # no text (speech-to-speech, a voice changer), as its input audio
        speaks = self.endpoint.category == "text-to-speech" and self.prompt
        media = None if speaks else self.input_media.clip()
        if media is not None:
            return self._bounded_seconds(media.seconds)
        if MUSIC_ID.search(self.endpoint.id.lower()):
            return MUSIC_SECONDS
        return speaking_seconds(self.prompt) if self.prompt.split() else 5.0

    def _bounded_seconds(self, seconds: float, where: str = "duration") -> float:
        _refuse(audio_beyond(seconds, where))
        return seconds

    def _upscale(self, size: tuple[int, int]) -> float:
        """How many times its input's ``size`` an output of no asked size is (upscales.py)."""
        max_pixels = self.limits.max_image_pixels
        return upscale_factor(self.endpoint.id, self.inputs, size, max_pixels)

    def image_format(self, media: MediaPlan) -> str:
        if makes_vectors(self.endpoint.id, self.inputs):  # whatever raster format is asked
            return media.formats.fitting("svg")
        # ``format`` is the older spelling some fal apps declare (fast-lcm-diffusion)
        requested = self.inputs.get("output_format", self.inputs.get("format"))
        if isinstance(requested, str) and requested.lower() in KINDS["image"]:
            return media.formats.fitting(requested.lower())
        return media.formats.fitting(media.formats.image)

    def clip_kind(self) -> str | None:
        """The kind of the input's video or audio: "video", "audio", None (none read)."""
        clip = self.input_media.clip()
        return None if clip is None else "video" if clip.width else "audio"

    def image_count(self) -> int:
        """How many images the input asks for: as many as it says, else every Nth frame of
        its input video's (extract-nth-frame's), else one."""
        for name in COUNT_FIELDS:
            count = output_count(self.inputs.get(name))
            if count is not None:
                return count
        if frame_interval(self.inputs) is None:
            return 1  # its clip unread: reading one may fetch it
        clip = self.input_media.clip()
        frames = round(clip.seconds * clip.fps) if clip is not None and clip.fps else 0
        return (frames and every_nth_frame(self.inputs, frames)) or 1

    def input_size(self) -> tuple[int, int] | None:
        """The frame size of the input video, else of the input picture; None if neither
        is named or known."""
        clip = self.input_media.clip()
        if clip is not None and clip.width:
            return clip.width, clip.height
        return self.picture().size

    def frame_size(self, media: MediaPlan) -> tuple[int, int] | None:
        """The frame size of the file ``media`` makes (an image's or a video's)."""
        if media.kind == "video":
            return self._video_shape(media)[:2]
        return self.image_size() if media.kind == "image" else None

    # -- the output --------------------------------------------------------------------

    def output(self) -> dict[str, Any]:
        self.input_media.check_readable()  # the provider fetches each before it runs
        return self.plan.output.make(self)

    def _checked(self, width: int, height: int) -> tuple[int, int]:
        _refuse(image_beyond(width, height, self.limits))
        return width, height

    def media(self, media: MediaPlan, index: int) -> dict[str, Any] | str:
        """One media file of field ``media``, made, linked and described."""
        if media.kind == "image":
            spec = self._image(media, index)
        elif media.kind == "video":
            spec = self._video(media, index)
        else:
            spec = self._other(media, index)
        url, size = self.link(spec)
        if media.as_url:
            return url
        described = described_file(spec, url, size, index)
        if media.carries_content:  # an image carried as its bytes (fal's realtime RawImage)
            described["content"] = self.link.raw(spec)
        properties, required = media.properties, media.required
        return {
            k: media.described_value(k, described[k], self)
            if k in described
            else media.plain_value(k, self)
            for k in properties
            if (k in described and described[k] is not None) or k in required
        }

    def _other(self, media: MediaPlan, index: int) -> MediaSpec:
        """The spec of an audio, mesh, archive or other file output."""
        kind, rate, codec, channels = media.kind, 0, "", 1
        if kind == "audio":
            defaults = self.plan.setting_defaults
            media_format, codec, rate, channels = audio_shape(self.inputs, defaults, media.formats)
        else:
            media_format = media.formats.other
            # triposr's output_format "obj", rodin's geometry_file_format "stl"
            asked = self.inputs.get("output_format", self.inputs.get("geometry_file_format"))
            if kind == "mesh" and isinstance(asked, str) and asked.lower() in KINDS["mesh"]:
                media_format = asked.lower()
            media_format = media.formats.fitting(media_format)
        width = height = 0
        if kind == "archive":
            width, height = 64, 64
        return MediaSpec(
            kind,
            width,
            height,
            media_format,
            self.endpoint.id,
            self.prompt,
            self.seed,
            index,
            duration=self.audio_seconds() if kind == "audio" else 0.0,
            sample_rate=rate,
            blank=self.flagged,
            codec=codec,
            channels=channels,
        )

    def _image(self, media: MediaPlan, index: int) -> MediaSpec:
        width, height = self._checked(*self.image_size())
        media_format = self.image_format(media)
        # a JPEG has no transparency: a cut-out asked as one is the whole picture
        clear = media_format in ALPHA_FORMATS
        matte, colour = matte_of(media.matte, self.inputs, clear, bare="")
        # a realtime frame (its picture carried in the output) is drawn: its session names
        # a new picture every frame, and keeping each would fill the storage
        source = "" if media.carries_content else self.picture().id
        return MediaSpec(
            "image",
            width,
            height,
            media_format,
            self.endpoint.id,
            self.prompt,
            self.seed,
            index,
            source=source,
            blank=self.flagged,
            matte=matte,
            backdrop=colour,
        )

    def _video_shape(self, media: MediaPlan) -> tuple[int, int, float, int]:
        """The size, length and frame rate of ``media``'s video, worked out once a job."""
        shape = self._shapes.get(id(media))
        if shape is None:
            asked = video_shape(self.inputs, media.video_hints, self.picture().size)
            clip = self.input_media.clip()
            shape = as_input_video(self.endpoint.id, self.inputs, asked, clip, self._upscale)
            self._shapes[id(media)] = shape
        return shape

    def _video(self, media: MediaPlan, index: int) -> MediaSpec:
        source = self.picture()
        width, height, seconds, fps = self._video_shape(media)
        self._checked(width, height)
        _refuse(video_beyond(width, height, seconds, fps, self.limits))
        media_format, codec = video_format(self.inputs)
        fitted = media.formats.fitting(media_format)
        if fitted != media_format:  # a format the file's schema allows, in its own codec
            media_format, codec = fitted, ""
        sound = carries_sound(self.endpoint.id, self.inputs, self.input_media.clip)
        sound = sound and media_format != "gif"  # a GIF has no sound track
        # ben's words: a format without transparency "will render transparent areas as black"
        alpha = codec_of(media_format, codec) in ALPHA_CODECS
        matte, colour = matte_of(media.matte, self.inputs, alpha, bare="000000")
        spec = MediaSpec(
            "video",
            width,
            height,
            media_format,
            self.endpoint.id,
            self.prompt,
            self.seed,
            index,
            duration=seconds,
            fps=fps,
            source=source.id,
            blank=self.flagged,
            sample_rate=44100 if sound else 0,
            with_audio=sound,
            codec=codec,
            matte=matte,
            backdrop=colour,
        )
        _refuse(file_beyond(spec))
        return spec


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
    """The output of ``endpoint`` for validated ``inputs``, checked against its output
    schema; raises `InputRejected`, `InputUnreachable`, `UnsupportedMedia` or (an output
    the schema refuses) `OutputUnmade` when it cannot be made. Only the inputs the
    contract declares shape it."""
    plan = plan_of(endpoint)
    names = plan.input_names
    shaping = {name: value for name, value in inputs.items() if name in names}
    try:
        output = Synthesis(plan, shaping, seed, link, limits, sources, flagged).output()
        check_output(endpoint, output)
    except RecursionError:  # the last guard against a schema that nests it for ever
        raise OutputUnmade("it nests deeper than provider-emulator makes") from None
    return output
