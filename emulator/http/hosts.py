"""Which provider surface a request is for, and the public URL of each surface.

The emulator serves every surface on one port under a path prefix (``/fal/queue/...``).
A request may instead arrive addressed to a real provider host (``Host: queue.fal.run``,
as in-process interception sends it); `ProviderHosts` maps it onto the same prefix. URLs
in responses are built for the address the client used, so they are always reachable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from starlette.requests import Request
from starlette.types import Scope

from emulator.http.asgi import header

_PROVIDER_HOST = "emulator.provider_host"  # the canonical hosts, when a real host was used
_ROOT_PATH = "emulator.root_path"  # the app's own root path, before any Mount extends it


class ProviderHosts:
    """Sends a request addressed to a real provider host to that host's surface."""

    def __init__(self, *, canonical: Mapping[str, str], surfaces: Mapping[str, str]) -> None:
        """``canonical``: surface → real host; ``surfaces``: every real host → surface."""
        self.canonical = canonical
        self.surfaces = surfaces
        #: Host header → whether it is well formed, and the surface it names: read on every
        #: request, from the few hosts a server is called by
        self._known: dict[str, tuple[bool, str | None]] = {}

    def route(self, scope: Scope) -> None:
        """Rewrite the path of an HTTP or WebSocket ``scope`` onto its host's surface; a
        missing or malformed Host header (spaces, quotes, an unclosed bracket) is replaced
        by the server's own address, as a proxy in front would, so that no URL is built
        from it (Starlette's own ``request.url`` cannot parse one)."""
        scope[_ROOT_PATH] = scope.get("root_path", "")
        host = header(scope, b"host")
        known = self._known.get(host) or self._learn(host)
        if not known[0] and scope.get("server"):
            host = "{}:{}".format(*scope["server"])
            kept = [(name, value) for name, value in scope["headers"] if name != b"host"]
            scope["headers"] = [*kept, (b"host", host.encode("latin-1"))]
            known = self._known.get(host) or self._learn(host)
        surface = known[1]
        if surface is not None:
            prefix = "/" + surface
            raw_path = scope.get("raw_path") or scope["path"].encode()
            scope["path"] = prefix + scope["path"]
            scope["raw_path"] = prefix.encode() + raw_path
            scope[_PROVIDER_HOST] = self.canonical

    def _learn(self, host: str) -> tuple[bool, str | None]:
        if len(self._known) >= KNOWN_HOSTS:  # a client that makes up hosts: start afresh
            self._known.clear()
        known = self._known[host] = (_is_host(host), self.surfaces.get(_name(host)))
        return known


#: how many Host headers `ProviderHosts` remembers
KNOWN_HOSTS = 256


def _name(host: str) -> str:
    """The host name of a Host header, in lower case (without its port)."""
    return host.rsplit(":", 1)[0].lower()


def public_base(request: Request, surface: str, public_url: str | None = None) -> str:
    """The base URL of ``surface`` as the client that sent ``request`` reaches it."""
    return scope_base(request.scope, surface, public_url)


def scope_base(scope: Scope, surface: str, public_url: str | None = None) -> str:
    """`public_base` of the request in ``scope``."""
    canonical = scope.get(_PROVIDER_HOST)
    if canonical is not None:
        return f"{scope['scheme']}://{canonical[surface]}"
    host = header(scope, b"host")  # made well-formed by `ProviderHosts.route`
    return _base(scope["scheme"], host, scope.get(_ROOT_PATH, ""), surface, public_url)


#: a Host header's value: a name or an IPv4 address, or an IPv6 one in brackets, then a port
_HOST_SYNTAX = re.compile(
    r"(?:[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?"
)


def _is_host(host: str) -> bool:
    """Whether ``host`` can stand in a URL as its host."""
    return _HOST_SYNTAX.fullmatch(host) is not None


@lru_cache(maxsize=256)
def _base(scheme: str, host: str, root_path: str, surface: str, public_url: str | None) -> str:
    # Status polls are the hot path: the few distinct answers are computed once.
    origin = public_url or f"{scheme}://{host}"
    return f"{origin.rstrip('/')}{root_path}/{surface}"
