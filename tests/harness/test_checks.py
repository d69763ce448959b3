"""What the harness reads out of a client's output."""

import httpx
import pytest

from emulator.harness.checks import error_text, kept_bodies, media_urls


def test_media_urls_are_the_cdn_urls_and_text_that_is_no_url_is_skipped() -> None:
    output = {
        "images": [{"url": "https://v3.fal.media/files/emulator/a.png"}],
        "note": "http://[",  # urlsplit refuses it: a client may return any text
        "other": "https://example.com/b.png",
    }
    assert [url for url, _ in media_urls(output)] == ["https://v3.fal.media/files/emulator/a.png"]


def _raised(how: str) -> BaseException:
    """A RuntimeError raised while handling a ValueError that names the field, ``how`` it
    was chained."""
    try:
        try:
            raise ValueError("prompt: field required")
        except ValueError as refusal:
            if how == "from None":
                raise RuntimeError("generation failed") from None
            if how == "from":
                raise RuntimeError("generation failed") from refusal
            raise RuntimeError("generation failed")  # noqa: B904 (the implicit chain)
    except RuntimeError as error:
        return error
    raise AssertionError("unreachable")


@pytest.mark.parametrize(("how", "shown"), [("from None", False), ("from", True), ("", True)])
def test_an_error_raised_from_none_hides_the_one_it_was_handling(how: str, shown: bool) -> None:
    # "raise ... from None" leaves the refusal out of the caller's message and traceback:
    # a client that hid the field so passed surfaces_validation_errors (a harness audit)
    text = error_text(_raised(how))
    assert "generation failed" in text
    assert ("prompt: field required" in text) is shown


def test_a_body_an_error_keeps_is_no_part_of_what_it_tells_its_caller() -> None:
    # httpx's raise_for_status: "Client error '400 Bad Request' for url …", the body on
    # .response; surfaces_validation_errors read it, though no message shows it (a review)
    request = httpx.Request("POST", "https://api.wavespeed.ai/api/v3/m")
    answer = httpx.Response(400, text='{"message": "Invalid parameters: size: …"}', request=request)
    try:
        answer.raise_for_status()
    except httpx.HTTPStatusError as raised:
        error = raised
    assert "size" not in error_text(error)
    assert "size" in error_text(error, with_bodies=True)  # the emulator's own refusal, sought
    assert list(kept_bodies(error)) == ["HTTPStatusError.response.text"]
