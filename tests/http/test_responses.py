import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.http.responses import encode_json

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(JSON)
def test_answers_are_encoded_as_the_standard_encoder_does(value: object) -> None:
    assert encode_json(value) == json.dumps(value, separators=(",", ":")).encode()


def test_what_json_cannot_carry_is_refused_as_by_the_standard_encoder() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode_json({"a": object()})
