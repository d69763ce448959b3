"""The emulator's settings, shared by the server, the CLI, `emulate()` and the pytest fixture."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from emulator.contracts.documents import DEFAULT_CONTRACTS_DIR
from emulator.core.lifecycle import Progression

__all__ = ["EmulatorConfig"]


@dataclass(frozen=True)
class EmulatorConfig:
    #: Fixes request ids, drawn seeds, timing jitter and media names; None draws a fresh one.
    seed: int | None = None
    #: How jobs move through their states; the server default takes about a second.
    progression: Progression = field(default_factory=Progression)
    #: Directories of contract documents, later ones overriding earlier ones.
    contracts: tuple[Path, ...] = (DEFAULT_CONTRACTS_DIR,)
    #: Keys accepted; None accepts any non-empty key (each key still sees only its own jobs).
    api_keys: frozenset[str] | None = None
    #: Seconds a job stays retrievable after submission (fal keeps results about an hour).
    retention: float = 3600.0
    #: Most jobs kept at once; the oldest go first.
    max_jobs: int = 100_000
    max_body_bytes: int = 20 * 2**20
    max_json_depth: int = 64
    #: Largest image (width x height) the emulator renders; larger sizes are rejected.
    max_image_pixels: int = 4096 * 4096
    media_cache_bytes: int = 256 * 2**20
    #: The real fal queue accepts any JSON and reports validation errors at the result;
    #: set this to reject invalid input at submit instead.
    validate_on_submit: bool = False
    #: Overrides the scheme://host[:port] that response URLs use (e.g. behind a proxy).
    public_url: str | None = None
    #: Seconds between keep-alive comments on an idle SSE status stream.
    stream_keepalive: float = 15.0
    #: Where uploads are kept: None keeps them in memory.
    storage_dir: Path | None = None
    max_upload_bytes: int = 200 * 2**20
    max_storage_bytes: int = 1024 * 2**20
    #: An input URL the emulator cannot read (it reads only what it serves, and data URIs)
    #: fails the job as the provider would ("fail"), or starts from a drawn picture
    #: ("synthetic"), for offline work with real-world URLs.
    unreachable_media: str = "fail"
    #: Multiplies the providers' webhook retry waits (fal's span two hours): 0.001 makes
    #: them milliseconds, for tests.
    webhook_time_scale: float = 1.0
    #: Webhooks go to loopback addresses only ("loopback"), or anywhere ("any").
    webhook_targets: str = "loopback"
    #: The key fal's proxy (/fal/proxy) adds to a request that carries none, as a real
    #: proxy adds its server-side FAL_KEY; None forwards such requests as they are (401).
    proxy_key: str | None = None
    #: Seconds a WaveSpeed sync-mode request waits before its 5004 answer (90 s, as the
    #: WaveSpeed SDK's fixture records).
    sync_timeout: float = 90.0
    #: Serve fal's whole catalogue (imported from its published types) besides the
    #: curated contracts; curated documents win for the same id.
    catalogue: bool = True
    #: An id no contract knows answers fal's 404 ("404"), or a permissive contract chosen
    #: by its name's category ("generic"), for models newer than the catalogue.
    unknown_endpoints: str = "404"

    def __post_init__(self) -> None:
        if self.unreachable_media not in ("fail", "synthetic"):
            raise ValueError("unreachable_media must be 'fail' or 'synthetic'")
        if self.unknown_endpoints not in ("404", "generic"):
            raise ValueError("unknown_endpoints must be '404' or 'generic'")
        if self.webhook_targets not in ("loopback", "any"):
            raise ValueError("webhook_targets must be 'loopback' or 'any'")

    def with_contracts(self, *directories: Path | str) -> EmulatorConfig:
        return replace(self, contracts=self.contracts + tuple(Path(d) for d in directories))
