from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from emulator.contracts.catalogue import shipped_catalogue
from emulator.contracts.inlining import inline_refs
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.rules import contract_validator
from emulator.contracts.validation import _violation
from emulator.strategies import invalid_inputs

DOCUMENT = {
    "components": {
        "schemas": {
            "Size": {"type": "object", "properties": {"width": {"type": "integer"}}},
            "Node": {
                "type": "object",
                "properties": {"next": {"$ref": "#/components/schemas/Node"}},
            },
        }
    }
}
SIZE = {"$ref": "#/components/schemas/Size"}


def test_a_lone_ref_is_replaced_by_its_target() -> None:
    assert inline_refs({"properties": {"size": SIZE}}, DOCUMENT) == {
        "properties": {"size": DOCUMENT["components"]["schemas"]["Size"]}
    }


def test_a_ref_its_siblings_only_annotate_is_replaced_by_its_target() -> None:
    # fal's outputs: {"$ref": File, "description": …}; 978 of 1,558 endpoints' outputs went
    # through jsonschema for want of their quick test (a helper measured)
    annotated = {"$ref": "#/components/schemas/Size", "title": "a size", "description": "…",
                 "examples": [{"width": 1}], "x-fal-order": 2}  # fmt: skip
    assert inline_refs({"properties": {"size": annotated}}, DOCUMENT) == {
        "properties": {"size": DOCUMENT["components"]["schemas"]["Size"]}
    }


def test_refs_with_checking_siblings_missing_targets_and_data_stay() -> None:
    kept: dict[str, Any] = {
        "anyOf": [{"$ref": "#/components/schemas/Size", "minProperties": 1}],
        "allOf": [{"$ref": "#/components/schemas/Size", "x-emulator-size": {"sides": [1, 2]}}],
        "not": {"$ref": "#/components/schemas/Missing"},
        "default": SIZE,
        "enum": [SIZE],
    }
    assert inline_refs(kept, DOCUMENT) == kept


def test_a_recursive_model_is_inlined_once_and_then_referenced() -> None:
    node = inline_refs({"$ref": "#/components/schemas/Node"}, DOCUMENT)
    assert node["properties"]["next"] == {"$ref": "#/components/schemas/Node"}


def test_inlining_changes_no_argument() -> None:
    schema = {"properties": {"size": SIZE}}
    inline_refs(schema, DOCUMENT)
    assert schema == {"properties": {"size": SIZE}}


SEEDREAM = load_contracts([DEFAULT_CONTRACTS_DIR]).get(
    "fal", "fal-ai/bytedance/seedream/v4/text-to-image"
)
UNINLINED = contract_validator()(
    {**SEEDREAM.input_schema, "components": SEEDREAM.document["components"]}
)


def _violations(validator: Any, payload: Any) -> list[Any]:
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(map(str, e.absolute_path)))
    return [_violation(error) for error in errors]


@given(invalid_inputs(SEEDREAM))
def test_an_inlined_validator_finds_what_the_referencing_one_finds(payload: Any) -> None:
    assert _violations(SEEDREAM.input_validator, payload) == _violations(UNINLINED, payload)


#: a catalogue endpoint whose output's file is a ref with a description beside it
MUSIC = shipped_catalogue().endpoint("CassetteAI/music-generator")
MUSIC_UNINLINED = contract_validator()(
    {**MUSIC.output_schema, "components": MUSIC.document["components"]}
)
NAMES = ["audio_file", "url", "content_type", "file_name", "file_size"]


@given(st.recursive(st.none() | st.integers() | st.text(max_size=3),
                    lambda inner: st.lists(inner, max_size=2)
                    | st.dictionaries(st.sampled_from(NAMES), inner, max_size=3),
                    max_leaves=8))  # fmt: skip
def test_an_inlined_output_validator_finds_what_the_referencing_one_finds(output: Any) -> None:
    inlined = MUSIC.validator(MUSIC.output_schema)
    assert "$ref" not in str(inlined.schema.get("properties", {}))  # its file's ref inlined
    assert _violations(inlined, output) == _violations(MUSIC_UNINLINED, output)
