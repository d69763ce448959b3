"""What a piece of synthetic media is, independent of where it is served."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from emulator.media.padding import budget, video_budget

#: a video's sound track's bit rate (AAC, or Opus in WebM)
SOUND_TRACK_BITRATE = 64000
#: what a video's sound track may weigh, for the size budget
SOUND_TRACK_BYTES_PER_SECOND = 9000

#: format name → (content type, file extension, encoder: a Pillow format, a video
#: container's family, or the module that makes the other kinds: audio, meshes, archives,
#: files)
FORMATS = {
    "jpeg": ("image/jpeg", "jpg", "JPEG"),
    "jpg": ("image/jpeg", "jpg", "JPEG"),
    "png": ("image/png", "png", "PNG"),
    "webp": ("image/webp", "webp", "WEBP"),
    "gif": ("image/gif", "gif", "GIF"),
    "mp4": ("video/mp4", "mp4", "MP4"),
    "mov": ("video/quicktime", "mov", "MP4"),  # QuickTime: MP4's boxes, its free box too
    "mkv": ("video/x-matroska", "mkv", "MKV"),
    "webm": ("video/webm", "webm", "MKV"),  # a Matroska of VP9
    "wav": ("audio/wav", "wav", "AUDIO"),
    "mp3": ("audio/mpeg", "mp3", "AUDIO"),
    "flac": ("audio/flac", "flac", "AUDIO"),
    "ogg": ("audio/ogg", "ogg", "AUDIO"),
    "opus": ("audio/ogg", "opus", "AUDIO"),
    "aac": ("audio/aac", "aac", "AUDIO"),
    "m4a": ("audio/mp4", "m4a", "AUDIO"),
    "glb": ("model/gltf-binary", "glb", "MESH"),
    "obj": ("model/obj", "obj", "MESH"),
    "stl": ("model/stl", "stl", "MESH"),
    "ply": ("application/ply", "ply", "MESH"),  # no registered type; the common one
    "usdz": ("model/vnd.usdz+zip", "usdz", "MESH"),
    "splat": ("application/octet-stream", "splat", "MESH"),
    "fbx": ("application/octet-stream", "fbx", "MESH"),  # no registered type; the common one
    "zip": ("application/zip", "zip", "ZIP"),
    "json": ("application/json", "json", "FILE"),
    "safetensors": ("application/octet-stream", "safetensors", "FILE"),
    "srt": ("application/x-subrip", "srt", "FILE"),
    "vtt": ("text/vtt", "vtt", "FILE"),
    "txt": ("text/plain", "txt", "FILE"),
    "mtl": ("model/mtl", "mtl", "FILE"),
    "exr": ("image/x-exr", "exr", "FILE"),
    "svg": ("image/svg+xml", "svg", "SVG"),  # vectors.py's
    "bin": ("application/octet-stream", "bin", "FILE"),
}
#: kinds of media and the formats each can take
KINDS = {
    "image": ("jpeg", "jpg", "png", "webp", "gif", "svg"),  # SVG: a vector model's
    "video": ("mp4", "mov", "mkv", "webm", "gif"),
    "audio": ("wav", "mp3", "flac", "ogg", "opus", "aac", "m4a"),
    "mesh": ("glb", "obj", "stl", "ply", "usdz", "splat", "fbx"),
    "archive": ("zip",),
    "file": ("json", "safetensors", "srt", "vtt", "txt", "mtl", "exr", "svg", "bin"),
}
#: a video format's own codec first, then the others it may hold (H.264 is made fastest,
#: by video.py; the rest by codecs.py)
VIDEO_CODECS = {
    "mp4": ("h264", "h265"),
    "mov": ("h264", "h265", "prores"),
    "mkv": ("h264", "h265", "vp9", "mpeg4"),
    "webm": ("vp9",),
    "gif": ("gif",),
}


#: an audio format's codec as FFmpeg's probe names it (fal's ``Audio.codec``): audio.py's
#: encoders, libmp3lame's and libopus's streams named as their codecs are
AUDIO_CODEC_NAMES = {
    "wav": "pcm_s16le", "mp3": "mp3", "flac": "flac", "ogg": "opus", "opus": "opus",
    "aac": "aac", "m4a": "aac",
}  # fmt: skip


#: what a video format's sound track is encoded as (WebM takes no AAC), None: it has none
SOUND_CODECS = {"mp4": "aac", "mov": "aac", "mkv": "aac", "webm": "libopus", "gif": None}
#: Opus encodes only these rates; other codecs take any
OPUS_RATES = (48000, 24000, 16000, 12000, 8000)


def sound_rate(spec: MediaSpec, codec: str) -> int:
    """The sample rate the sound of ``spec`` is encoded at in ``codec``: its own (else
    44.1 kHz), but where Opus cannot take it."""
    rate = spec.sample_rate or 44100
    return 48000 if codec == "libopus" and rate not in OPUS_RATES else rate


def codec_of(video_format: str, codec: str) -> str:
    """A video's codec: ``codec``, or its format's own where that is ""."""
    return codec or VIDEO_CODECS[video_format][0]


#: the image formats that carry transparency (a GIF as one transparent colour)
ALPHA_FORMATS = ("png", "webp", "gif")
#: the codecs that carry transparency, and the pixel format they take it in (WebM marks
#: its VP9 so: ``alpha_mode`` 1; ProRes has it in its 4444 profile alone)
ALPHA_CODECS = {"vp9": "yuva420p", "prores": "yuva444p10le"}


@dataclass(frozen=True)
class MediaSpec:
    """Everything that determines the bytes of one synthetic output.

    Two specs that are equal render to identical bytes, whichever request asked.
    """

    kind: str  # "image", "video", "audio", "mesh", "archive" or "file" (see KINDS)
    width: int
    height: int
    format: str
    label: str  # the endpoint id, drawn on the picture
    prompt: str
    seed: int
    index: int = 0
    duration: float = 0.0  # seconds, for video
    fps: int = 0  # frames per second, for video
    source: str = ""  # storage id of an image's or video's input picture; "" to draw one
    blank: bool = False  # black, as providers blank what their safety checker flags
    sample_rate: int = 0  # Hz, for audio (and a video's sound track)
    with_audio: bool = False  # a video with a sound track
    matte: str = ""  # an image's subject: "cutout" (transparent around it) or "mask" (alone)
    #: a cut-out's background colour (``"rrggbb"``): the subject over it, nothing transparent
    backdrop: str = ""
    #: a video's codec where not its format's own (see VIDEO_CODECS); a WAV's where not
    #: 16-bit PCM (``pcm_mulaw``, ``pcm_alaw``)
    codec: str = ""
    channels: int = 1  # an audio file's (2: stereo)

    @property
    def frames(self) -> int:
        return max(1, round(self.duration * self.fps)) if self.kind == "video" else 1

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][1]

    @property
    def byte_size(self) -> int | None:
        """The file's size, known without rendering it; None where it is not fixed."""
        if self.kind != "video":
            return budget(FORMATS[self.format][2], self.width, self.height)
        size = video_budget(self.video_codec, self.width, self.height, self.frames, self.clear)
        if self.with_audio:  # room for the sound track (see video.py)
            size += int(self.duration * SOUND_TRACK_BYTES_PER_SECOND) + 4096
        return size

    @property
    def clear(self) -> bool:
        """Whether the file is transparent around its subject (a cut-out, no backdrop)."""
        return self.matte == "cutout" and not self.backdrop

    @property
    def audio_codec(self) -> str:
        """An audio file's codec as FFmpeg's probe names it: a WAV's own where its samples
        are not 16-bit PCM ("": no audio format)."""
        return self.codec or AUDIO_CODEC_NAMES.get(self.format, "")

    @property
    def video_codec(self) -> str:
        """A video's codec: its own, or its format's."""
        return codec_of(self.format, self.codec)

    def digest(self, salt: str = "") -> str:
        """A stable name for this spec: the same spec (and salt) always gets the same one."""
        text = "\x1f".join(
            map(
                str,
                (
                    salt,
                    self.kind,
                    self.width,
                    self.height,
                    self.format,
                    self.label,
                    self.prompt,
                    self.seed,
                    self.index,
                    self.duration,
                    self.fps,
                    self.source,
                    self.blank,
                    self.sample_rate,
                    self.with_audio,
                    # unmatted specs keep the names they had before mattes were made
                    *((self.matte,) if self.matte else ()),
                    *((f"codec:{self.codec}",) if self.codec else ()),
                    *((f"backdrop:{self.backdrop}",) if self.backdrop else ()),
                    *((f"channels:{self.channels}",) if self.channels != 1 else ()),
                ),
            )
        )
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
