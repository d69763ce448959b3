"""WaveSpeed AI: the v3 prediction API, uploads, webhooks and its CDN."""

from emulator.providers.wavespeed.routes import WaveSpeedApi as Api

__all__ = ["Api"]
