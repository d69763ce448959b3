import base64
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from emulator.core import excerpts
from emulator.core.excerpts import excerpt, json_excerpt


def test_text_within_the_limit_is_shown_whole() -> None:
    assert excerpt("a" * 10, 10) == "a" * 10


def test_longer_text_is_cut_and_its_length_said() -> None:
    assert excerpt("abcdefghij" * 1000, 4) == "abcd… (10,000 characters)"


def _as_recorded(value: object) -> bytes:
    """The whole JSON text the request record cuts a realtime input from."""
    return json.dumps(value, default=lambda raw: base64.b64encode(raw).decode()).encode()


TEXTS = st.text(st.sampled_from('ab"\\\n\x7f\u00e9\U0001f600'))
INPUTS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXTS | st.binary(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
    max_leaves=8,
)


@given(INPUTS, st.integers(0, 40))
@example({"prompt": 'say "a\\b"', "image": b"abcdefgh"}, 3)  # each string and bytes cut
@example(["\u00e9\n\x7f\U0001f600" * 3], 2)  # escaped as six and twelve characters
def test_a_json_excerpt_is_the_start_of_the_whole_text_and_counts_all_of_it(
    value: object, limit: int
) -> None:
    whole = _as_recorded(value)
    assert json_excerpt(value, limit) == (whole[:limit], len(whole))


def test_a_long_value_is_not_written_out_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # 19 MiB of bytes, written out whole as base64, held the server's event loop 136 ms
    written: list[int] = []
    whole_dumps = json.dumps

    def dumps(value: object) -> str:
        text = whole_dumps(value)
        written.append(len(text))
        return text

    monkeypatch.setattr(excerpts.json, "dumps", dumps)
    huge = {"prompt": "p", "image": bytes(19 * 2**20), "note": "x" * 19 * 2**20}
    excerpt_, size = json_excerpt(huge, 64 * 1024)
    monkeypatch.undo()
    whole = _as_recorded(huge)
    assert excerpt_ == whole[: 64 * 1024] and size == len(whole)
    assert written == [written[0]] and written[0] < 3 * 64 * 1024
