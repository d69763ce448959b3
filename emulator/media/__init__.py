"""Synthetic media: what it is (spec), how it is drawn (images), where it is kept (store)."""

from emulator.media.spec import MediaSpec
from emulator.media.store import MediaStore, UnsupportedMedia

__all__ = ["MediaSpec", "MediaStore", "UnsupportedMedia"]
