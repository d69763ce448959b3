import pytest

from emulator.contracts.upscales import upscale_factor

MAX = 4096 * 4096


@pytest.mark.parametrize(
    ("endpoint_id", "inputs", "size", "factor"),
    [
        ("fal-ai/esrgan", {"scale": 4}, (640, 480), 4.0),
        ("clarityai/crystal-upscaler", {"scale_factor": 4}, (640, 480), 4.0),
        ("fal-ai/bytedance-upscaler/upscale/video", {"scale_ratio": 3}, (640, 480), 3.0),
        ("fal-ai/esrgan", {"scale": 100}, (640, 480), 1.0),  # beyond any upscaler's
        # past a float's range (an unbounded catalogue field takes it): no factor, no 500
        ("fal-ai/ccsr", {"scale": 10**400}, (640, 480), 1.0),
        # bria's video upscaler names its factor as text ("2" or "4")
        ("bria/video/increase-resolution", {"desired_increase": "4"}, (320, 240), 4.0),
        ("bria/video/increase-resolution", {"desired_increase": "2"}, (320, 240), 2.0),
        # seedvr's target mode: the target's short side over the input's
        (
            "fal-ai/seedvr/upscale/image",
            {"upscale_mode": "target", "target_resolution": "1080p", "upscale_factor": 2},
            (640, 480),
            1080 / 480,
        ),
        ("fal-ai/seedvr/upscale/image", {"upscale_mode": "factor", "upscale_factor": 3,
                                          "target_resolution": "1080p"}, (640, 480), 3.0),
        # bytedance's target resolution, unless its scale_ratio is set
        ("fal-ai/bytedance-upscaler/upscale/video", {"target_resolution": "4k"}, (320, 240), 9.0),
        # an upscaler that names no factor: 2, a guess, within the pixel bound
        ("fal-ai/recraft/upscale/crisp", {}, (640, 480), 2.0),
        ("fal-ai/ideogram/upscale", {}, (4096, 2048), 2**0.5),
        ("fal-ai/recraft/upscale/crisp", {}, (4096, 4096), 1.0),
        # not an upscaler
        ("fal-ai/fooocus/upscale-or-vary", {}, (640, 480), 1.0),
        ("fal-ai/flux-kontext/dev", {}, (640, 480), 1.0),
    ],
)  # fmt: skip
def test_the_factor_an_upscaler_asks_or_implies(
    endpoint_id: str, inputs: dict, size: tuple[int, int], factor: float
) -> None:
    assert upscale_factor(endpoint_id, inputs, size, MAX) == pytest.approx(factor)
