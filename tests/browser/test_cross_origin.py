"""A web app on its own origin (a dev server's) calling the emulator from a real browser,
as ``@fal-ai/client`` does: straight to the queue, and through the proxy; and what no
other site's page may do: reset the emulator, or read its control plane through a host
name re-bound to loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Browser, Page

from emulator.server import BackgroundServer

from .conftest import WAIT_MS, chromium


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b"<!doctype html><title>app</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app() -> Iterator[str]:
    """A web app's dev server: another loopback origin (a browser lets a page reach the
    loopback address space only from there), serving a blank page."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


CALLS = """async (base) => {
  const headers = {Authorization: "Key browser", "Content-Type": "application/json"};
  const submitted = await fetch(base + "/fal/queue/fal-ai/bitdance",
    {method: "POST", headers, body: JSON.stringify({prompt: "a cat"})});
  const job = await submitted.json();
  const proxied = await fetch(base + "/fal/proxy", {method: "POST",
    headers: {...headers, "x-fal-target-url": "https://fal.run/fal-ai/bitdance"},
    body: JSON.stringify({prompt: "a dog"})});
  const output = await proxied.json();
  return {
    named: submitted.headers.get("x-fal-request-id") === job.request_id,
    status: job.status,
    image: output.images[0].url,
  };
}"""


def test_a_web_app_on_another_origin_calls_the_queue_and_the_proxy(
    server: BackgroundServer, page: Page, app: str
) -> None:
    page.goto(app)
    answered = page.evaluate(CALLS, server.url)
    assert answered["named"] and answered["status"] == "IN_QUEUE"
    assert answered["image"].startswith(server.url)


FORGED_RESET = """async (base) => {
  // What any page may send without the browser's leave: a "simple" POST, its answer opaque.
  await fetch(base + "/_emulator/reset", {method: "POST", mode: "no-cors"});
}"""


def test_a_page_of_another_origin_cannot_reset_the_emulator(
    server: BackgroundServer, page: Page, app: str
) -> None:
    submitted = httpx.post(
        server.url + "/fal/queue/fal-ai/bitdance",
        json={"prompt": "kept"},
        headers={"Authorization": "Key browser"},
        timeout=10,
    )
    assert submitted.status_code == 200
    page.goto(app)
    page.evaluate(FORGED_RESET, server.url)
    assert len(httpx.get(server.url + "/_emulator/jobs", timeout=10).json()) == 1


def test_a_host_name_re_bound_to_loopback_reaches_no_dashboard(
    server: BackgroundServer, browser: Browser
) -> None:
    """DNS rebinding, with a Chromium that resolves an outside name to the emulator's
    address: the page is then of the same origin as the dashboard and the control plane."""
    port = server.url.rsplit(":", 1)[1]
    rebound = browser.browser_type.launch(
        executable_path=chromium(),
        headless=True,
        timeout=WAIT_MS,
        args=["--host-resolver-rules=MAP rebind.example 127.0.0.1"],
    )
    try:
        page = rebound.new_page()
        page.set_default_timeout(WAIT_MS)
        shown = page.goto(f"http://rebind.example:{port}/_emulator/ui/jobs")
        assert shown is not None and shown.status == 403
        assert page.evaluate("async () => (await fetch('/_emulator/jobs')).status") == 403
        # the same page, by this machine's own name, is the dashboard
        assert page.goto(f"http://localhost:{port}/_emulator/ui/jobs").status == 200
    finally:
        rebound.close()
