import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Match, Route
from starlette.testclient import TestClient

from emulator.http.prefixed import PrefixedRoutes


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
    match, child_scope = group.matches(scope)
    expected, route = _router_choice(routes, scope)
    assert (match, child_scope.get("endpoint")) == (expected, route and route.endpoint)
