import asyncio
import json
import sys
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from emulator.http import bodies

# JSON values as clients send them: compact, indented, padded, or followed by more text
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda items: st.lists(items) | st.dictionaries(st.text(), items),
    max_leaves=8,
)
_TEXTS = st.one_of(
    st.text(),
    _JSON.map(lambda value: json.dumps(value, separators=(",", ":"))),
    st.tuples(
        _JSON, st.sampled_from(["", " ", "\n", "\t\r"]), st.sampled_from(["", " ", "x", "]", "1"])
    ).map(lambda drawn: drawn[1] + json.dumps(drawn[0], indent=1) + drawn[2]),
)


_ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])


@settings(max_examples=200)  # microseconds each
@example('{"a": 1}'.encode("utf-16-le"))  # ASCII first, then a zero byte
@given(
    st.binary(max_size=8)
    | st.tuples(_TEXTS, _ENCODINGS).map(lambda d: d[0].encode(*d[1:], "surrogatepass"))
)
def test_the_encoding_is_what_json_detects(raw: bytes) -> None:
    assert bodies._encoding(raw) == json.detect_encoding(raw)


def _outcome(parse: Any, text: str) -> tuple[str, Any]:
    try:
        return "value", parse(text)
    except Exception as exc:  # the same kind of refusal, in the same words
        return type(exc).__name__, str(exc)


@given(_TEXTS)
def test_a_text_parses_as_the_decoder_parses_it(text: str) -> None:
    assert _outcome(bodies._parse, text) == _outcome(bodies._DECODER.decode, text)


@pytest.mark.parametrize(
    ("content_type", "json_or_not"),
    [
        ("application/json", True),
        ("", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/problem+json", True),
        ("text/plain", False),
        ("application/json-seq", False),
    ],
)
def test_json_content_types_are_told_apart(content_type: str, json_or_not: bool) -> None:
    assert bodies._is_json_content_type(content_type) is json_or_not


# -- what a body's JSON weighs, as the retention budgets count it -------------------------

SHAPES = {
    "one long string": {"prompt": "a" * 100_000},
    "empty objects": {"prompt": "x", "extra": [{}] * 20_000},
    "one-item lists": [[n] for n in range(20_000)],
    "small objects": [{"a": n} for n in range(10_000)],
    "a flat object of strings": {f"k{n}": f"v{n}" for n in range(10_000)},
    "floats": [n + 0.5 for n in range(20_000)],
    "nested arrays": [[[[{}]]]] * 5_000,
    "nested one-key objects": [{"": {"": {"": {}}}}] * 5_000,
    "an input": {"prompt": "a lighthouse", "num_images": 2, "image_size": {"width": 512}},
    "a short one": [[[[{}]]]] * 25,
    "a wide string": {"prompt": "a" * 100_000 + "\U0001f600"},
    "short strings": [f"s{n}" for n in range(20_000)],
}


def _weight(value: Any) -> int:
    """What ``value`` holds in memory: its objects' sizes, each counted where it is held
    (a shared one, as a small int, once a place: more than it weighs, never less)."""
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        return size + sum(_weight(k) + _weight(v) for k, v in value.items())
    if isinstance(value, list):
        return size + sum(map(_weight, value))
    return size


@pytest.mark.parametrize("value", SHAPES.values(), ids=SHAPES.keys())
def test_a_bodys_retained_size_bounds_what_its_parsed_value_weighs(value: Any) -> None:
    for raw in (json.dumps(value).encode(), json.dumps(value, ensure_ascii=False).encode()):
        parsed = bodies.decode_json(raw, max_depth=64)
        assert parsed == value
        counted = bodies.retained_size({bodies.BODY: raw})
        weight = _weight(parsed)
        assert weight <= counted
        if len(raw) > bodies.SHORT_BODY:  # counted by its characters, not at its most
            assert counted <= 4 * max(weight, len(raw))


def _read(raw: bytes) -> tuple[Any, dict[str, Any]]:
    """``raw`` read as a request's JSON body (`read_json`), and the request's scope after."""
    scope: dict[str, Any] = {"type": "http", "headers": [(b"content-type", b"application/json")]}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    value = asyncio.run(bodies.read_json(scope, receive, max_bytes=2**25, max_depth=64))
    return value, scope


@pytest.mark.parametrize("value", SHAPES.values(), ids=SHAPES.keys())
def test_a_body_read_is_weighed_as_its_text_alone_is(value: Any) -> None:
    # a long body is counted once, as it is read, for both its checks and its weight
    raw = json.dumps(value).encode()
    read, scope = _read(raw)
    assert read == value
    assert bodies.retained_size(scope) == bodies.retained_size({bodies.BODY: raw})


@pytest.mark.parametrize("read", [_read, lambda raw: bodies.decode_json(raw, max_depth=64)])
def test_json_of_too_many_values_is_refused_before_it_is_parsed(read: Any) -> None:
    many = json.dumps([0] * bodies.MAX_JSON_VALUES).encode()  # one comma fewer than values
    assert read(many) is not None
    with pytest.raises(bodies.PayloadError, match="over 200000 values") as refused:
        read(json.dumps([0] * (bodies.MAX_JSON_VALUES + 2)).encode())
    assert refused.value.status == 413
