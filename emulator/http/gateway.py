"""The layers in front of the routes: the `Gateway` before Starlette's error layer, the
`Relay` behind it.

Every request needs a few things before its route: a request addressed to a real provider
host goes to that host's surface (`hosts`), a browser's cross-origin call is answered or
marked as allowed (`cors`), a lost shared store answers 503 in the provider's format
(`outage`, only with a shared store), an HTTP request joins the request record
(`recorder`), and a staged exchange fault may answer instead of the route (`exchange`). As
four middleware, each layer's own hop cost more than its work on a status poll, the hot
path (issue 17), so two layers do them.

The `Gateway` routes hosts and cross-origin calls, then answers what it can from memory, in
front of Starlette's error layer: when no exchange rule could answer the request (so in
memory: a shared book's rules are read per request), a request under a provider surface's
prefix goes straight to the route that takes it (`shortcuts`), if that route answers its
own errors (a `HandlerApp`). A route that answers some requests from memory alone
(`HandlerApp.quick`: fal's status polls) answers them without even Starlette's request and
response objects. Such a request is recorded from what the route tells (`HandlerApp.respond`:
its status; the body it read, kept in the scope) instead of by watching its messages.
Starlette's error layer wraps the sending of every answer it guards, to see whether it has
started: 5 % of a status poll's instructions, 3 % of a submit's. The gateway answers an
error its route did not answer as that layer would, from what it knows of its own answer.

Anything else goes through Starlette's layers: its error layer, then the `Relay`, which
guards against a lost store, watches the request's messages for the record, lets an
exchange fault answer first, and then hands it to its shortcut route or to the router.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import NoReturn

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.core.record import RawEntry
from emulator.http.cors import Cors
from emulator.http.exchange import ExchangeFaults
from emulator.http.hosts import ProviderHosts
from emulator.http.outage import StoreOutage
from emulator.http.prefixed import PrefixedRoutes
from emulator.http.recorder import Recorder
from emulator.http.responses import HandlerApp, Quick, QuickAnswer

#: the app's answer to an error no route answered (as Starlette's handler for `Exception`)
Unexpected = Callable[[Request, Exception], Awaitable[Response]]


class Gateway:
    """ASGI middleware in front of Starlette's error layer: hosts and cross-origin calls,
    then the requests a `HandlerApp` answers, in memory; the rest to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: ProviderHosts,
        recorder: Recorder,
        exchange: ExchangeFaults,
        cors: Cors | None = None,
        shortcuts: Mapping[str, BaseRoute] | None = None,
        unexpected: Unexpected | None = None,
    ) -> None:
        """``shortcuts``: path prefix → the route that takes HTTP requests under it (no
        prefix starting another);
        ``unexpected``: the answer to an error its route did not answer (Starlette's plain
        500 if not given)."""
        self.app = app
        self.hosts = hosts
        self.recorder = recorder
        self.exchange = exchange
        self.cors = cors
        self.shortcuts = _by_length(shortcuts or {})
        self.unexpected = unexpected
        self.quick: tuple[tuple[str, Quick], ...] = tuple(
            (prefix, route.app.quick)
            for prefix, route in (shortcuts or {}).items()
            if type(route) is Route and isinstance(route.app, HandlerApp) and route.app.quick
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            self.hosts.route(scope)
        elif kind == "http":
            self.hosts.route(scope)
            if self.cors is not None:
                origin = self.cors.origin(scope)
                if origin is not None:
                    if await self.cors.preflight(scope, send, origin):
                        return
                    send = self.cors.sending(send, origin)
            # In memory, no exchange rule could answer first; under a root path, the router
            # alone strips it from the path it matches. One frame for the hot paths: a
            # coroutine more is about 1,000 instructions, 1 % of a status poll.
            if self.exchange.quiet(scope["path"]) and not scope.get("root_path"):
                try:
                    quick = self._quick(scope) if scope["method"] == "GET" else None
                except Exception as error:
                    await self._failed(scope, receive, send, error)
                if quick is not None:
                    self.recorder.note(scope, quick.status, quick.endpoint)
                    headers = list(quick.headers)  # a list, as Starlette sends: others edit it
                    await send(
                        {"type": "http.response.start", "status": quick.status, "headers": headers}
                    )
                    await send({"type": "http.response.body", "body": quick.body})
                    return
                target = _target(self.shortcuts, scope)
                if type(target) is HandlerApp:
                    entry = self.recorder.start(scope)
                    try:
                        response = await target.respond(scope, receive)
                    except Exception as error:
                        await self._failed(scope, receive, send, error, entry)
                    if entry is not None:
                        self.recorder.finish(entry, scope, response.status_code)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _quick(self, scope: Scope) -> QuickAnswer | None:
        """The quick answer of the route the request's path is under, if it has one."""
        path = scope["path"]
        for prefix, quick in self.quick:
            if path.startswith(prefix):
                rest = path[len(prefix) :]
                return quick(scope, rest) if "\n" not in rest else None
        return None

    async def _failed(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        error: Exception,
        entry: RawEntry | None = None,
    ) -> NoReturn:
        """Answer ``error``, raised before its answer started, as Starlette's error layer
        would (the app's answer to it, then ``error`` again, for the server to log), and
        record that answer: in ``entry``, if the request's was started."""
        request = Request(scope, receive)
        if self.unexpected is None:
            response: Response = PlainTextResponse("Internal Server Error", 500)
        else:
            response = await self.unexpected(request, error)
        if entry is None:
            entry = self.recorder.start(scope)
        if entry is not None:
            self.recorder.finish(entry, scope, response.status_code)
        await response(scope, receive, send)
        raise error


class Relay:
    """ASGI middleware behind Starlette's error layer, for what the `Gateway` did not
    answer: outage, record and exchange faults around the shortcut route, or ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        recorder: Recorder,
        exchange: ExchangeFaults,
        outage: StoreOutage | None = None,
        shortcuts: Mapping[str, BaseRoute] | None = None,
    ) -> None:
        self.app = app
        self.recorder = recorder
        self.exchange = exchange
        self.outage = outage
        self.shortcuts = _by_length(shortcuts or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":  # the lifespan
            await self.app(scope, receive, send)
        elif self.outage is None:
            await self._relay(scope, receive, send)
        else:
            await self.outage.guard(self._relay, scope, receive, send)

    async def _relay(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = _target(self.shortcuts, scope)
        receive, send = self.recorder.watch(scope, receive, send)
        await self.exchange.run(target or self.app, scope, receive, send)


#: shortcut routes by prefix, grouped by the prefix's length (`_by_length`)
ByLength = tuple[tuple[int, dict[str, BaseRoute]], ...]


def _by_length(shortcuts: Mapping[str, BaseRoute]) -> ByLength:
    """``shortcuts`` grouped by the length of their prefix, the lengths in the order their
    first prefix comes. No prefix may start another (`shortcuts` takes none an earlier
    route could shadow): a path is then under one at most, found by looking its start up
    once per length rather than comparing it with each prefix in turn (issue 17: a
    WaveSpeed submit, whose prefix came after fal's four, compared those first: 3,600
    instructions)."""
    overlapping = [(a, b) for a in shortcuts for b in shortcuts if a != b and b.startswith(a)]
    if overlapping:
        raise ValueError(f"shortcut prefixes that start others: {overlapping}")
    lengths = dict.fromkeys(len(prefix) for prefix in shortcuts)
    return tuple(
        (length, {prefix: route for prefix, route in shortcuts.items() if len(prefix) == length})
        for length in lengths
    )


def _target(shortcuts: ByLength, scope: Scope) -> ASGIApp | None:
    """The app of the shortcut route that takes the HTTP request in ``scope``, its path
    parameters set; None for the router to find (a wrong method, or no shortcut)."""
    path = scope["path"]
    # under a root path, the router alone strips it from the path it matches
    for length, routes in () if scope.get("root_path") else shortcuts:
        route = routes.get(path[:length])
        if route is None:
            continue
        if type(route) is Route:  # a catch-all: its one parameter is the rest of the path
            rest = path[length:]
            # as its pattern ``^prefix(?P<path>.*)$`` would match: no newline
            methods = route.methods
            if (methods is None or scope["method"] in methods) and "\n" not in rest:
                scope["path_params"] = {"path": rest}
                return route.app
        elif isinstance(route, PrefixedRoutes):
            return route.taken(scope)
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
