"""The contract strategies on schema constructs the shipped contracts do not all use."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, _drawing, create_app
from emulator.contracts.documents import endpoint_from_document
from emulator.contracts.input_fields import DURATION_FIELDS
from emulator.contracts.limits import COUNT_FIELDS, Limits, check_limits
from emulator.contracts.served import served_contracts
from emulator.contracts.validation import check_input
from emulator.core.registry import LAYOUTS
from emulator.strategies import (
    DEFAULT_LIMITS,
    boundary_inputs,
    broken_inputs,
    media_inputs,
    tiny_picture,
    valid_inputs,
)


def endpoint(input_schema: dict[str, Any], **components: Any) -> Any:
    document = {
        "openapi": "3.0.4",
        "paths": {
            "/x/y": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/In"}}
                        }
                    }
                }
            },
            "/x/y/requests/{request_id}": {
                "get": {"responses": {"200": {"content": {"application/json": {"schema": {}}}}}}
            },
        },
        "components": {"schemas": {"In": input_schema, **components}},
    }
    return endpoint_from_document("fal", document)


COMBINED = endpoint(
    {
        "type": "object",
        "allOf": [
            {"$ref": "#/components/schemas/Named"},
            {"properties": {"count": {"type": "integer", "minimum": 1, "maximum": 3}}},
        ],
        "not": {"properties": {"count": {"const": 2}}, "required": ["count"]},
        "properties": {
            "label": {"type": ["string", "null"], "minLength": 3, "maxLength": 5},
            "image_url": {"type": "string"},
            "ratio": {"type": "number", "minimum": 0.5, "maximum": 2},
        },
        "required": ["count", "label", "image_url"],
    },
    Named={"properties": {"name": {"type": "string", "minLength": 2}}, "required": ["name"]},
)


@given(valid_inputs(COMBINED, media=["https://v3.fal.media/files/uploads/ab/x.png"]))
def test_all_of_not_type_lists_and_min_length_are_honoured(value: dict) -> None:
    assert COMBINED.input_validator.is_valid(value)
    assert value["count"] in (1, 3) and len(value["name"]) >= 2
    assert value["label"] is None or 3 <= len(value["label"]) <= 5


@given(valid_inputs(COMBINED))
def test_media_inputs_are_pictures_the_emulator_can_read(value: dict) -> None:
    header, _, data = value["image_url"].partition(",")
    assert header in ("data:image/png;base64", "data:image/jpeg;base64")
    assert base64.b64decode(data) in (tiny_picture("png"), tiny_picture("jpeg"))


@given(boundary_inputs(COMBINED))
def test_boundary_inputs_sit_on_the_bounds(value: dict) -> None:
    assert COMBINED.input_validator.is_valid(value)
    assert value["count"] in (1, 3)
    assert value.get("ratio", 0.5) in (0.5, 2)
    assert value["label"] is None or len(value["label"]) == 3


@given(broken_inputs(COMBINED))
def test_broken_inputs_name_the_field_they_break(drawn: tuple[dict, str]) -> None:
    value, field = drawn
    assert not COMBINED.input_validator.is_valid(value)
    assert field in ("count", "label", "image_url", "ratio", "name")


CLOSED_AND_EMPTY = endpoint({"type": "object", "additionalProperties": False})


@given(broken_inputs(CLOSED_AND_EMPTY))
def test_a_contract_with_nothing_declared_is_broken_by_an_undeclared_field(
    drawn: tuple[dict, str],
) -> None:
    value, field = drawn
    assert value == {field: value[field]}
    assert not CLOSED_AND_EMPTY.input_validator.is_valid(value)


def test_a_contract_that_accepts_any_object_has_no_broken_inputs() -> None:
    with pytest.raises(ValueError, match="accepts any object"):
        broken_inputs(endpoint({"type": "object"}))


@given(st.data())
def test_hosted_media_are_drawn_too(data: st.DataObject) -> None:
    hosted = "https://v3.fal.media/files/uploads/ab/x.png"
    drawn = data.draw(st.lists(media_inputs([hosted]), min_size=20, max_size=20))
    assert all(url == hosted or url.startswith("data:image/") for url in drawn)


FORMATTED = endpoint(
    {
        "type": "object",
        "properties": {"when": {"type": "string", "format": "date-time"}},
        "required": ["when"],
    }
)


@given(valid_inputs(FORMATTED))
def test_formats_are_drawn_by_hypothesis_jsonschema(value: dict) -> None:
    assert RFC3339.fullmatch(value["when"]), value


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


# -- what is drawn is what the emulator makes -------------------------------------------

CONTRACTS = served_contracts(EmulatorConfig())
ENGINE = Engine(EmulatorConfig())
#: catalogue endpoints of each kind whose sizes, counts and lengths are plain, unbounded
#: ``number``s (the catalogue's types carry no bounds), and curated WaveSpeed ones
SAMPLE = [
    ("fal", "fal-ai/flux/dev"),  # image: image_size {width, height}, num_images
    ("fal", "fal-ai/ltx-2-19b/audio-to-video"),  # video: fps, num_frames
    ("fal", "alibaba/happy-horse/text-to-video"),  # video: duration
    ("fal", "fal-ai/stable-audio"),  # audio: seconds_total
    ("fal", "fal-ai/stable-audio-25/audio-to-audio"),  # audio: total_seconds, audio_url
    ("fal", "fal-ai/trellis"),  # 3D
    ("fal", "fal-ai/fashn/tryon/v1.5"),  # a count under another name: num_samples
    ("fal", "fal-ai/bria/product-shot"),  # num_results
    ("wavespeed", "wavespeed-ai/bitdance-14b/text-to-image"),
    ("wavespeed", "bytedance/seedream-v4"),
]
SIDE = 128
LENGTH_FIELDS = {*DURATION_FIELDS, "duration"}


def _sides(value: dict) -> list[Any]:
    sized = [value, *(v for v in value.values() if isinstance(v, dict))]
    return [part[k] for part in sized for k in ("width", "height") if k in part]


@pytest.mark.parametrize(("provider", "endpoint_id"), SAMPLE, ids=lambda p: str(p))
@given(data=st.data())
def test_every_drawn_valid_input_is_one_the_emulator_accepts(
    provider: str, endpoint_id: str, data: st.DataObject
) -> None:
    endpoint = CONTRACTS.get(provider, endpoint_id)
    drawn = data.draw(
        valid_inputs(endpoint, max_dimension=SIDE) | boundary_inputs(endpoint, max_dimension=SIDE)
    )
    _, violations = ENGINE.check_input(endpoint, drawn)
    assert violations == [], drawn
    assert all(1 <= side <= SIDE for side in _sides(drawn)), drawn
    assert all(0 < drawn[k] <= 10 for k in LENGTH_FIELDS & drawn.keys()), drawn
    assert all(1 <= drawn.get(k, 1) <= ENGINE.limits.max_outputs for k in COUNT_FIELDS), drawn
    # the provider's own refusal (wavespeed/routes.py: base64 output with a webhook)
    assert not (drawn.get("webhook_url") and drawn.get("enable_base64_output") is True), drawn


def test_the_strategies_default_limits_are_the_emulators() -> None:
    assert ENGINE.limits == DEFAULT_LIMITS


@given(data=st.data())
def test_drawn_inputs_keep_within_smaller_limits(data: st.DataObject) -> None:
    # below the square_hd preset (1024x1024), above the default (1024x768)
    small = Limits(max_outputs=2, max_image_pixels=768 * 1024)
    endpoint = CONTRACTS.get("fal", "fal-ai/flux/dev")
    drawn = data.draw(valid_inputs(endpoint, max_dimension=2048, limits=small))
    inputs, violations = check_input(endpoint, drawn)
    assert violations == [] and check_limits(endpoint, inputs, small) == [], drawn
    assert all(side <= 768 for side in _sides(drawn)), drawn


#: WaveSpeed's media fields, none named ``*_url``: each gets a medium the emulator reads
WAVESPEED_MEDIA = [
    ("kwaivgi/kling-v2.1-i2v-standard", "image"),
    ("bytedance/seedream-v4/edit", "images"),
    ("wavespeed-ai/mmaudio-v2", "video"),
    ("wavespeed-ai/flux-dev", "mask_image"),
    ("bytedance/seedance-v1-pro-i2v-1080p", "last_image"),
]
HOSTED = "https://d2p7pge43lyniu.cloudfront.net/files/uploads/ab/x.png"


@pytest.mark.parametrize(("endpoint_id", "field"), WAVESPEED_MEDIA, ids=str)
@given(data=st.data())
def test_media_fields_not_named_url_get_readable_media(
    endpoint_id: str, field: str, data: st.DataObject
) -> None:
    endpoint = CONTRACTS.get("wavespeed", endpoint_id)
    drawn = data.draw(valid_inputs(endpoint, media=[HOSTED]))
    value = drawn.get(field, [])
    for url in value if isinstance(value, list) else [value]:
        assert url == HOSTED or url.startswith(("data:image/png;base64,", "data:image/jpeg;")), url


@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        ({"enable_base64_output": True, "webhook_url": "http://127.0.0.1:9/hook"}, True),
        ({"enable_base64_output": True}, False),
        ({"enable_base64_output": False}, False),
    ],
)
def test_the_inputs_wavespeed_refuses_are_the_ones_its_layout_names(
    extra: dict, refused: bool
) -> None:
    # The strategies keep clear of the layout's rules; its routes are what refuses.
    body = {"prompt": "a cat", **extra}
    endpoint = CONTRACTS.get("wavespeed", "bytedance/seedream-v4")
    rules = [endpoint.validator(rule) for rule in LAYOUTS["wavespeed"].refused_inputs]
    assert any(rule.is_valid(body) for rule in rules) is refused
    headers = {"Authorization": "Bearer k1"}
    with TestClient(create_app(), headers=headers) as client:
        response = client.post("/wavespeed/api/v3/bytedance/seedream-v4", json=body)
    assert (response.status_code == 400) is refused, response.text


def test_served_contracts_finds_curated_and_catalogue_endpoints_alike() -> None:
    # the way docs/testing.md gets an endpoint to draw from: public, and any served id
    import emulator

    contracts = emulator.served_contracts()
    assert contracts.get("fal", "fal-ai/bitdance").tier != "catalogue"
    assert contracts.get("fal", "fal-ai/flux/dev").tier == "catalogue"
    assert contracts.get("wavespeed", "bytedance/seedream-v4") is not None


EXCLUSIVE = endpoint(
    {
        "type": "object",
        "properties": {
            "seconds_total": {"type": "number", "exclusiveMinimum": 2, "exclusiveMaximum": 4},
            "num_images": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3},
            "steps": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3},
        },
        "required": ["seconds_total", "num_images", "steps"],
    }
)


@given(valid_inputs(EXCLUSIVE) | boundary_inputs(EXCLUSIVE))
def test_exclusive_bounds_are_kept_for_sizes_and_other_numbers(value: dict) -> None:
    assert 2 < value["seconds_total"] < 4 and value["num_images"] in (1, 2), value
    assert value["steps"] in (1, 2), value


#: a tree whose children may be absent or none, a chain that may end in null, and a nest
#: whose inner one (an allOf of it) may be absent: models a value may stop (each draw built
#: its strategies anew at every level, for ever; the nest's, before the first draw)
RECURSIVE = endpoint(
    {"type": "object", "required": ["tree"], "properties": {
        "tree": {"$ref": "#/components/schemas/Node"},
        "chain": {"$ref": "#/components/schemas/Link"},
        "nest": {"$ref": "#/components/schemas/Nest"}}},
    Node={"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "maxLength": 3},
        "children": {"type": "array", "items": {
            "$ref": "#/components/schemas/Node", "description": "a child"}}}},
    Link={"type": "object", "required": ["next"], "properties": {
        "next": {"anyOf": [{"$ref": "#/components/schemas/Link"}, {"type": "null"}]}}},
    Nest={"type": "object", "properties": {
        "inner": {"allOf": [{"$ref": "#/components/schemas/Nest"}]}}},
)  # fmt: skip


@given(st.data())
def test_a_recursive_model_a_value_may_stop_is_drawn(data: st.DataObject) -> None:
    value = data.draw(valid_inputs(RECURSIVE))
    assert isinstance(value["tree"]["name"], str)
    assert check_input(RECURSIVE, value)[1] == []


#: draws of a prompt that Python's re, which keeps Hypothesis's own from_regex draws,
#: tries 2**n ways of for each one of n ``a``s it does not match
_BACKTRACKING_DRAWS = """
from hypothesis import HealthCheck, given, settings
from emulator.strategies import valid_inputs
from tests.test_strategies import endpoint

