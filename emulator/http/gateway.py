"""The one ASGI layer in front of the routes.

Every request needs a few things before its route: a request addressed to a real provider
host goes to that host's surface (`hosts`), a browser's cross-origin call is answered or
marked as allowed (`cors`), a lost shared store answers 503 in the
provider's format (`outage`, only with a shared store), an HTTP request joins the request
record (`recorder`), and a staged exchange fault may answer instead of the route
(`exchange`). One layer does them in that order: as four middleware, each layer's own hop
cost more than its work on a status poll, the hot path (issue 17).

It then hands a request under a provider surface's prefix straight to the route that takes
it (`shortcuts`): Starlette's router would try every route before it, one regular
expression each, and its exception layer, which those routes do not need, on every request.

A route that answers some requests from memory alone (`HandlerApp.quick`: fal's status
polls) answers them before the record's and the exchange faults' layers are built, unless
an exchange fault could answer them: on a status poll, those layers and Starlette's request
and response objects cost about a quarter of the app's time. The request joins the record
all the same.

Any other request a route answers through a `HandlerApp` is recorded from what the route
tells (`HandlerApp.respond`: its status; the body it read, kept in the scope) instead of by
watching its messages, unless an exchange fault could answer it: watching cost a submit
about a tenth of the app's time in-process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.routing import BaseRoute, Match, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.http.cors import Cors
from emulator.http.exchange import ExchangeFaults
from emulator.http.hosts import ProviderHosts
from emulator.http.outage import StoreOutage
from emulator.http.prefixed import PrefixedRoutes
from emulator.http.recorder import Recorder
from emulator.http.responses import HandlerApp, Quick, QuickAnswer


class Gateway:
    """ASGI middleware: hosts, cross-origin calls, outage, record and exchange faults
    around ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: ProviderHosts,
        recorder: Recorder,
        exchange: ExchangeFaults,
        outage: StoreOutage | None = None,
        cors: Cors | None = None,
        shortcuts: Mapping[str, BaseRoute] | None = None,
    ) -> None:
        """``shortcuts``: path prefix → the route that takes HTTP requests under it."""
        self.app = app
        self.hosts = hosts
        self.recorder = recorder
        self.exchange = exchange
        self.outage = outage
        self.cors = cors
        self.shortcuts = tuple((shortcuts or {}).items())
        self.quick: tuple[tuple[str, Quick], ...] = tuple(
            (prefix, route.app.quick)
            for prefix, route in self.shortcuts
            if type(route) is Route and isinstance(route.app, HandlerApp) and route.app.quick
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":  # the lifespan
            await self.app(scope, receive, send)
            return
        self.hosts.route(scope)
        if kind == "http":
            if self.cors is not None:
                origin = self.cors.origin(scope)
                if origin is not None:
                    if await self.cors.preflight(scope, send, origin):
                        return
                    send = self.cors.sending(send, origin)
            quick = self._quick(scope) if self.quick and scope["method"] == "GET" else None
            if quick is not None:  # only ever in memory: no outage to guard against
                self.recorder.note(scope, quick.status, quick.endpoint)
                await send(
                    {
                        "type": "http.response.start",
                        "status": quick.status,
                        # a list, as Starlette sends: middleware around the app may edit it
                        "headers": list(quick.headers),
                    }
                )
                await send({"type": "http.response.body", "body": quick.body})
                return
        if self.outage is None:
            await self._answer(scope, receive, send)
        else:
            await self.outage.guard(self._answer, scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = self._target(scope)
        if type(target) is HandlerApp and self.exchange.quiet(scope["path"]):
            # The route tells its status and keeps the body it read: nothing need watch
            # the request's messages to record it, nor wait for a rule to answer it.
            entry = self.recorder.start(scope)
            response = await target.respond(scope, receive)
            if entry is not None:
                self.recorder.finish(entry, scope, response.status_code)
            await response(scope, receive, send)
            return
        receive, send = self.recorder.watch(scope, receive, send)
        await self.exchange.run(target or self.app, scope, receive, send)

    def _quick(self, scope: Scope) -> QuickAnswer | None:
        """The quick answer of the route the request's path is under, if it has one."""
        if scope.get("root_path"):  # under a root path, the router alone strips it
            return None
        path = scope["path"]
        for prefix, quick in self.quick:
            if path.startswith(prefix) and self.exchange.quiet(path):
                rest = path[len(prefix) :]
                return quick(scope, rest) if "\n" not in rest else None
        return None

    def _target(self, scope: Scope) -> ASGIApp | None:
        """The app of the shortcut route that takes the HTTP request in ``scope``, its path
        parameters set; None for the router to find (a wrong method, or no shortcut)."""
        path = scope["path"]
        # under a root path, the router alone strips it from the path it matches
        for prefix, route in () if scope.get("root_path") else self.shortcuts:
            if not path.startswith(prefix):
                continue
            if type(route) is Route:  # a catch-all: its one parameter is the rest of the path
                rest = path[len(prefix) :]
                # as its pattern ``^prefix(?P<path>.*)$`` would match: no newline
                methods = route.methods
                if (methods is None or scope["method"] in methods) and "\n" not in rest:
                    scope["path_params"] = {"path": rest}
                    return route.app
            elif isinstance(route, PrefixedRoutes):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    return route.matched_app(scope)
            return None
        return None


def shortcuts(routes: Sequence[BaseRoute]) -> dict[str, BaseRoute]:
    """The routes the gateway may hand requests to by path prefix, from an app's ``routes``
    in order: a catch-all route (``/fal/queue/{path:path}``) or a prefixed group, every
    endpoint of which answers its own errors (a `HandlerApp`: no exception layer needed),
    and under whose prefix no route before it could match (the router's first match)."""
    found: dict[str, BaseRoute] = {}
    for index, route in enumerate(routes):
        prefix = _prefix(route)
        if prefix and not any(_may_take(r, prefix) for r in routes[:index]):
            found[prefix] = route
    return found


def _may_take(route: BaseRoute, prefix: str) -> bool:
    """Whether ``route`` could match a path under ``prefix``."""
    if isinstance(route, Mount):
        head = route.path + "/"
    elif isinstance(route, PrefixedRoutes):
        head = route.prefix
    elif isinstance(route, Route | WebSocketRoute):
        head, parameter, _ = route.path.partition("{")
        if not parameter:
            return route.path.startswith(prefix)
    else:
        return True  # a kind of route not known here: it might
    return head.startswith(prefix) or prefix.startswith(head)


def _prefix(route: BaseRoute) -> str | None:
    if isinstance(route, PrefixedRoutes):
        answers = all(isinstance(getattr(r, "app", None), HandlerApp) for r in route.routes)
        return route.prefix if answers else None
    if isinstance(route, Route) and isinstance(route.app, HandlerApp):
        prefix, _, rest = route.path.partition("{")
        return prefix if rest == "path:path}" and prefix.endswith("/") else None
    return None
