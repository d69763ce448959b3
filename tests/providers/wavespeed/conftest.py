from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from emulator import Engine, create_app


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """The app in-process, authenticated for WaveSpeed as key ``k1``."""
    with TestClient(
        create_app(engine=engine), headers={"Authorization": "Bearer k1"}
    ) as test_client:
        yield test_client
