"""How many requests each key holds open."""

import pytest

from emulator.core.holds import Holds, TooManyHeld


def test_a_key_holds_up_to_its_limit_and_others_are_apart() -> None:
    holds = Holds()
    with holds.held("a", 2), holds.held("a", 2):
        with pytest.raises(TooManyHeld):
            holds.take("a", 2)
        with holds.held("b", 2):  # another key is counted apart
            assert (holds.of("a"), holds.of("b")) == (2, 1)
    assert holds.of("a") == 0
