"""Which URLs a webhook may be delivered to.

Loopback addresses only unless ``EmulatorConfig.webhook_targets = "any"`` (an emulator
should not call out by surprise), and never the emulator itself: not its own ports, and no
path of its control plane, however encoded.
"""

from __future__ import annotations

import ipaddress
import re
import socket
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
    """Whether a server listening on ``host`` (a name or an address) listens on this
    machine's loopback alone (``0.0.0.0`` listens everywhere)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def reaches_this_machine(host: str) -> bool:
    """Whether a connection to ``host`` ends on this machine: ``localhost``, a loopback
    address, an unspecified one (a connection to ``0.0.0.0`` or ``::`` is one to here), an
    IPv6 form of one, or an IPv4 address spelt as C's ``inet_aton`` reads it (``127.1``,
    ``2130706433``), as the clients' resolvers read it too."""
    if host.lower().rstrip(".") in ("localhost", "localhost.localdomain"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def is_loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return reaches_this_machine(host)


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


#: why a target outside loopback is refused (unless any target is allowed)
NOT_LOOPBACK = "not a loopback address"


def refusal(url: str, *, any_target: bool, own_ports: Collection[int]) -> str | None:
    """Why ``url`` may not be a target, or None when it may; ``own_ports``: the emulator's."""
    if not (any_target or is_loopback(url)):
        return NOT_LOOPBACK
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if (is_loopback(url) and port in own_ports) or _names_control_plane(parts.path):
        return "the emulator's own address"
    return None
