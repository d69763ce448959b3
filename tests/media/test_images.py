import io
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image

from emulator.media import MediaSpec, images
from emulator.media.images import caption, caption_panel, render_image


def spec(**changes: object) -> MediaSpec:
    base = dict(
        kind="image", width=320, height=200, format="png", label="acme/m", prompt="a cat", seed=1
    )
    return MediaSpec(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(("fmt", "pil"), [("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")])
def test_renders_the_exact_size_and_format(fmt: str, pil: str) -> None:
    image = Image.open(io.BytesIO(render_image(spec(format=fmt, width=333, height=77))))
    assert (image.size, image.format) == ((333, 77), pil)


def test_same_spec_same_bytes_and_any_change_shows() -> None:
    assert render_image(spec()) == render_image(spec())
    for change in ({"seed": 2}, {"prompt": "a dog"}, {"index": 1}, {"label": "acme/other"}):
        assert render_image(spec(**change)) != render_image(spec()), change


@pytest.mark.parametrize("size", [(1, 1), (2, 500), (95, 47)])
def test_tiny_images_render_without_text(size: tuple[int, int]) -> None:
    image = Image.open(io.BytesIO(render_image(spec(width=size[0], height=size[1]))))
    assert image.size == size


def test_any_prompt_renders() -> None:
    for prompt in ("", "\ud800 lone surrogate", "日本語の文字", "x" * 10_000, "line\nbreaks\ttabs"):
        assert render_image(spec(prompt=prompt))


@pytest.mark.parametrize("word", ["word ", "x"])
def test_a_huge_prompt_is_wrapped_only_as_far_as_its_caption_shows(
    word: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 20 MiB prompt (a realtime frame, a run's body) was wrapped whole: 1.3 s holding the
    GIL, every other request of the server stalled. Its caption is a long prompt's."""
    wrapped: list[int] = []
    wrap = images.textwrap.wrap

    def measured(text: str, *args: Any, **kwargs: Any) -> list[str]:
        wrapped.append(len(text))
        return wrap(text, *args, **kwargs)

    monkeypatch.setattr(images.textwrap, "wrap", measured)
    for width in (320, 14142):
        huge, long = spec(width=width, prompt=word * 2**22), spec(width=width, prompt=word * 10_000)
        assert caption(huge) == caption(long)
    assert max(wrapped) < 20_000  # 14,142 wide: four lines of 1,767 columns, twice over


@pytest.mark.parametrize(("width", "height"), [(160, 160), (320, 200), (1024, 1024), (1920, 1080)])
@pytest.mark.parametrize("prompt", ["a cat", "jumpy quays, gypsy jig " * 12, "ÉÅ (Ĝ) [ǅ] {ĵ}"])
def test_the_caption_fits_its_panel_with_a_margin(width: int, height: int, prompt: str) -> None:
    """The panel's height comes from the font's metrics, not from measuring the text: no
    line, capitals, accents or descenders, comes near its edges."""
    shown = spec(width=width, height=height, prompt=prompt, label="gypsy/jumpy")
    panel = caption_panel(shown)
    assert panel is not None
    _, top, _, bottom = panel.getbbox()
    margin = max(10, min(width, height) // 28) // 2  # half the caption font size
    assert top >= margin * 3 // 4 and panel.height - bottom >= margin * 3 // 4


def test_a_cutout_is_transparent_around_its_subject_and_its_mask_is_that_shape() -> None:
    spec = MediaSpec("image", 320, 200, "png", "fal-ai/birefnet", "a cat", 1, matte="cutout")
    cutout = Image.open(io.BytesIO(render_image(spec)))
    mask = Image.open(io.BytesIO(render_image(replace(spec, matte="mask"))))
    assert (cutout.mode, mask.mode, cutout.size, mask.size) == ("RGBA", "L", (320, 200), (320, 200))
    alpha = cutout.getchannel("A")
    assert alpha.getpixel((0, 0)) == mask.getpixel((0, 0)) == 0  # the background is gone
    assert alpha.getpixel((160, 100)) == mask.getpixel((160, 100)) == 255  # the subject stays
    assert spec.digest() != replace(spec, matte="").digest()


def test_a_cutout_over_a_backdrop_has_that_colour_around_its_subject() -> None:
    spec = MediaSpec("image", 320, 200, "jpeg", "fal-ai/ben/v2/image", "a cat", 1,
                     matte="cutout", backdrop="ff0000")  # fmt: skip
    picture = Image.open(io.BytesIO(render_image(spec)))
    assert picture.mode == "RGB" and len(render_image(spec)) == spec.byte_size
    red, green, blue = picture.getpixel((4, 100))
    assert red > 220 and green < 40 and blue < 40  # around the subject: the colour asked
    assert picture.getpixel((160, 100)) != picture.getpixel((4, 100))  # the subject stays
    assert spec.digest() != replace(spec, backdrop="").digest()


def test_a_cutout_asked_as_a_gif_has_a_transparent_colour() -> None:
    # birefnet's GIF was its whole picture (an audit)
    spec = MediaSpec("image", 320, 200, "gif", "fal-ai/birefnet", "a cat", 1, matte="cutout")
    rgba = Image.open(io.BytesIO(render_image(spec))).convert("RGBA")
    assert rgba.getpixel((0, 0))[3] == 0 and rgba.getpixel((160, 100))[3] == 255
    assert len(render_image(spec)) == spec.byte_size


def _checkerboard() -> bytes:
    """A 400x200 picture of 50-pixel black and white squares, as a PNG."""
    board = Image.new("L", (8, 4))
    board.putdata([255 * ((x + y) % 2) for y in range(4) for x in range(8)])
    out = io.BytesIO()
    board.resize((400, 200), Image.Resampling.NEAREST).convert("RGB").save(out, "PNG")
    return out.getvalue()


def _grey(picture: Image.Image, at: tuple[int, int]) -> int:
    return picture.convert("L").getpixel(at)  # type: ignore[return-value]


def test_an_image_shows_its_input_picture_covering_its_size_under_its_caption() -> None:
    # edits, upscalers and removers drew a fresh gradient (an audit)
    board = _checkerboard()
    shown = spec(width=800, height=400, source="in", format="png")  # twice the board's size
    picture = Image.open(io.BytesIO(render_image(shown, {"in": board}.get)))
    assert [_grey(picture, at) for at in ((50, 50), (150, 50), (50, 150))] == [0, 255, 255]
    bottom = picture.crop((0, 300, 800, 400)).convert("L")
    assert bottom.getextrema() == (0, 255)  # the caption's strip along the foot
    assert render_image(shown, {"in": board}.get) == render_image(shown, {"in": board}.get)


def test_a_cutout_of_an_input_picture_is_that_picture_inside_its_subject() -> None:
    shown = spec(source="in", matte="cutout", width=400, height=200, label="fal-ai/birefnet")
    cutout = Image.open(io.BytesIO(render_image(shown, {"in": _checkerboard()}.get)))
    assert cutout.getpixel((2, 2))[3] == 0  # around the subject: transparent
    inside = [cutout.getpixel(at) for at in ((175, 75), (225, 75))]
    assert inside == [(0, 0, 0, 255), (255, 255, 255, 255)]  # the board's squares


@pytest.mark.parametrize("stored", [None, b"no picture at all"])
def test_an_input_picture_gone_or_unreadable_is_drawn_instead(stored: bytes | None) -> None:
    assert render_image(spec(source="in"), lambda _: stored) == render_image(spec(source="in"))
    assert render_image(spec(source="in", blank=True), lambda _: _checkerboard()) == render_image(
        spec(blank=True, source="in")
    )
