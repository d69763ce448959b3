"""Which URLs a webhook may be delivered to.

Loopback addresses only unless ``EmulatorConfig.webhook_targets = "any"`` (an emulator
should not call out by surprise), and never the emulator itself: not its own ports, and no
path of its control plane, however encoded.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection
from urllib.parse import unquote, urlsplit

#: what no request line may hold (http.client refuses to send it: "URL can't contain
#: control characters"), so no delivery could be posted to a URL with one
_UNSENDABLE = re.compile("[\x00-\x20\x7f]")


def is_webhook_url(url: str) -> bool:
    """Whether ``url`` is an http(s) URL a delivery could be posted to (its own characters
    ASCII, as a request line's are: one that is not is sent percent-encoded)."""
    if _UNSENDABLE.search(url) or not url.isascii():
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return is_loopback_host(host)


def _names_control_plane(path: str) -> bool:
    """Whether ``path`` reaches an emulator's control plane (``/_emulator``, on this one or
    another), however it is encoded: a server decodes a path once, and ``%255F`` is ``_``
    two decodings on (a query value, then the receiving server)."""
    for _ in range(8):  # each round undoes one layer of encoding; a path has few
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    return "_emulator" in path.split("/")


def refusal(url: str, *, any_target: bool, own_ports: Collection[int]) -> str | None:
    """Why ``url`` may not be a target, or None when it may; ``own_ports``: the emulator's."""
    if not (any_target or is_loopback(url)):
        return "not a loopback address"
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if (is_loopback(url) and port in own_ports) or _names_control_plane(parts.path):
        return "the emulator's own address"
    return None
