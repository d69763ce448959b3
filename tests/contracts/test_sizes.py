import pytest

from emulator.contracts.sizes import (
    asks_frame_size,
    image_size,
    resolution_tier,
    tier_size,
    video_shape,
    within_pixels,
)


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"image_size": "portrait_16_9"}, (576, 1024)),
        ({"image_size": {"width": 10, "height": 20}}, (10, 20)),
        ({"image_size": "auto"}, (1024, 1024)),
        ({"image_size": "1536x1024"}, (1536, 1024)),  # gpt-image's sizes
        ({"image_size": "1024x1536"}, (1024, 1536)),
        ({"width": 300, "height": 200}, (300, 200)),
        ({"size": "640*480"}, (640, 480)),
        ({"size": "16:9"}, (1368, 768)),
        ({"aspect_ratio": "1:1"}, (1024, 1024)),
        ({}, (1024, 1024)),
    ],
)
def test_image_sizes(inputs: dict, expected: tuple[int, int]) -> None:
    assert image_size(inputs) == expected


def test_auto_uses_an_explicit_field_default() -> None:
    assert image_size({"image_size": "auto"}, {"width": 2048, "height": 1536}) == (2048, 1536)


@pytest.mark.parametrize(
    ("inputs", "picture", "expected"),
    [
        ({"resolution": "1K", "aspect_ratio": "16:9"}, None, (1368, 768)),  # as aspect alone
        ({"resolution": "2K", "aspect_ratio": "16:9"}, None, (2736, 1536)),
        ({"resolution": "4K", "aspect_ratio": "1:1"}, None, (4096, 4096)),
        ({"resolution": "0.5K", "aspect_ratio": "9:16"}, None, (384, 684)),
        ({"resolution": "4MP", "aspect_ratio": "3:2"}, None, (2512, 1680)),  # bria's
        ({"resolution": "2K", "aspect_ratio": "auto"}, (800, 400), (2896, 1456)),
        ({"resolution": "2K", "aspect_ratio": "auto"}, None, (2048, 2048)),
    ],
)
def test_a_resolution_tier_scales_the_aspects_megapixel(
    inputs: dict, picture: tuple | None, expected: tuple[int, int]
) -> None:
    # imagen4's 2K was its 1K, 1368x768 (an audit)
    tier = resolution_tier(inputs)
    assert tier is not None
    assert tier_size(inputs["aspect_ratio"], tier, picture) == expected


@pytest.mark.parametrize(
    "inputs",
    [
        {"resolution": "2K"},  # smart-resize's hint: no aspect for it to size
        {"resolution": "720p", "aspect_ratio": "16:9"},  # a video's
        {"aspect_ratio": "16:9"},
    ],
)
def test_only_an_image_tier_beside_an_aspect_scales_it(inputs: dict) -> None:
    assert resolution_tier(inputs) is None


def test_a_size_past_the_pixel_bound_is_scaled_down_into_it() -> None:
    assert within_pixels((5472, 3072), 4096 * 4096) == (5464, 3064)
    assert within_pixels((1024, 1024), 4096 * 4096) == (1024, 1024)


