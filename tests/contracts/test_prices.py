import pytest

from emulator.contracts.prices import Price, units

PER_IMAGE = Price(0.01, "image", "a test")


@pytest.mark.parametrize(("asked", "images"), [(3, 3), (3.0, 3), (2.5, 2), (0, 1), ("x", 1)])
def test_a_run_is_priced_for_the_images_it_makes(asked: object, images: int) -> None:
    # as synthesis counts them (`output_count`): 2.5 makes two, so it is two images' price
    assert units(PER_IMAGE, {"num_images": asked}) == images
