import pytest

from emulator.contracts.mattes import matte_of


@pytest.mark.parametrize(
    ("matte", "inputs", "clear", "expected"),
    [
        ("", {"background": "transparent"}, True, ("cutout", "")),  # gpt-image's
        ("", {"background": "transparent"}, False, ("", "")),  # a JPEG: the whole picture
        ("", {"background": "opaque"}, True, ("", "")),
        ("", {}, True, ("", "")),
        ("mask", {"background": "transparent"}, True, ("mask", "")),
        ("cutout", {}, True, ("cutout", "")),
        ("cutout", {}, False, ("", "")),
        ("cutout", {"background_color": "Orange"}, True, ("cutout", "ffa500")),
        ("cutout", {"background_type": "blur"}, True, ("", "")),
    ],
)
def test_an_outputs_matte_and_backdrop(
    matte: str, inputs: dict, clear: bool, expected: tuple[str, str]
) -> None:
    assert matte_of(matte, inputs, clear, bare="") == expected


def test_a_cutout_where_its_format_has_no_transparency_is_over_the_bare_colour() -> None:
    assert matte_of("cutout", {}, False, bare="000000") == ("cutout", "000000")