prompt = {"type": "string", "pattern": "^(a*)*\\\\B"}
mine = endpoint({"type": "object", "required": ["prompt"], "properties": {"prompt": prompt}})

@settings(max_examples=50, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(valid_inputs(mine))
def draw(value):
    assert value["prompt"] == ""

draw()
"""


@pytest.mark.slow
def test_a_pattern_that_backtracks_is_drawn_from_in_linear_time() -> None:
    # in a process of its own: a draw held the GIL for years (no timeout could end it)
    done = subprocess.run(
        [sys.executable, "-c", _BACKTRACKING_DRAWS], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def _coded() -> Any:
    """An endpoint of patterns with ``\\d`` and ``\\w``, ASCII's in RE2 (a new one each
    time: strategies of one are kept)."""
    codes = {
        "digits": {"type": "string", "pattern": "^\\d{6}$"},
        "word": {"type": "string", "pattern": "^\\w{12}$"},
        "date": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
    }
    return endpoint({"type": "object", "required": list(codes), "properties": codes})


CODED = _coded()


@given(valid_inputs(CODED))
def test_ascii_classes_are_drawn_from_not_filtered_away(value: dict) -> None:
    # Unicode's \d drawn, RE2 kept almost none: the health check failed
    assert re.fullmatch("[0-9]{6}", value["digits"], re.ASCII)
    assert re.fullmatch("[0-9A-Za-z_]{12}", value["word"], re.ASCII)
    assert check_input(CODED, value)[1] == []


def test_patterns_are_drawn_without_hypothesis_private_regex_strategy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "hypothesis.strategies._internal.regex", ModuleType("moved"))
    assert _drawing._tree_drawer.__wrapped__() is None
    monkeypatch.undo()
    monkeypatch.setattr(_drawing, "_tree_drawer", lambda: None)
    coded = _coded()

    @given(valid_inputs(coded))
    def draw(value: dict) -> None:
        assert check_input(coded, value)[1] == []

    draw()
