"""Headless Chromium (Debian's, driven by Playwright) against a served emulator.

One browser per test session, a fresh context (cookies, storage) per test; every wait is
bounded. Screenshots go to ``$PROVIDER_EMULATOR_ARTIFACTS`` (default ``artifacts/``), which
CI keeps; docs/images/dashboard/ holds copies for the documentation.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import fal_client
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from wavespeed import Client

from emulator import EmulatorConfig
from emulator.clients import patch_fal_client
from emulator.server import BackgroundServer

from ..conftest import FAST

ROOT = Path(__file__).parents[2]
ARTIFACTS = Path(os.environ.get("PROVIDER_EMULATOR_ARTIFACTS", ROOT / "artifacts")) / "screenshots"
#: the longest any one browser action or wait may take, in milliseconds
WAIT_MS = 15_000


def chromium() -> str:
    found = os.environ.get("PROVIDER_EMULATOR_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("Chromium is not installed: run .ci/system-packages (bash .ci/run does)")
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium(), headless=True, timeout=WAIT_MS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def server(serve: Callable[..., BackgroundServer]) -> BackgroundServer:
    return serve(EmulatorConfig(progression=FAST, seed=7))


@pytest.fixture
def fal(server: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The real ``fal_client``, sending to ``server``."""
    monkeypatch.setenv("FAL_KEY", "browser-fal-key")
    with patch_fal_client(server.url):
        yield fal_client


@pytest.fixture
def wavespeed(server: BackgroundServer) -> Client:
    """The real WaveSpeed SDK, sending to ``server``."""
    return Client(api_key="browser-ws-key", base_url=server.url + "/wavespeed")


@pytest.fixture
def screenshot(page: Page) -> Callable[[str], Path]:
    def take(name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
