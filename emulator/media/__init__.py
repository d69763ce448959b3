"""Synthetic media: what it is (spec), how it is drawn (images), where it is kept (store)."""

from emulator.media.cache import MediaStore, UnsupportedMedia
from emulator.media.spec import MediaSpec

__all__ = ["MediaSpec", "MediaStore", "UnsupportedMedia"]
