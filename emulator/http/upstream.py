"""Where the real provider is: each surface's real base URL, or an override.

An override is the base URL of something that serves the surfaces the way the emulator
does (``{base}/fal/queue/…``): another emulator, standing in as the real provider in
tests. ``--upstream URL`` overrides every provider; ``--upstream fal=URL`` one of them;
``PROVIDER_EMULATOR_UPSTREAM`` takes the same words, comma-separated.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

UPSTREAM_VARIABLE = "PROVIDER_EMULATOR_UPSTREAM"


class UpstreamError(ValueError):
    """An ``--upstream`` value that is not ``URL`` or ``PROVIDER=URL``."""


def _checked(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UpstreamError(f"upstream {url!r} is not an http(s) URL")
    return url.rstrip("/")


@dataclass(frozen=True)
class Upstreams:
    """Where each provider surface's real host is, for recording: the canonical hosts, or the
    ``--upstream`` overrides."""

    #: surface prefix (``fal/queue``) → the real host it stands for
    canonical: Mapping[str, str]
    #: provider name (or ``*`` for all) → an override base URL
    overrides: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(
        cls,
        canonical: Mapping[str, str],
        words: Iterable[str] = (),
        environ: Mapping[str, str] | None = None,
    ) -> Upstreams:
        """From ``--upstream`` words; none given: from the environment variable."""
        words = list(words)
        if not words:
            variable = (os.environ if environ is None else environ).get(UPSTREAM_VARIABLE, "")
            words = [w.strip() for w in variable.split(",") if w.strip()]
        providers = {surface.split("/")[0] for surface in canonical}
        overrides: dict[str, str] = {}
        for word in words:
            name, equals, url = word.partition("=")
            if not equals or "://" in name:
                name, url = "*", word
            elif name not in providers:
                raise UpstreamError(f"upstream {word!r}: no provider {name!r}")
            overrides[name] = _checked(url)
        return cls(canonical, overrides)

    def base(self, surface: str) -> str:
        """The base URL of ``surface`` (``fal/queue`` → ``https://queue.fal.run``)."""
        provider = surface.split("/")[0]
        override = self.overrides.get(provider, self.overrides.get("*"))
        if override is not None:
            return f"{override}/{surface}"
        return f"https://{self.canonical[surface]}"

    def overridden(self, provider: str) -> bool:
        return provider in self.overrides or "*" in self.overrides

    def described(self) -> str:
        """Where recorded calls go, in words: ``URL`` (every provider's override),
        ``fal=URL, wavespeed=its real hosts``, or the providers' real hosts."""
        everywhere = self.overrides.get("*")
        if not self.overrides:
            return "the providers' real hosts"
        if set(self.overrides) == {"*"}:
            return str(everywhere)
        providers = sorted({surface.split("/")[0] for surface in self.canonical})
        return ", ".join(
            f"{name}={self.overrides.get(name, everywhere) or 'its real hosts'}"
            for name in providers
        )
