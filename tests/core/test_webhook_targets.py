"""Which URLs a webhook may be delivered to."""

import pytest

from emulator.core.webhook_targets import is_loopback, is_webhook_url, refusal


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


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:9/hook", None),
        ("http://127.0.0.1:8000/hook", "the emulator's own address"),  # its own port
        ("http://127.0.0.1:9/%255Femulator/reset", "the emulator's own address"),
        ("https://example.com/hook", "not a loopback address"),
    ],
)
def test_a_target_is_refused_when_it_leaves_the_machine_or_reaches_the_emulator(
    url: str, why: str | None
) -> None:
    assert refusal(url, any_target=False, own_ports={8000}) == why
    assert refusal("https://example.com/hook", any_target=True, own_ports={8000}) is None


@pytest.mark.parametrize(
    ("url", "postable"),
    [
        ("http://h/x", True),
        ("https://h:1/", True),
        ("http://h/%C3%BC", True),
        ("ftp://h/", False),
        ("http://h:x/", False),
        ("http://h/\ud800", False),  # no request line can carry it: never deliverable
        ("http://h/ü", False),
    ],
)
def test_only_http_urls_with_a_host_are_webhook_urls(url: str, postable: bool) -> None:
    assert is_webhook_url(url) is postable


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "127.1", "2130706433", "[::ffff:127.0.0.1]", "[::]", "LOCALHOST."]
)
def test_every_spelling_of_this_machine_is_the_emulator_on_its_own_port(host: str) -> None:
    """With --webhook-targets any, these reached the emulator itself: only 127.0.0.1 was
    known for this machine."""
    url = f"http://{host}:8000/fal/queue/fal-ai/x/hook"
    assert refusal(url, any_target=True, own_ports={8000}) == "the emulator's own address"
    assert is_loopback(url)


def test_a_server_on_the_unspecified_address_listens_beyond_loopback() -> None:
    from emulator.core.webhook_targets import is_loopback_host

    assert is_loopback_host("127.0.0.1") and not is_loopback_host("0.0.0.0")
