"""The requests the control plane and the dashboard refuse, whatever their credentials: a
browser's, sent by another site's page.

- **Cross-site requests** (request forgery): any page a developer visits may post to
  ``http://127.0.0.1:8000/_emulator/reset`` without a body, which needs no permission of
  the browser's. A browser names the page's origin in ``Origin`` with every POST and every
  cross-origin request, so an ``Origin`` other than the emulator's own (the request's
  ``Host``, or ``--public-url``'s) is refused. curl and the SDKs send none.
- **Re-bound host names** (DNS rebinding): a page at ``http://rebind.example:8000`` whose
  name the attacker then points at 127.0.0.1 is of the same origin as the emulator, and
  could read every job. While the control plane is open (no admin token, which a page
  never has), a ``Host`` that is a domain name other than ``localhost``'s or
  ``--public-url``'s is refused. IP addresses and single-label names (a container's name,
  Starlette's ``testserver``) cannot be re-bound by a page: only a domain the attacker owns
  can.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from emulator.config import EmulatorConfig
from emulator.http.asgi import header


def refusal(scope: Scope, config: EmulatorConfig) -> str | None:
    """Why the request in ``scope`` is refused (a 403), or None when it is not."""
    host = header(scope, b"host").lower()
    public = urlsplit(config.public_url).netloc.lower() if config.public_url else None
    origin = header(scope, b"origin")
    if origin and _netloc(origin) not in (host, public):
        return f"the control plane answers its own pages only, not a page of {origin}"
    if config.admin_token is None and not _own_name(host, public):
        return (
            f"the control plane answers {_name(host)!r} only with the admin token: it is "
            "not a name of this machine's (pass --public-url to make it one)"
        )
    return None


def _netloc(origin: str) -> str:
    """An ``Origin``'s host and port, in lower case; "" for one that is no URL (such as
    ``http://[``, an unclosed address), which no page of the emulator's sends."""
    try:
        return urlsplit(origin).netloc.lower()
    except ValueError:
        return ""


def _own_name(host: str, public: str | None) -> bool:
    name = _name(host).rstrip(".")  # "localhost." is localhost
    if public is not None and name == _name(public).rstrip("."):
        return True
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return "." not in name or name.endswith(".localhost")


def _name(host: str) -> str:
    """The host name of a Host header, without its port or an IPv6 address's brackets."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def denial(scope: Scope, config: EmulatorConfig) -> Response | None:
    """The 403 that refuses the request in ``scope`` (`refusal`), or None."""
    why = refusal(scope, config)
    return None if why is None else JSONResponse({"detail": why}, 403)
