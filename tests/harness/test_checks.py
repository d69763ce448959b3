"""What the harness reads out of a client's output."""

from emulator.harness.checks import media_urls


def test_media_urls_are_the_cdn_urls_and_text_that_is_no_url_is_skipped() -> None:
    output = {
        "images": [{"url": "https://v3.fal.media/files/emulator/a.png"}],
        "note": "http://[",  # urlsplit refuses it: a client may return any text
        "other": "https://example.com/b.png",
    }
    assert [url for url, _ in media_urls(output)] == ["https://v3.fal.media/files/emulator/a.png"]
