import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.core.draws import Draws, uuid4_text


def test_the_same_key_draws_the_same_and_another_key_differently() -> None:
    assert Draws("salt:1").getrandbits(128) == Draws("salt:1").getrandbits(128)
    assert Draws("salt:1").getrandbits(128) != Draws("salt:2").getrandbits(128)


def test_draws_follow_each_other_through_the_digest() -> None:
    draws = Draws("k")
    whole = Draws("k").getrandbits(192)
    assert (draws.getrandbits(128), draws.getrandbits(64)) == (whole >> 64, whole & (2**64 - 1))


@given(st.text(max_size=20), st.integers(1, 2**40), st.floats(0, 10), st.floats(0, 10))
def test_ranges_are_kept(key: str, size: int, low: float, width: float) -> None:
    draws = Draws(key)
    assert 5 <= draws.randrange(5, 5 + size) < 5 + size
    assert low <= draws.uniform(low, low + width) <= low + width


def test_a_submission_cannot_draw_more_bits_than_its_digest_holds() -> None:
    draws = Draws("k")
    draws.getrandbits(500)
    with pytest.raises(ValueError, match="512 bits"):
        draws.getrandbits(13)


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_uuid4_text_is_the_standard_librarys_version_4_uuid(bits: int) -> None:
    assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))


@pytest.mark.parametrize("bits", [0, 2**128 - 1, 1 << 76, 0xC000 << 48])
def test_uuid4_text_sets_the_version_and_variant_of_any_bits(bits: int) -> None:
    assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))


def test_a_submissions_id_is_its_next_128_bits() -> None:
    assert Draws("k").uuid4() == uuid4_text(Draws("k").getrandbits(128))
