"""A provider's routes matched as one group behind their common path prefix.

Starlette tries every route of an app in order, one regular expression each; a WaveSpeed
submit came after 21 others, about a tenth of its cost in-process. A group answers "no" to
a path outside its prefix with one string comparison, and inside it tries its routes in
their order, exactly as the app's router would. (The group's own hop costs about 1 µs: a
surface whose hot routes come first anyway, as fal's queue does, is better without one.)
It remembers what it answered for the paths it is sent most (a bounded number of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import (
    BaseRoute,
    Match,
    NoMatchFound,
    Route,
    WebSocketRoute,
    get_route_path,
)
from starlette.types import ASGIApp, Receive, Scope, Send

#: the scope key under which a group notes which of its routes matched
_MATCHED = "emulator.matched_route"
#: how many request paths a group remembers the match of, and the longest it remembers (a
#: model's path is far shorter: a client sending long made-up ones takes no more memory)
KNOWN_PATHS, KNOWN_PATH_LENGTH = 256, 512
#: read once: in Python 3.11 a member read from its Enum class costs 900 instructions
_FULL = Match.FULL


class PrefixedRoutes(BaseRoute):
    """``routes``, every one of whose paths starts with ``prefix``, as one route."""

    def __init__(self, prefix: str, routes: Sequence[BaseRoute]) -> None:
        outside = [r for r in routes if not getattr(r, "path", "").startswith(prefix)]
        if outside:
            raise ValueError(f"routes outside {prefix!r}: {outside}")
        self.prefix = prefix
        self.routes = list(routes)
        # A route without parameters matches one path (its pattern ``^path$``, where ``$``
        # also takes a final newline): compared as text, it costs no regular expression.
        paths = [
            _literal_paths(route.path)
            if isinstance(route, Route) and not route.param_convertors
            else None
            for route in self.routes
        ]
        # A route with parameters matches only paths that start with its text before the
        # first one: a path that does not is passed over without its regular expression.
        heads = [r.path.partition("{")[0] if isinstance(r, Route) else "" for r in routes]
        self._table = tuple(zip(self.routes, paths, heads, strict=True))
        #: (kind, method, path) → what `matches` answered (`KNOWN_PATHS` at most), kept
        #: when every route matches by those alone, as a `Route` or `WebSocketRoute` does (a
        #: `Host` reads a header, a `Mount` the root path; a subclass must match alike)
        self._known: dict[tuple[str, str | None, str], tuple[Match, Scope]] = {}
        self._by_path = all(isinstance(r, Route | WebSocketRoute) for r in routes)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = get_route_path(scope)
        if not path.startswith(self.prefix):
            return Match.NONE, {}
        match, child_scope = self._known_match(scope, path)
        if not child_scope:
            return match, child_scope
        # a copy: the request's scope is updated with it, and its parameters are its own
        return match, {**child_scope, "path_params": dict(child_scope["path_params"])}

    def taken(self, scope: Scope) -> ASGIApp | None:
        """What handles the HTTP request in ``scope`` when a route matches it fully (the
        matched route's app, as `Route.handle` calls it, else the route itself), the scope
        updated as the router's full match would; None otherwise. For the gateway, which
        sends only paths under the prefix and no root path: `matches` without its check of
        the prefix, its copy of the child scope or a read of ``Match.FULL`` from its class,
        4,500 instructions a WaveSpeed submit (issue 17)."""
        path = scope["path"]
        # a path matched before, looked up here (`_known_match`'s call cost 1,300
        # instructions; issue 17); what that would not remember is only ever missed here
        known = None
        if not scope.get("path_params"):
            known = self._known.get(("http", scope["method"], path))
        match, child_scope = known or self._known_match(scope, path)
        if match is not _FULL:
            return None
        scope.update(child_scope)
        scope["path_params"] = dict(child_scope["path_params"])  # the request's own
        route = child_scope[_MATCHED]
        return route.app if isinstance(route, Route) else route.handle

    def _known_match(self, scope: Scope, path: str) -> tuple[Match, Scope]:
        """`_match` of ``path`` under the prefix: remembered where it can be, and then
        shared (a caller copies what it changes)."""
        if (
            not self._by_path
            or len(path) > KNOWN_PATH_LENGTH
            or scope.get("root_path")
            or scope.get("path_params")
        ):
            return self._match(scope, path)
        # What its routes answer is then a function of the request's kind, method and path
        # alone: the few paths clients send again and again (a model's submit path) are
        # matched once (a WaveSpeed submit's match 1.9 → 1.2 µs).
        key = (scope["type"], scope.get("method"), path)
        known = self._known.get(key)
        if known is None:
            if len(self._known) >= KNOWN_PATHS:  # a client that makes up paths: start afresh
                self._known.clear()
            known = self._known[key] = self._match(scope, path)
        return known

    def _match(self, scope: Scope, path: str) -> tuple[Match, Scope]:
        partial: tuple[Match, Scope] | None = None
        # first full match, else first partial: as a Router does
        for route, paths, head in self._table:
            if not path.startswith(head) or paths is not None and path not in paths:
                continue
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                child_scope[_MATCHED] = route  # a new dict, the route's answer to this call
                return match, child_scope
            if match is Match.PARTIAL and partial is None:
                child_scope[_MATCHED] = route
                partial = match, child_scope
        return partial or (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope[_MATCHED].handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)


def _literal_paths(path: str) -> tuple[str, str]:
    return path, path + "\n"
