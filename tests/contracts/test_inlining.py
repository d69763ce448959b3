from typing import Any

from hypothesis import given

from emulator.contracts.documents import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.inlining import inline_refs
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


def test_refs_with_siblings_missing_targets_and_data_stay() -> None:
    kept: dict[str, Any] = {
        "anyOf": [{"$ref": "#/components/schemas/Size", "title": "a size"}],
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
