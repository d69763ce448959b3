"""WaveSpeed's URL grammar: where the v3 API is, and which of its paths name a model."""

from __future__ import annotations

import uuid

from starlette.routing import BaseRoute, Match, Route, get_route_path
from starlette.types import Scope

from emulator.http.responses import ALL_METHODS, HandlerApp

#: where the v3 API's routes are
API = "/wavespeed/api/v3/"


def job_id_of(prediction_id: str) -> str | None:
    """The job id a prediction id in a request stands for (WaveSpeed writes the job's
    UUID without dashes, `envelopes.task_id`); None for no UUID."""
    try:
        return str(uuid.UUID(prediction_id))
    except ValueError:
        return None


class ModelRoute(Route):
    """The submit route, ``API + "{model:path}"``, for every path under `API` whose first
    segment no route in ``reserved`` starts with. Tried before those routes, it takes just
    the requests it took when tried after them all (the same route, last, takes the rest),
    and it matches without a regular expression: a submit no longer tries a dozen routes
    first (issue 17)."""

    def __init__(self, endpoint: HandlerApp, *, reserved: list[BaseRoute]) -> None:
        super().__init__(API + "{model:path}", endpoint, methods=ALL_METHODS)
        self.reserved = frozenset(
            _first_segment(route.path) for route in reserved if isinstance(route, Route)
        )

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = get_route_path(scope)
        if _first_segment(path) in self.reserved:
            return Match.NONE, {}
        if scope["type"] != "http" or not path.startswith(API) or "\n" in path:
            return super().matches(scope)  # a newline: as the pattern takes it
        # as Route.matches answers for a path its pattern takes, ``model`` the rest of it
        path_params = {**scope.get("path_params", {}), "model": path[len(API) :]}
        child_scope = {"endpoint": self.endpoint, "path_params": path_params}
        full = self.methods is None or scope["method"] in self.methods
        return (Match.FULL if full else Match.PARTIAL), child_scope


def _first_segment(path: str) -> str:
    """The first segment after `API` (up to a parameter, or a final newline, which a
    route's pattern lets through), or "" outside `API`."""
    if not path.startswith(API):
        return ""
    return path[len(API) :].partition("/")[0].partition("{")[0].removesuffix("\n")
