"""The input fields synthesis reads by convention, and what they ask: a prompt or a text to
say, a length, a sound track, a video's format and codec (an audio file's format and sample
rate: audio_settings.py).

fal's apps name the same thing many ways (``duration``, ``seconds_total``;
``output_format: "webm"``, ``output_container_and_codec: "mkv_h265"``); the names here
are those found across the catalogue, first found first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulator.media.spec import VIDEO_CODECS

#: input fields that give an audio output's length → the seconds one of its units lasts
#: (ElevenLabs music's ``music_length_ms`` in milliseconds)
DURATION_FIELDS = {
    "duration": 1.0,
    "duration_seconds": 1.0,
    "audio_duration": 1.0,
    "music_duration": 1.0,
    "seconds": 1.0,
    "seconds_total": 1.0,
    "total_seconds": 1.0,
    "music_length_ms": 0.001,
}
#: ids of models that make music: asked no length, a piece lasts `MUSIC_SECONDS`, not the
#: time its prompt takes to say
MUSIC_ID = re.compile(r"music|song|lyria|\byue\b")
#: Lyria 2's fixed clip length; for the others, whose model picks a length, a guess
MUSIC_SECONDS = 30.0
#: input fields that say what the model is asked for (or, for speech, what it says: f5's
#: ``gen_text``, a ``transcript``, vibevoice's ``script``), first found first
PROMPT_FIELDS = (
    *("prompt", "text", "input", "lyrics", "query", "question"),
    *("gen_text", "transcript", "script", "text_prompt", "text_input"),
)
#: input fields that ask for every Nth frame of the input video (extract-nth-frame's), and
#: that bound how many frames that takes
FRAME_INTERVAL_FIELDS = ("frame_interval",)
MOST_FRAMES_FIELDS = ("max_frames",)
#: input fields that bound how many tokens a model writes (openrouter's ``max_tokens``)
TOKEN_FIELDS = ("max_tokens", "max_completion_tokens", "max_new_tokens")
#: input fields that ask a video for a sound track
SOUND_FIELDS = (
    "generate_audio", "with_audio", "enable_audio", "audio_enabled", "generate_audio_switch"
)  # fmt: skip
#: input flags that ask a video to keep its input video's sound track (bria's and
#: steady-dancer's, kling o1/o3's, kling motion control's)
KEEP_SOUND_FIELDS = ("preserve_audio", "keep_audio", "keep_original_sound")
#: input fields naming the media an output describes (ffmpeg-api's metadata): the output
#: is that file's likeness, its sound track kept
DESCRIBED_FIELDS = ("media_url",)
#: input flags that ask a video to last as long as its input video or audio
MATCH_LENGTH = ("match_audio_length", "match_video_length", "match_input_num_frames")
#: input flags that ask a video for its input video's frame rate
MATCH_FPS = ("match_input_fps", "match_input_frames_per_second")


#: the inputs that name a video's container or codec, in any of fal's spellings:
#: ``"webm"``, ``"mkv_h265"``, ``"PRORES4444 (.mov)"``, ``"libx265"``, ``"vp9"``
VIDEO_FORMAT_FIELDS = (
    "output_container_and_codec",
    "output_format",
    "video_output_type",
    "video_type",
    "video_format",
    "output_codec",
    "codec",
)
_CONTAINERS = {"mp4": "mp4", "mov": "mov", "quicktime": "mov", "mkv": "mkv", "matroska": "mkv"}
_CONTAINERS |= {"webm": "webm", "gif": "gif"}
_CODECS = {"h264": "h264", "x264": "h264", "libx264": "h264", "avc": "h264", "vp9": "vp9"}
_CODECS |= {"h265": "h265", "x265": "h265", "libx265": "h265", "hevc": "h265", "gif": "gif"}
_CODECS |= {"prores": "prores", "proresks": "prores", "prores4444": "prores", "mpeg4": "mpeg4"}
#: where a codec named alone goes
_HOMES = {"vp9": "webm", "prores": "mov", "gif": "gif"}


#: the inputs that name a background remover's backdrop: bria's colour names (and
#: "Transparent"), ben's RGB list, a hex colour
BACKDROP_FIELDS = ("background_color", "background_colour", "bg_color")
#: bria's colour names, as its documentation lists them
_COLOUR_NAMES = {
    "black": "000000", "white": "ffffff", "gray": "808080", "grey": "808080",
    "red": "ff0000", "green": "00ff00", "blue": "0000ff", "yellow": "ffff00",
    "cyan": "00ffff", "magenta": "ff00ff", "orange": "ffa500",
}  # fmt: skip
#: a backdrop that is the picture's own (bria's ``background_type`` "image" or "blur")
OWN_BACKDROP = "own"


def backdrop(inputs: Mapping[str, Any]) -> str:
    """What a background remover puts behind its subject: "" nothing (transparent where its
    format can be), `OWN_BACKDROP` a picture (the emulator keeps its input's), else a
    colour, ``"rrggbb"``. Values it cannot read are "" (as none asked)."""
    if inputs.get("background_type") in ("image", "blur"):
        return OWN_BACKDROP
    for name in BACKDROP_FIELDS:
        value = inputs.get(name)
        if isinstance(value, str):
            text = value.strip().lower()
            if re.fullmatch(r"#?[0-9a-f]{6}", text):
                return text.removeprefix("#")
            return _COLOUR_NAMES.get(text, "")
        if isinstance(value, list) and len(value) == 3:
            if all(type(part) is int and 0 <= part <= 255 for part in value):
                return "".join(f"{part:02x}" for part in value)
    return ""


def video_format(inputs: Mapping[str, Any]) -> tuple[str, str]:
    """The video format (a key of `VIDEO_CODECS`) and codec the inputs ask for: the
    codec is "" where it is the format's own, as it is where none is asked (MP4, H.264)."""
    container = codec = None
    for name in VIDEO_FORMAT_FIELDS:
        value = inputs.get(name)
        for word in re.findall(r"[a-z0-9]+", value.lower()) if isinstance(value, str) else ():
            container = container or _CONTAINERS.get(word)
            codec = codec or _CODECS.get(word)
    container = container or _HOMES.get(codec or "", "mp4")
    own = VIDEO_CODECS[container]
    return container, codec if codec in own[1:] else ""


#: the ids of models whose videos speak: talking avatars, lip-syncs, dubbing
_TALKING_ID = re.compile(r"avatar|lip-?sync|talk|fabric|dubbing|omnihuman|digital-twin")
#: the inputs a talking video says aloud (kling's and veed's ``text``, infinitalk's
#: ``text_input``, ai-avatar's two speakers'), all said in turn
SPOKEN_FIELDS = ("text", "text_input", "first_text_input", "second_text_input", "script")


def spoken_text(endpoint_id: str, inputs: Mapping[str, Any]) -> str:
    """What a talking video's input gives it to say ("" if it is no talking model's, or
    gives no text: it speaks its input audio, or is silent)."""
    if _TALKING_ID.search(endpoint_id.lower()) is None:
        return ""
    said = (inputs.get(name) for name in SPOKEN_FIELDS)
    return " ".join(text.strip() for text in said if isinstance(text, str) and text.strip())


def token_limit(inputs: Mapping[str, Any]) -> int | None:
    """The most tokens the input lets a model write (None: no bound asked)."""
    asked = (inputs.get(name) for name in TOKEN_FIELDS)
    bounds = [int(v) for v in asked if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return min((bound for bound in bounds if bound >= 1), default=None)


def frame_interval(inputs: Mapping[str, Any]) -> int | None:
    """Every how many frames of its input video an input asks for one; None if it asks for
    none."""
    interval = _first_number(inputs, FRAME_INTERVAL_FIELDS)
    return None if interval is None or interval < 1 else int(interval)


def every_nth_frame(inputs: Mapping[str, Any], frames: int) -> int | None:
    """How many of its input video's ``frames`` an input asking for every Nth takes (the
    first, then every Nth after it), at most as many as it bounds them to; None if it asks
    for none."""
    interval = frame_interval(inputs)
    if interval is None:
        return None
    taken = -(-frames // interval)
    most = _first_number(inputs, MOST_FRAMES_FIELDS)
    return max(1, min(taken, int(most)) if most is not None and most >= 1 else taken)


def _first_number(inputs: Mapping[str, Any], names: tuple[str, ...]) -> float | None:
    values = (inputs.get(name) for name in names)
    return next((v for v in values if isinstance(v, int | float) and not isinstance(v, bool)), None)


def speaking_seconds(text: str) -> float:
    """About how long ``text`` takes to say (2.5 words a second), 1 to 60 s."""
    return max(1.0, min(60.0, len(text.split()) / 2.5))


def gives_audio(inputs: Mapping[str, Any]) -> bool:
    """Whether an input gives audio: ``audio_url``, ai-avatar's ``first_audio_url``,
    longcat's ``audio_url_person1``…"""
    return any("audio_url" in name and isinstance(v, str) and v for name, v in inputs.items())
