"""Input media: the pictures a job's input names by URL or data URI, as bytes.

The emulator can read what it serves itself (uploaded files and generated media, at any of
the addresses it is reached by) and data URIs. Any other URL it cannot fetch: the job then
fails as the provider reports an unreachable input, or, for offline work, continues from a
drawn picture (``EmulatorConfig.unreachable_media = "synthetic"``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from typing import NamedTuple
from urllib.parse import unquote_to_bytes, urlsplit

from emulator.core.file_urls import Named, find_in_url, media_name
from emulator.core.files import Storage
from emulator.core.stored_files import StorageError, StoredFile
from emulator.media.cache import MediaStore
from emulator.media.links import check_may_block
from emulator.media.spec import MediaSpec

#: the largest input picture decoded (Pillow's own bomb limit is about 179 million)
MAX_SOURCE_PIXELS = 64 * 2**20
#: how much of an input an error about it repeats (a URL whole, mostly; a data URI runs
#: to megabytes)
SHOWN_CHARS = 256
#: naked base64: the alphabet in padded quads, no header, no line breaks
_NAKED_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


class InputUnreachable(Exception):
    """An input URL the emulator cannot read."""

    #: the failure's kind, as the providers' error formats tell it
    kind = "media_not_accessible"

    def __init__(self, field: str, url: str) -> None:
        #: the input as errors show it: its start alone, if it is long
        self.url = url if len(url) <= SHOWN_CHARS else f"{url[:SHOWN_CHARS]}…"
        cut = f" ({len(url):,} characters)" if len(url) > SHOWN_CHARS else ""
        super().__init__(f"cannot read the media at {self.url!r}{cut} (field {field!r})")
        self.field = field


class InputUndecodable(InputUnreachable):
    """An input URL read whole, whose bytes are no picture (empty, text, corrupt)."""

    kind = "media_not_decodable"


class Clip(NamedTuple):
    """An input audio or video: its length, a video's frame size and rate (0 for audio),
    and whether it has sound (an audio's always; a video's if it has a sound track)."""

    seconds: float
    width: int
    height: int
    fps: int = 0
    sound: bool = False


class Source(NamedTuple):
    """A picture a video starts from: its storage id ("" for a drawn one) and size."""

    id: str
    size: tuple[int, int] | None


def data_uri_bytes(url: str) -> bytes | None:
    """The bytes a ``data:`` URI carries; None if it is malformed."""
    header, comma, payload = url.partition(",")
    if not comma:
        return None
    try:
        if header.endswith(";base64"):
            return base64.b64decode(payload, validate=False)
        return unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        return None


def naked_base64_uri(value: str) -> str | None:
    """The data URI naked base64 ``value`` would be; None if it is no naked base64."""
    return "data:;base64," + value if _NAKED_BASE64.fullmatch(value) else None


def _served(url: str) -> Named | None:
    """Which file of the emulator's ``url`` names, if one."""
    try:
        return find_in_url(urlsplit(url).path)
    except ValueError:  # not a URL at all (an unclosed IPv6 bracket): nothing to read
        return None


