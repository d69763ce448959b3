import httpx

from emulator.server import BackgroundServer


def test_starts_on_a_free_loopback_port_and_stops() -> None:
    with BackgroundServer() as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert httpx.get(server.url + "/_emulator/health").json()["status"] == "ok"
    try:
        httpx.get(server.url + "/_emulator/health", timeout=1)
    except httpx.ConnectError:
        pass
    else:
        raise AssertionError("the server still answers after stop()")
