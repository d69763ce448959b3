import pytest

from emulator.core.webhooks import WebhookSender, is_loopback


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:9/x", True),
        ("http://localhost/x", True),
        ("http://[::1]:80/", True),
        ("http://127.8.9.10/", True),
        ("https://example.com/", False),
        ("http://10.0.0.1/", False),
        ("http://192.168.1.1/", False),
        ("not a url", False),
    ],
)
def test_loopback_targets(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


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
