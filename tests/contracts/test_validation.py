import copy

import pytest

from emulator import Engine
from emulator.contracts.catalogue import shipped_catalogue
from emulator.contracts.documents import endpoint_from_document
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.validation import Violation, check_input

CONTRACTS = load_contracts([DEFAULT_CONTRACTS_DIR])
BITDANCE = CONTRACTS.get("fal", "fal-ai/bitdance")
SEEDREAM = CONTRACTS.get("fal", "fal-ai/bytedance/seedream/v4/text-to-image")


def test_defaults_are_applied_to_valid_input() -> None:
    inputs, violations = check_input(BITDANCE, {"prompt": "x"})
    assert violations == []
    assert inputs["image_size"] == "square_hd"
    assert inputs["num_images"] == 1 and inputs["output_format"] == "jpeg"


def test_object_defaults_fill_a_partial_size() -> None:
    inputs, _ = check_input(SEEDREAM, {"prompt": "x", "image_size": {"width": 2000}})
    assert inputs["image_size"] == {"width": 2000, "height": 512}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({}, Violation(("prompt",), "Field required", "missing")),
        ({"prompt": 1}, Violation(("prompt",), "Input should be a valid string", "string_type")),
        (
            {"prompt": "x", "num_images": 0},
            Violation(
                ("num_images",),
                "Input should be greater than or equal to 1",
                "greater_than_equal",
                {"ge": 1},
            ),
        ),
        (
            {"prompt": "x", "guidance_scale": 16},
            Violation(
                ("guidance_scale",),
                "Input should be less than or equal to 15",
                "less_than_equal",
                {"le": 15},
            ),
        ),
        (
            {"prompt": "x", "num_images": True},
            Violation(("num_images",), "Input should be a valid integer", "int_type"),
        ),
        ([], Violation((), "Input should be a valid dictionary", "dict_type")),
    ],
)
def test_violations_read_like_pydantic(payload: object, expected: Violation) -> None:
    _, violations = check_input(BITDANCE, payload)
    assert violations == [expected]


def test_any_of_reports_the_branch_of_the_right_type() -> None:
    _, violations = check_input(BITDANCE, {"prompt": "x", "image_size": "huge"})
    assert [v.type for v in violations] == ["literal_error"]
    _, violations = check_input(BITDANCE, {"prompt": "x", "image_size": {"width": 0}})
    assert [(v.loc, v.type) for v in violations] == [(("image_size", "width"), "greater_than")]


def test_a_union_of_literals_names_every_literal() -> None:
    # fal's types write flux's presets as one const branch each, beside ImageSize: the
    # first branch's "Input should be 'square_hd'" alone said the others were not allowed
    flux = shipped_catalogue().endpoint("fal-ai/flux/dev")
    _, violations = check_input(flux, {"prompt": "x", "image_size": "1024x768"})
    presets = "'square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3'"
    expected = f"{presets} or 'landscape_16_9'"
    assert violations == [
        Violation(
            ("image_size",), f"Input should be {expected}", "literal_error", {"expected": expected}
        )
    ]


def test_every_bad_field_of_the_branch_of_the_right_type_is_reported() -> None:
    # as Pydantic lists each bad field of a model: the best one alone was reported
    image_size = {"width": 100_000, "height": "tall"}
    _, violations = check_input(BITDANCE, {"prompt": "x", "image_size": image_size})
    assert {(v.loc, v.type) for v in violations} == {
        (("image_size", "width"), "less_than_equal"),
        (("image_size", "height"), "int_type"),
    }


def test_every_violation_is_reported() -> None:
    _, violations = check_input(BITDANCE, {"num_images": 9, "output_format": "gif"})
    assert {v.loc for v in violations} == {("prompt",), ("num_images",), ("output_format",)}


def test_a_complaint_two_keywords_word_alike_is_reported_once() -> None:
    """WaveSpeed bitdance's size has a pattern and a size rule, each worded the same."""
    endpoint = CONTRACTS.get("wavespeed", "wavespeed-ai/bitdance-14b/text-to-image")
    _, violations = check_input(endpoint, {"prompt": "x", "size": "99999*2"})
    assert [v.loc for v in violations] == [("size",)]


def closed_document() -> dict:
    """An embeddings route of fal's catalogue as its types once read: no property declared,
    none other allowed (``Record<string, never>``, now taken as an open object)."""
    endpoint = Engine().contracts.get("fal", "openrouter/router/openai/v1/embeddings")
    document = copy.deepcopy(endpoint.document)
    document["components"]["schemas"]["StackInfoInput"] = {
        "type": "object", "additionalProperties": False
    }  # fmt: skip
    return document


def test_an_extra_field_of_a_closed_object_is_named_as_pydantic_names_it() -> None:
    closed = endpoint_from_document("fal", closed_document())
    _, violations = check_input(closed, {"surplus": 1})
    assert violations == [
        Violation(("surplus",), "Extra inputs are not permitted", "extra_forbidden")
    ]
