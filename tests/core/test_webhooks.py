import http.server
import socket
import threading
import time

import pytest

from emulator.core.webhooks import WebhookSender


def test_a_delivery_that_cannot_be_built_fails_plainly() -> None:
    sender = WebhookSender()
    try:

        def broken() -> tuple[bytes, dict]:
            raise KeyError("job gone")

        delivery = sender.watch(
            "fal", "j1", "http://127.0.0.1:9/x", is_done=lambda: True, build=broken, schedule=()
        )
        assert sender.wait(5)
        assert delivery.state == "failed" and "job gone" in delivery.reason
    finally:
        sender.close()


def test_an_unreachable_receiver_is_retried_then_failed() -> None:
    sender = WebhookSender(time_scale=0.001)
    try:
        delivery = sender.watch(
            "wavespeed",
            "j2",
            "http://127.0.0.1:1/none",
            is_done=lambda: True,
            build=lambda: (b"{}", {}),
            schedule=(1.0, 2.0),
        )
        assert sender.wait(10)
        assert delivery.state == "failed" and len(delivery.attempts) == 3
        assert all(a.status is None and a.error for a in delivery.attempts)
    finally:
        sender.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8123/hook",
        "http://localhost:8123/",
        "http://127.0.0.1:9/_emulator/reset",
        # another emulator's control plane, encoded once or twice (a newcomer's review)
        "http://127.0.0.1:9/%5Femulator/reset",
        "http://127.0.0.1:9/%255Femulator/reset",
        "http://127.0.0.1:9/x/../_emulator/reset",
    ],
)
def test_the_emulator_itself_is_never_a_target(url: str) -> None:
    sender = WebhookSender()
    sender.own_ports.add(8123)
    try:
        delivery = sender.watch(
            "fal", "j", url, is_done=lambda: True, build=lambda: (b"{}", {}), schedule=()
        )
        assert (delivery.state, delivery.reason) == ("refused", "the emulator's own address")
    finally:
        sender.close()


def test_a_refused_target_is_said_where_the_operator_reads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its job was accepted (200): the refusal is logged, beside /_emulator/webhooks."""
    sender = WebhookSender()
    try:
        with caplog.at_level("WARNING", logger="emulator.webhooks"):
            sender.watch(
                "fal",
                "j",
                "https://hooks.example.com/x",
                is_done=lambda: True,
                build=lambda: (b"{}", {}),
                schedule=(),
            )
    finally:
        sender.close()
    assert caplog.messages == [
        "fal webhook to https://hooks.example.com/x refused: not a loopback address"
        " (--webhook-targets any allows it)"
    ]


def test_a_refused_targets_long_url_is_logged_cut_short(caplog: pytest.LogCaptureFixture) -> None:
    # a 5,000-character URL was written whole to the server's log
    url = "https://hooks.example.com/" + "a" * 5000
    sender = WebhookSender()
    try:
        with caplog.at_level("WARNING", logger="emulator.webhooks"):
            delivery = sender.watch(
                "fal", "j", url, is_done=lambda: True, build=lambda: (b"{}", {}), schedule=()
            )
    finally:
        sender.close()
    assert delivery.url == url  # /_emulator/webhooks keeps it whole
    [message] = caplog.messages
    assert message.startswith("fal webhook to https://hooks.example.com/aaa")
    assert message.endswith(
        "… (5,026 characters) refused: not a loopback address (--webhook-targets any allows it)"
    )
    assert len(message) < 400  # a few hundred characters, not the whole URL


class _Receivers:
    """Loopback receivers: silent ones (accept, never answer) and one that answers 200."""

    def __init__(self) -> None:
        self.silent = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.answered: list[bytes] = []
        handler = self._handler()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type:
        answered = self.answered

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                answered.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def url(self, silent: bool) -> str:
        port = (self.silent if silent else self.server.socket).getsockname()[1]
        return f"http://127.0.0.1:{port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.silent.close()


def test_one_keys_silent_receivers_do_not_hold_up_anothers_delivery() -> None:
    receivers = _Receivers()
    sender = WebhookSender(timeout=30)
    try:
        stuck = [
            sender.watch(
                "fal",
                f"slow{n}",
                receivers.url(silent=True),
                is_done=lambda: True,
                build=lambda: (b"slow", {}),
                schedule=(),
                owner="flood",
            )  # fmt: skip
            for n in range(6)
        ]
        prompt = sender.watch(
            "fal", "quick", receivers.url(silent=False), is_done=lambda: True,
            build=lambda: (b"quick", {}), schedule=(), owner="quiet",
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while prompt.state != "delivered" and time.monotonic() < deadline:
            time.sleep(0.02)
        # The quiet key's delivery arrived while every one of the flood's still waits on
        # its silent receiver (whose timeout, 30 s, has not passed).
        assert prompt.state == "delivered" and receivers.answered == [b"quick"]
        assert all(d.state == "pending" and not d.attempts for d in stuck)
    finally:
        sender.close()
        receivers.close()


def test_the_listing_keeps_the_newest_deliveries(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.core import webhooks

    monkeypatch.setattr(webhooks, "MAX_LISTED", 10)
    sender = WebhookSender()
    try:
        for n in range(30):
            sender.watch(
                "fal", f"j{n}", "http://10.0.0.1/", is_done=lambda: False,
                build=lambda: (b"{}", {}), schedule=(),
            )  # fmt: skip
        listed = [delivery.job_id for delivery in sender.deliveries]
        assert 10 <= len(listed) <= 11  # trimmed to 10 whenever it passes 11
        assert listed == [f"j{n}" for n in range(30 - len(listed), 30)]  # the newest
    finally:
        sender.close()