class SourceResolver:
    def __init__(self, storage: Storage, media: MediaStore, *, synthetic_fallback: bool) -> None:
        self.storage = storage
        self.media = media
        self.synthetic_fallback = synthetic_fallback

    def read(self, url: str) -> bytes | None:
        """The bytes at ``url``, if the emulator can read them."""
        check_may_block()  # a stored file, a decoded data URI or a render: not on the loop
        if url.startswith("data:"):
            return data_uri_bytes(url)
        found = _served(url)
        if found is None:
            return None
        file = self._file(found)
        if isinstance(file, StoredFile):
            return self.storage.read(file)
        return None if file is None else self.media.content(file)

    def _file(self, found: Named) -> StoredFile | MediaSpec | None:
        """The upload or medium ``found`` names, if the URL gives it its own name: at a
        mangled URL, a real fetch finds nothing."""
        if found.kind == "upload":
            stored = self.storage.get(found.id)
            return stored if stored is not None and stored.name == found.name else None
        spec = self.media.lookup(found.id)
        named = spec is not None and found.name == media_name(found.id, spec.extension)
        return spec if named else None

    def readable(self, url: str) -> bool:
        """Whether the emulator can read ``url``, found without reading it: no file read,
        nothing rendered, nothing kept (a realtime session's every frame names one)."""
        check_may_block()  # a data URI is decoded to know
        if url.startswith("data:"):
            return data_uri_bytes(url) is not None
        found = _served(url)
        return found is not None and self._file(found) is not None

    def clip(self, url: str) -> Clip | None:
        """The length (and a video's frame size, and whether it has sound) of the audio or
        video at ``url``, if the emulator can read it: a generated one's own, else its
        container's, probed."""
        found = None if url.startswith("data:") else _served(url)
        if found is not None and found.kind == "media":
            spec = self._file(found)
            if not isinstance(spec, MediaSpec) or spec.duration <= 0:
                return None
            sound = spec.with_audio or spec.kind == "audio"
            return Clip(spec.duration, spec.width, spec.height, spec.fps, sound)
        data = self.read(url)
        if data is None:
            return None
        import av  # with the first input audio or video, not with the emulator

        try:
            with av.open(io.BytesIO(data), mode="r") as container:
                length = container.duration
                frames = container.streams.video
                width, height = (frames[0].width, frames[0].height) if frames else (0, 0)
                rate = frames[0].average_rate if frames else None
                sound = bool(container.streams.audio)
        except Exception:  # anything the demuxer refuses has no length to take
            return None
        if not length or length <= 0:
            return None
        fps = round(rate) if rate and 0 < rate <= 120 else 0
        return Clip(length / 1_000_000, width or 0, height or 0, fps, sound)

    def pictured(self, url: str) -> bool:
        """Whether ``url`` can be read and is a picture: a generated image, or bytes whose
        header opens as one (not decoded, and nothing kept: a realtime session's every
        frame names one)."""
        found = None if url.startswith("data:") else _served(url)
        if found is not None and found.kind == "media":
            spec = self._file(found)
            return isinstance(spec, MediaSpec) and spec.kind == "image"
        data = self.read(url)
        return data is not None and _opens_as_picture(data)

    def picture(self, field: str, url: str) -> Source:
        """The picture at ``url`` kept for rendering; raises `InputUnreachable`."""
        from PIL import Image  # with the first input picture, not with the emulator

        data = self.read(url)
        size = None
        unreadable: type[InputUnreachable] = InputUnreachable
        if data is not None:
            try:
                picture = Image.open(io.BytesIO(data))
                if picture.width * picture.height > MAX_SOURCE_PIXELS:
                    raise ValueError("too many pixels")
                picture.load()  # a header alone is not a picture
                size = picture.size
            except Exception:  # any image the decoder refuses (or a bomb) is unusable
                data, unreadable = None, InputUndecodable
        if data is None:
            if self.synthetic_fallback:
                return Source("", None)
            raise unreadable(field, url)
        source_id = "src" + hashlib.sha256(data).hexdigest()[:24]
        if self.storage.get(source_id) is None:
            try:
                self.storage.put(data, "application/octet-stream", "source", source_id)
            except StorageError:
                raise InputUnreachable(field, url) from None
        return Source(source_id, size)


#: ISO-BMFF brands of pictures (HEIF, AVIF) the providers take that Pillow may not open
_PICTURE_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")
#: the signatures of JPEG XL, a bare codestream or in its container
_JPEG_XL = (b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")


def _opens_as_picture(data: bytes) -> bool:
    """Whether ``data`` is a picture: by the signature of one Pillow may not open (this
    build's, or the lowest version the emulator supports: AVIF from 11.2), else by
    Pillow opening its header."""
    from PIL import Image  # with the first input picture, not with the emulator

    if (data[4:8] == b"ftyp" and data[8:12] in _PICTURE_BRANDS) or data.startswith(_JPEG_XL):
        return True
    text = data[:1024].lstrip().lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return True
    try:
        with Image.open(io.BytesIO(data)) as picture:
            return picture.width * picture.height <= MAX_SOURCE_PIXELS
    except Exception:  # anything Pillow refuses to open is no picture
        return False