@pytest.mark.parametrize(
    ("inputs", "hints", "picture", "expected"),
    [
        (
            {"resolution": "1080p", "aspect_ratio": "16:9", "duration": "5"},
            {},
            None,
            (1920, 1080, 5.0, 24),
        ),
        ({"resolution": "480p", "aspect_ratio": "9:16"}, {}, None, (480, 854, 5.0, 24)),
        ({"aspect_ratio": "auto"}, {"resolution": "480p"}, (800, 600), (640, 480, 5.0, 24)),
        ({"aspect_ratio": "auto"}, {}, None, (1280, 720, 5.0, 24)),
        # fal's "8s" (veo, luma, kandinsky…)
        ({"duration": "8s", "resolution": "720p"}, {}, None, (1280, 720, 8.0, 24)),
        # the frame rate under wan's and ltx's names; num_frames then lasts as long at it
        ({"frames_per_second": 12, "num_frames": 48}, {}, None, (1280, 720, 4.0, 12)),
        ({"frame_rate": 30, "num_frames": 120}, {}, None, (1280, 720, 4.0, 30)),
        # hunyuan's num_frames is text, "129" (its default) or "85"
        ({"num_frames": "85", "resolution": "480p"}, {}, None, (854, 480, 85 / 24, 24)),
        ({"num_frames": "x85"}, {}, None, (1280, 720, 5.0, 24)),
        # veo's "4k", kandinsky's "768x512"
        ({"resolution": "4k", "aspect_ratio": "16:9"}, {}, None, (3840, 2160, 5.0, 24)),
        ({"resolution": "768x512", "aspect_ratio": "3:2"}, {}, None, (768, 512, 5.0, 24)),
        # ltx's and cogvideox's video_size: fal's image presets, or {width, height}
        ({"video_size": "portrait_16_9"}, {}, None, (576, 1024, 5.0, 24)),
        ({"video_size": {"width": 640, "height": 352}}, {}, None, (640, 352, 5.0, 24)),
        (
            {"video_size": {"width": 641, "height": 351}, "num_frames": 48},
            {},
            None,
            (640, 352, 2.0, 24),
        ),
        # scale-video's and controlnext's width and height; one alone keeps the
        # picture's aspect (16:9 without one)
        ({"width": 1023, "height": 777}, {}, None, (1024, 776, 5.0, 24)),
        ({"width": 512.0, "height": 768.0}, {}, (800, 600), (512, 768, 5.0, 24)),
        ({"height": 480}, {}, (800, 600), (640, 480, 5.0, 24)),
        ({"width": 640}, {}, None, (640, 360, 5.0, 24)),
        # ltx-2.3-quality's resolution is fal's image size too
        ({"resolution": "landscape_16_9"}, {}, None, (1024, 576, 5.0, 24)),
        ({"resolution": {"width": 641, "height": 481}}, {}, None, (640, 480, 5.0, 24)),
        # "auto" asks for none: the picture's shape
        ({"video_size": "auto"}, {}, (600, 600), (720, 720, 5.0, 24)),
        # no aspect field, no hint: the picture's shape (image-to-video), else 16:9
        ({}, {}, (600, 600), (720, 720, 5.0, 24)),
        ({}, {}, None, (1280, 720, 5.0, 24)),
        (
            {"duration": 8},
            {"fps": 16, "resolution": "480p", "aspect_ratio": "auto"},
            (100, 200),
            (480, 960, 8.0, 16),
        ),
    ],
)
def test_video_shapes(inputs: dict, hints: dict, picture: tuple | None, expected: tuple) -> None:
    assert video_shape(inputs, hints, picture) == expected


@pytest.mark.parametrize("size", ["²*²", "-5*5", "1024x1024", "1e3*1e3", "١٢*١٢"])
def test_sizes_that_are_not_plain_ascii_numbers_fall_back(size: str) -> None:
    assert image_size({"size": size}) == (1024, 1024)


@pytest.mark.parametrize("value", ["8k", "²p", None, "", "abc", True, "s", [5]])
def test_odd_resolutions_and_durations_fall_back(value: object) -> None:
    width, height, seconds, fps = video_shape({"resolution": value, "duration": value}, {}, None)
    assert (width, height, seconds, fps) == (1280, 720, 5.0, 24)


@pytest.mark.parametrize(
    ("inputs", "asks"),
    [
        ({"video_size": "auto", "prompt": "x"}, False),
        ({"video_size": "square"}, True),
        ({"video_size": {"width": 64, "height": 64}}, True),
        ({"aspect_ratio": "auto"}, True),  # an aspect field sizes the frame from resolution
        ({"duration": 5}, False),
    ],
)
def test_which_inputs_ask_for_a_frame_size(inputs: dict, asks: bool) -> None:
    assert asks_frame_size(inputs) is asks
