"""fal.ai: queue, sync run, CDN."""

from emulator.providers.fal.routes import FalApi

__all__ = ["FalApi"]
