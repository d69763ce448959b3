import math

import pytest

from emulator.contracts.prices import Price, number, units

PER_IMAGE = Price(0.01, "image", "a test")


@pytest.mark.parametrize(("asked", "images"), [(3, 3), (3.0, 3), (2.5, 2), (0, 1), ("x", 1)])
def test_a_run_is_priced_for_the_images_it_makes(asked: object, images: int) -> None:
    # as synthesis counts them (`output_count`): 2.5 makes two, so it is two images' price
    assert units(PER_IMAGE, {"num_images": asked}) == images


def test_a_whole_number_past_a_floats_range_is_infinitely_many_not_an_error() -> None:
    # an unbounded field of a user's contract: an OverflowError was a 500
    assert number(10**400, 1) == math.inf and number(-(10**400), 1) == 0
    assert units(Price(0.1, "second", "a test"), {"duration": 10**400}) == math.inf
