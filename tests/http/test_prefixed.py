import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Match, Mount, Route
from starlette.testclient import TestClient

from emulator.http.prefixed import KNOWN_PATHS, PrefixedRoutes


def _answer(text: str):  # noqa: ANN202
    async def endpoint(_: Request) -> PlainTextResponse:
        return PlainTextResponse(text)

    return endpoint


GROUP = PrefixedRoutes(
    "/p/",
    [
        Route("/p/items/{item}", _answer("item"), methods=["GET"]),
        Route("/p/items/special", _answer("special"), methods=["POST"]),
        Route("/p/{rest:path}", _answer("rest"), methods=["GET"]),
    ],
)
CLIENT = TestClient(Starlette(routes=[GROUP, Route("/{rest:path}", _answer("outside"))]))


def test_routes_inside_are_tried_in_order() -> None:
    assert CLIENT.get("/p/items/a").text == "item"
    assert CLIENT.post("/p/items/special").text == "special"  # after a partial match
    assert CLIENT.get("/p/other/path").text == "rest"


def test_a_path_outside_the_prefix_goes_on_to_the_next_route() -> None:
    assert CLIENT.get("/q/items/a").text == "outside"


def test_a_method_no_route_takes_is_a_405_naming_the_first_partial_match() -> None:
    answer = CLIENT.put("/p/items/a")
    assert answer.status_code == 405
    assert set(answer.headers["allow"].split(", ")) == {"GET", "HEAD"}  # a set: any order


def test_routes_outside_the_prefix_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        PrefixedRoutes("/p/", [Route("/q", _answer("q"))])


def test_a_route_without_parameters_matches_as_its_pattern_does() -> None:
    literal = Route("/p/exact", _answer("exact"))
    group = PrefixedRoutes("/p/", [literal])
    for path in ("/p/exact", "/p/exact\n", "/p/exactly", "/p/exac"):
        scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
        assert group.matches(scope)[0] == literal.matches(scope)[0], path


def _router_choice(routes: list[Route], scope: dict) -> tuple[Match, Route | None]:
    """What a Router picks: the first full match, else the first partial one."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return match, route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return (Match.PARTIAL, partial) if partial else (Match.NONE, None)


SEGMENTS = st.sampled_from(["p", "items", "special", "result", "a", "b.c", "", "\n", "%20"])


@given(segments=st.lists(SEGMENTS, max_size=5), method=st.sampled_from(["GET", "POST", "PUT"]))
@example(segments=["p", "items", "special"], method="POST")  # a GET there matches another
def test_the_group_picks_the_route_the_router_would(segments: list[str], method: str) -> None:
    # routes with parameters are passed over by their text before the first parameter
    routes = [
        Route("/p/items/{item}/result", _answer("result"), methods=["GET"]),
        Route("/p/items/{item}", _answer("item"), methods=["GET"]),
        Route("/p/items/special", _answer("special"), methods=["POST"]),
        Route("/p/b.c/{rest:path}", _answer("dotted"), methods=["GET", "POST"]),
        Route("/p/{rest:path}", _answer("rest"), methods=["GET"]),
    ]
    group = PrefixedRoutes("/p/", routes)
    scope = {"type": "http", "method": method, "path": "/" + "/".join(segments), "root_path": ""}
    expected, route = _router_choice(routes, scope)
    for _ in range(2):  # matched, then remembered
        match, child_scope = group.matches(scope)
        assert (match, child_scope.get("endpoint")) == (expected, route and route.endpoint)
        if route is not None:
            assert child_scope["path_params"] == route.matches(scope)[1]["path_params"]
        # the gateway's way in: the app of a full match, the request's scope updated, the
        # same path remembered for every method
        for other in ("GET", "POST", "PUT"):
            group.matches({**scope, "method": other})
        request_scope = dict(scope)
        app = group.taken(request_scope)
        assert app is (route.app if route is not None and expected is Match.FULL else None)
        if app is not None:
            assert request_scope["path_params"] == child_scope["path_params"]


def test_a_remembered_match_gives_each_request_parameters_of_its_own() -> None:
    scope = {"type": "http", "method": "GET", "path": "/p/items/7", "root_path": ""}
    first = GROUP.matches(scope)[1]["path_params"]
    first["item"] = "changed by a handler"
    assert GROUP.matches(scope)[1]["path_params"] == {"item": "7"}


def test_a_client_that_makes_up_paths_keeps_the_remembered_matches_bounded() -> None:
    group = PrefixedRoutes("/p/", [Route("/p/{rest:path}", _answer("rest"))])
    for n in range(3 * KNOWN_PATHS):
        scope = {"type": "http", "method": "GET", "path": f"/p/made-up-{n}", "root_path": ""}
        assert group.matches(scope)[1]["path_params"] == {"rest": f"made-up-{n}"}
        assert len(group._known) <= KNOWN_PATHS


def test_routes_that_match_by_more_than_the_path_are_asked_every_time() -> None:
    group = PrefixedRoutes("/p/", [Mount("/p/m", routes=[Route("/x", _answer("x"))])])
    for root_path in ("", "/under"):
        scope = {"type": "http", "method": "GET", "path": "/p/m/x", "root_path": root_path}
        group.matches(scope)
    assert not group._known
