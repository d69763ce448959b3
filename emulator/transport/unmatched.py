"""What becomes of a request to a host no provider has: the hosts the interception
answers, and the error it raises for the rest while unmatched requests fail."""

from __future__ import annotations

from typing import Literal

from emulator.providers.registry import HOST_SURFACES

__all__ = ["Unmatched", "UnmatchedRequest", "is_provider_host"]

Unmatched = Literal["fail", "pass"]


def is_provider_host(host: str | None) -> bool:
    return (host or "").lower() in HOST_SURFACES


class UnmatchedRequest(ConnectionError):
    """A request to a host the emulator does not stand for, while unmatched requests fail."""

    def __init__(self, method: str, url: str) -> None:
        super().__init__(
            f"provider-emulator: {method} {url} is not a provider host, and unmatched requests "
            "fail (pass unmatched='pass' to let them through)"
        )
