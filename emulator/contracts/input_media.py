"""The media a job's input names: the picture it starts from, the video or audio it lasts
as, and the check that every media URL it names can be read (the provider fetches each
before it runs). Which fields name media is a convention across fal's and WaveSpeed's
schemas, as the output conventions of synthesis.py are.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from emulator.contracts.plans import Plan
from emulator.core.registry import LAYOUTS
from emulator.media.sources import (
    Clip,
    InputUndecodable,
    InputUnreachable,
    Source,
    SourceResolver,
    naked_base64_uri,
)

#: input fields that name the picture an image-to-video job starts from
PICTURE_FIELDS = ("image_url", "image", "input_image", "start_image_url", "first_frame_image")
#: input fields listing the pictures an edit starts from (fal's, WaveSpeed's): the first
PICTURE_LISTS = ("image_urls", "images")
#: every input field that names a picture (or lists them), each must be one: those above,
#: and any other image or mask by its name (``input_image_url``, ``end_image_url``,
#: ``mask_url``, ``reference_images``…; an ``images_data_url`` is a trainer's archive)
PICTURE_NAMES = re.compile(
    "|".join((*PICTURE_FIELDS, *PICTURE_LISTS, r"(?:[a-z0-9]+_)*(?:image|mask)(?:_urls?|s)?"))
)
#: input fields naming media files the job reads
MEDIA_INPUT = re.compile(
    r"[a-z0-9_]*(image|video|audio|mask|mesh|model|file|media)[a-z0-9_]*_urls?"
    r"|video|audio|images|mask_image|last_image|reference_images"  # WaveSpeed's names
)
#: input fields naming the video or audio an output lasts as long as, first found first
#: (a lipsync, an audio isolation, a video's sound, a speech-to-speech's source, what
#: ffmpeg-api's metadata describes), when no length is asked
LENGTH_FIELDS = (
    *("video_url", "video", "audio_url", "audio"),
    *("source_video_url", "source_audio_url", "media_url"),
)

_NO_PICTURE = Source("", None)


class InputMedia:
    """One job's input media, each read at most once."""

    def __init__(
        self, plan: Plan, inputs: Mapping[str, Any], sources: SourceResolver | None
    ) -> None:
        self.plan, self.inputs, self.sources = plan, inputs, sources
        self._picture: Source | None = None
        self._clip: tuple[Clip | None] | None = None
        self._naked_base64 = LAYOUTS[plan.endpoint.provider].naked_base64_media

    def _address(self, value: str) -> str:
        """Where the sources read input ``value``: naked base64, where the provider takes
        it, as the data URI it would be."""
        return (self._naked_base64 and naked_base64_uri(value)) or value

    def picture(self) -> Source:
        """The input picture a job starts from, if its input names one."""
        if self._picture is None:
            self._picture = self._read_picture()
        return self._picture

    def _read_picture(self) -> Source:
        for name in PICTURE_FIELDS + PICTURE_LISTS:
            url = _picture_url(name, self.inputs.get(name))
            if url and self.sources is not None:
                try:
                    return self.sources.picture(name, self._address(url))
                except InputUnreachable as unread:
                    if url != _picture_url(name, self.plan.input_default(name)):
                        raise type(unread)(name, url) from None  # the input as given
                    return _NO_PICTURE  # fal's example picture, not the caller's
        return _NO_PICTURE

    def clip(self) -> Clip | None:
        """The input video or audio (`LENGTH_FIELDS`), if one is named and readable."""
        if self._clip is None:
            urls = (self.inputs.get(name) for name in LENGTH_FIELDS)
            clips = (
                self.sources.clip(self._address(url))
                if self.sources and isinstance(url, str)
                else None
                for url in urls
            )
            self._clip = (next((clip for clip in clips if clip), None),)
        return self._clip[0]

    def check_readable(self) -> None:
        """Every media URL the input names (``image_url``, ``video_url``, ``audio_urls``…)
        must be readable, and a picture field's a picture, whether or not the output shows
        it; raises `InputUnreachable` (`InputUndecodable` for no picture)."""
        sources = self.sources
        if sources is None or sources.synthetic_fallback:
            return
        for name, value in self.inputs.items():
            if not names_media(name):
                continue
            for url in value if isinstance(value, list) else [value]:
                if not isinstance(url, str) or url == self.plan.input_default(name):
                    continue
                address = self._address(url)
                if not PICTURE_NAMES.fullmatch(name):
                    if not sources.readable(address):
                        raise InputUnreachable(name, url)
                elif not sources.pictured(address):
                    readable = sources.readable(address)
                    raise (InputUndecodable if readable else InputUnreachable)(name, url)


@functools.lru_cache(maxsize=4096)
def names_media(input_name: str) -> bool:
    """Whether an input field names media files the job reads."""
    return input_name in PICTURE_FIELDS or MEDIA_INPUT.fullmatch(input_name) is not None


def _picture_url(name: str, value: Any) -> str | None:
    """The URL of the picture input field ``name`` holds, if any: a list's first."""
    if name in PICTURE_LISTS:
        value = value[0] if isinstance(value, list) and value else None
    return value if isinstance(value, str) and value else None
