"""Shared fixtures. Every test is hermetic: a connection to anything but loopback fails."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, ManualClock, Progression, create_app
from emulator.server import BackgroundServer
from tests.redis_server import RedisServer, redis_server

settings.register_profile(
    "ci",
    derandomize=True,  # the same examples every run, so a failure reproduces
    deadline=None,
    max_examples=30,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "thorough", parent=settings.get_profile("ci"), derandomize=False, max_examples=300
)
# .ci/run's second environment, at the lower ends of the dependency ranges: it checks that
# the code runs there; the search for counterexamples is the main environment's
settings.register_profile("compatibility", parent=settings.get_profile("ci"), max_examples=5)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: folders of end-to-end tests (real clients, servers, property runs): marked slow, so that
#: ``pytest -m "not slow"`` is the fast inner loop (see tests/README.md)
SLOW_FOLDERS = {"clients", "properties", "parity", "browser", "scaling"}
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(TESTS).parts[0] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)


_LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: object) -> bool:
    """Whether ``host`` (a name or an address, as text or bytes) stays on this machine."""
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return True  # a Unix socket path or similar
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """Fail loudly on any attempt to reach the network beyond 127.0.0.1."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):  # type: ignore[index]
            raise OSError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if host is not None and not is_loopback(host):
            raise socket.gaierror(f"test tried to resolve a network name: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo


FAST = Progression.parse("polls:1,2")  # every state is seen once or twice, no waiting


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(clock: ManualClock) -> Engine:
    return Engine(EmulatorConfig(seed=1234, progression=FAST), clock=clock)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """The app in-process, authenticated as key ``k1``."""
    with TestClient(create_app(engine=engine), headers={"Authorization": "Key k1"}) as test_client:
        yield test_client


@pytest.fixture
def serve() -> Iterator[Callable[..., BackgroundServer]]:
    """Start emulators on loopback ports; all are stopped after the test."""
    servers: list[BackgroundServer] = []

    def start(config: EmulatorConfig | None = None, **kwargs: object) -> BackgroundServer:
        server = BackgroundServer(config or EmulatorConfig(progression=FAST), **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(serve: Callable[..., BackgroundServer]) -> BackgroundServer:
    return serve()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server of the test's own, which the test may stop and start again."""
    with redis_server(tmp_path) as server:
        yield server


@pytest.fixture
def redis_url(redis: RedisServer) -> str:
    """The URL of a real redis-server of this test's own, stopped after it."""
    return redis.url
