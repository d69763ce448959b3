"""WaveSpeed AI: the v3 prediction API and its CDN."""

from emulator.providers.wavespeed.routes import WaveSpeedApi

__all__ = ["WaveSpeedApi"]
