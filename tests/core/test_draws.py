import hashlib
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.core.draws import Draws, salt_for, uuid4_text


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


class Reference:
    """The draws as the 512-bit digest read as one integer, taken from its top."""

    def __init__(self, key: str) -> None:
        digest = hashlib.blake2b(key.encode(), digest_size=64).digest()
        self.bits, self.left = int.from_bytes(digest, "big"), 512

    def take(self, count: int) -> int:
        self.left -= count
        return (self.bits >> self.left) & ((1 << count) - 1)


@given(st.text(max_size=20), st.lists(st.integers(1, 128), max_size=8), st.booleans())
def test_draws_are_the_digests_bits_in_order(key: str, counts: list[int], id_last: bool) -> None:
    draws, reference = Draws(key), Reference(key)
    if not id_last:  # a submission's id comes first, from whole bytes
        assert draws.uuid4() == uuid4_text(reference.take(128))
    for count in counts:
        if reference.left - count < 128 * id_last:
            break
        assert draws.getrandbits(count) == reference.take(count)
    if id_last:  # from wherever the draws have got to
        assert draws.uuid4() == uuid4_text(reference.take(128))


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


@pytest.mark.parametrize("given", [0, 42, 42.0, 2**40])
def test_the_seed_an_input_asks_for_is_kept(given: float) -> None:
    assert Draws("k").seed({"seed": given}) == int(given)


@pytest.mark.parametrize(
    "payload", [{}, {"seed": -1}, {"seed": 1.5}, {"seed": "7"}, {"seed": True}, []]
)
def test_without_a_usable_seed_one_is_drawn(payload: object) -> None:
    drawn = Draws("k").randrange(0, 2**31 - 1)
    assert Draws("k").seed(payload) == drawn


def test_a_seed_is_its_own_salt_and_no_seed_a_fresh_one() -> None:
    assert salt_for(7) == salt_for(7) == "7"
    assert salt_for(None) != salt_for(None)
