import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from emulator.http.hosts import KNOWN_HOSTS, ProviderHosts, public_base
from emulator.providers.registry import CANONICAL_HOSTS, HOST_SURFACES


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"path": request.url.path, "cdn": public_base(request, "fal/cdn")})


HOSTS = ProviderHosts(canonical=CANONICAL_HOSTS, surfaces=HOST_SURFACES)
ECHO = Starlette(routes=[Route("/{path:path}", echo)])


async def APP(scope: Scope, receive: Receive, send: Send) -> None:  # noqa: N802
    if scope["type"] == "http":
        HOSTS.route(scope)
    await ECHO(scope, receive, send)


@pytest.mark.parametrize(
    ("base_url", "path", "cdn"),
    [
        ("https://queue.fal.run", "/fal/queue/a/b", "https://v3.fal.media"),
        ("https://fal.run", "/fal/run/a/b", "https://v3.fal.media"),
        ("https://rest.alpha.fal.ai", "/fal/rest/a/b", "https://v3.fal.media"),
        ("https://api.wavespeed.ai", "/wavespeed/a/b", "https://v3.fal.media"),
        ("http://127.0.0.1:8000", "/a/b", "http://127.0.0.1:8000/fal/cdn"),
    ],
)
def test_provider_hosts_map_onto_surfaces(base_url: str, path: str, cdn: str) -> None:
    with TestClient(APP, base_url=base_url) as client:
        assert client.get("/a/b").json() == {"path": path, "cdn": cdn}


def test_the_apps_root_path_is_kept_in_public_urls() -> None:
    with TestClient(APP, base_url="http://host:1", root_path="/emu") as client:
        assert client.get("/x").json()["cdn"] == "http://host:1/emu/fal/cdn"


@pytest.mark.parametrize("host", ['a b"<>', "evil.example/x?", "[zz", "h:99999999"])
def test_a_malformed_host_is_not_copied_into_urls(host: str) -> None:
    with TestClient(APP, base_url="http://127.0.0.1:8000") as client:
        cdn = client.get("/x", headers={"Host": host}).json()["cdn"]
    assert cdn == "http://127.0.0.1:8000/fal/cdn"  # the address the server listens on


@pytest.mark.parametrize("host", ["emulator_1:8000", "[::1]:8000", "localhost", "10.0.0.2:80"])
def test_a_well_formed_host_is_the_urls_host(host: str) -> None:
    with TestClient(APP, base_url="http://127.0.0.1:8000") as client:
        assert client.get("/x", headers={"Host": host}).json()["cdn"] == f"http://{host}/fal/cdn"


@pytest.mark.parametrize("path", ["/nowhere", "/_emulator/ui", "/_emulator/ui/requests"])
def test_the_app_answers_a_malformed_host_as_any_other(path: str) -> None:
    """Starlette's ``request.url`` cannot parse ``[zz``: a 500 with Starlette 0.46."""
    from emulator import create_app

    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as client:
        answer = client.get(path, headers={"Host": "[zz"}, follow_redirects=False)
    assert answer.status_code in (200, 303, 307, 404), answer.text


def test_a_client_making_up_hosts_is_remembered_within_bounds() -> None:
    hosts = ProviderHosts(canonical=CANONICAL_HOSTS, surfaces=HOST_SURFACES)

    def routed(host: bytes) -> str:
        scope = {"type": "http", "path": "/a", "headers": [(b"host", host)], "server": ("s", 1)}
        hosts.route(scope)
        return scope["path"]

    for n in range(3 * KNOWN_HOSTS):
        assert routed(f"made-up-{n}.example".encode()) == "/a"
        assert routed(b"[zz") == "/a"  # malformed: the server's address stands in
        assert routed(b"QUEUE.fal.run:443") == "/fal/queue/a"
        assert len(hosts._known) <= KNOWN_HOSTS
