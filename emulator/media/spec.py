"""What a piece of synthetic media is, independent of where it is served."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from emulator.media.padding import budget

__all__ = ["FORMATS", "MediaSpec"]

#: format name → (content type, file extension, encoder: a Pillow format, or MP4)
FORMATS = {
    "jpeg": ("image/jpeg", "jpg", "JPEG"),
    "jpg": ("image/jpeg", "jpg", "JPEG"),
    "png": ("image/png", "png", "PNG"),
    "webp": ("image/webp", "webp", "WEBP"),
    "mp4": ("video/mp4", "mp4", "MP4"),
}


@dataclass(frozen=True)
class MediaSpec:
    """Everything that determines the bytes of one synthetic output.

    Two specs that are equal render to identical bytes, whichever request asked.
    """

    kind: str  # "image" or "video"
    width: int
    height: int
    format: str
    label: str  # the endpoint id, drawn on the picture
    prompt: str
    seed: int
    index: int = 0
    duration: float = 0.0  # seconds, for video
    fps: int = 0  # frames per second, for video
    source: str = ""  # storage id of the picture a video starts from; "" to draw one
    blank: bool = False  # black, as providers blank what their safety checker flags

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
        return budget(FORMATS[self.format][2], self.width, self.height, self.frames)

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
                ),
            )
        )
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
