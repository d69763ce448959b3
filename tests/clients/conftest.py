from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import fal_client
import pytest

from emulator.clients import patch_fal_client
from emulator.server import BackgroundServer


@pytest.fixture
def fal(server: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The real, unmodified ``fal_client`` module, talking to ``server``."""
    monkeypatch.setenv("FAL_KEY", "client-key")
    with patch_fal_client(server.url):
        yield fal_client
