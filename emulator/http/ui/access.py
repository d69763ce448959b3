"""Who may see the dashboard: anyone while the control plane is open (no admin token);
with one, only a caller presenting it, as ``Authorization: Bearer <token>`` (the page's
own fetches) or the ``provider_emulator_token`` cookie its token page sets (navigations,
which cannot carry a header). The token page and the static files stay open, so that the
token can be given."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from urllib.parse import unquote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.core.keys import split_authorization

COOKIE = "provider_emulator_token"
OPEN_PATHS = ("/login", "/static/")


def presented(request: Request) -> str:
    """The token a request presents: its Bearer credential, else the dashboard cookie."""
    _, credential = split_authorization(request.headers.get("authorization", ""))
    return credential or unquote(request.cookies.get(COOKIE, ""))


class AdminOnly:
    """ASGI middleware: with an admin token set, the dashboard is the administrator's."""

    def __init__(self, app: ASGIApp, *, token: Callable[[], str | None]) -> None:
        """``token()`` is the admin token in force now (read afresh: it may change)."""
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        expected = self.token()
        below = scope["path"].removeprefix(scope.get("root_path", ""))
        if expected is None or scope["type"] != "http" or below.startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        # An empty token opens nothing (an empty credential would match it).
        if expected and hmac.compare_digest(presented(request).encode(), expected.encode()):
            await self.app(scope, receive, send)
            return
        # The token page goes back to the page asked for, and says when a token was refused.
        query = scope.get("query_string", b"").decode("latin-1")
        asked = {"next": below + (f"?{query}" if query else "")}
        if presented(request):
            asked["refused"] = "1"
        login = scope.get("root_path", "") + "/login?" + urlencode(asked)
        await RedirectResponse(login, 303, {"Cache-Control": "no-store"})(scope, receive, send)
