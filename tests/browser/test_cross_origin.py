"""A web app on its own origin (a dev server's) calling the emulator from a real browser,
as ``@fal-ai/client`` does: straight to the queue, and through the proxy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page

from emulator.server import BackgroundServer


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
