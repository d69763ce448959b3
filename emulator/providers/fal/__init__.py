"""fal.ai: queue, sync run, storage, CDN, webhooks and the proxy protocol."""

from emulator.providers.fal.routes import FalApi as Api

__all__ = ["Api"]
