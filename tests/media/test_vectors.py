import xml.etree.ElementTree as ElementTree
from dataclasses import replace

import pytest

from emulator.media import MediaSpec, MediaStore
from emulator.media.vectors import render_vector

SVG = "{http://www.w3.org/2000/svg}"
SPEC = MediaSpec("image", 640, 480, "svg", "fal-ai/recraft/v4/text-to-vector", "a fox", 1)


def _texts(svg: bytes) -> list[str]:
    return [node.text or "" for node in ElementTree.fromstring(svg).iter(f"{SVG}text")]


def test_a_vector_picture_is_an_svg_of_the_size_asked_showing_its_prompt() -> None:
    # a text-to-vector answered a PNG (an audit)
    root = ElementTree.fromstring(render_vector(SPEC))
    assert (root.tag, root.get("width"), root.get("height")) == (f"{SVG}svg", "640", "480")
    texts = _texts(render_vector(SPEC))
    assert texts[0] == "a fox" and "640x480 · seed 1" in texts[-1]
    assert root.findall(f"{SVG}circle")  # the rings of the raster picture


def test_same_spec_same_svg_and_a_seed_changes_it() -> None:
    assert render_vector(SPEC) == render_vector(SPEC)
    assert render_vector(replace(SPEC, seed=2)) != render_vector(SPEC)


@pytest.mark.parametrize("prompt", ["<b> & </b> \"'", "bell \x07 and \ud800 lone", "日本語"])
def test_any_prompt_is_well_formed_xml(prompt: str) -> None:
    texts = _texts(render_vector(replace(SPEC, prompt=prompt)))
    assert texts[0].startswith(prompt[:3])


def test_a_blank_vector_is_black_and_an_svg_file_of_no_size_is_square() -> None:
    assert not _texts(render_vector(replace(SPEC, blank=True)))
    unsized = ElementTree.fromstring(render_vector(replace(SPEC, kind="file", width=0, height=0)))
    assert (unsized.get("width"), unsized.get("height")) == ("256", "256")


def test_the_store_renders_an_svg_of_any_kind_as_a_vector() -> None:
    store = MediaStore()
    assert store.content(SPEC) == render_vector(SPEC)
    as_file = replace(SPEC, kind="file")
    assert store.content(as_file) == render_vector(as_file)
