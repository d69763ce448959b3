from typing import Any

from emulator.contracts.documents import Endpoint, endpoint_from_document
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.optional_fields import optional_fields, without_optional

CONTRACTS = load_contracts([DEFAULT_CONTRACTS_DIR])
IMAGE = {
    "url": "https://v3.fal.media/files/a.jpg",
    "content_type": "image/jpeg",
    "file_name": "a.jpg",
    "file_size": 2048,
    "width": 64,
    "height": 64,
}


def endpoint_of(output: dict[str, Any], components: dict[str, Any] | None = None) -> Endpoint:
    """An endpoint of ``output`` as its output schema (the input: any object)."""
    body = {"content": {"application/json": {"schema": {"type": "object"}}}}
    answer = {"200": {"content": {"application/json": {"schema": output}}}}
    document = {
        "paths": {
            "/acme/x": {"post": {"requestBody": body}},
            "/acme/x/requests/{request_id}": {"get": {"responses": answer}},
        },
        "components": {"schemas": components or {}},
    }
    return endpoint_from_document("fal", document)


def test_an_output_keeps_only_its_required_fields_at_every_depth() -> None:
    endpoint = CONTRACTS.get("fal", "fal-ai/bitdance")
    full = {"prompt": "a cat", "images": [IMAGE, IMAGE], "seed": 7, "has_nsfw_concepts": [False]}
    endpoint.output_validator.validate(full)
    sparse = without_optional(endpoint, full)
    url = {"url": IMAGE["url"]}
    assert sparse == {**full, "images": [url, url]}
    endpoint.output_validator.validate(sparse)
    assert full["images"] == [IMAGE, IMAGE]  # the output made stays as it was


def test_a_prediction_keeps_what_wavespeeds_envelope_requires() -> None:
    endpoint = CONTRACTS.get("wavespeed", "wavespeed-ai/bitdance-14b/text-to-image")
    required = {
        "id": "e6832d4abffb4d79bfbca19783fca133",
        "model": endpoint.id,
        "outputs": ["https://d2p7pge43lyniu.cloudfront.net/output/a.jpeg"],
        "urls": {"get": "https://api.wavespeed.ai/api/v3/predictions/e6/result"},
        "status": "completed",
        "created_at": "2026-08-02T10:00:00.000000Z",
        "error": "",
    }
    optional = {"has_nsfw_contents": [False], "executionTime": 900, "timings": {"inference": 900}}
    full = {"code": 200, "message": "success", "data": {**required, **optional}}
    assert without_optional(endpoint, full) == {**full, "data": required}
    assert set(optional) <= set(optional_fields(endpoint))


def test_a_field_of_alternatives_is_made_sparse_as_the_branch_it_is() -> None:
    video = {"type": "object", "required": ["url"], "properties": {"url": {}, "fps": {}}}
    mesh = {"type": "object", "required": ["url", "faces"], "properties": {"url": {}, "faces": {}}}
    schema = {
        "type": "object",
        "required": ["media"],
        "properties": {"media": {"anyOf": [{"$ref": "#/components/schemas/Video"}, mesh]}},
    }
    endpoint = endpoint_of(schema, {"Video": {**video, "additionalProperties": False}})
    assert without_optional(endpoint, {"media": {"url": "u", "fps": 24}}) == {"media": {"url": "u"}}
    # not a Video (an extra field): the mesh, whose faces are required
    made = {"media": {"url": "u", "faces": 8, "size": 1}}
    assert without_optional(endpoint, made) == {"media": {"url": "u", "faces": 8}}


def test_the_fields_each_part_of_an_all_of_requires_are_kept() -> None:
    base = {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}}
    schema = {
        "allOf": [{"$ref": "#/components/schemas/Base"}],
        "required": ["width"],
        "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
    }
    endpoint = endpoint_of(schema, {"Base": base})
    made = {"url": "u", "width": 1, "height": 1, "file_size": 3}
    assert without_optional(endpoint, made) == {"url": "u", "width": 1}
    assert optional_fields(endpoint) == ["height"]


def test_an_open_objects_fields_are_none_it_requires() -> None:
    endpoint = CONTRACTS.get("fal", "fal-ai/fast-lcm-diffusion")
    made = {
        "images": [IMAGE],
        "timings": {"inference": 0.5},  # additionalProperties: numbers, none required
        "seed": 1,
        "has_nsfw_concepts": [False],
        "prompt": "",
    }
    sparse = without_optional(endpoint, made)
    assert sparse["timings"] == {} and sparse["images"] == [{"url": IMAGE["url"]}]


def test_a_sparse_output_that_would_not_validate_is_not_made() -> None:
    schema = {
        "type": "object",
        "required": ["meta"],
        "properties": {
            "meta": {"type": "object", "minProperties": 1, "properties": {"note": {}}},
            "extra": {},
        },
    }
    endpoint = endpoint_of(schema)
    made = {"meta": {"note": "n"}, "extra": 1}
    assert without_optional(endpoint, made) == made


def test_the_optional_fields_are_named_once_through_a_recursive_schema() -> None:
    node = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "label": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        },
    }
    endpoint = endpoint_of({"$ref": "#/components/schemas/Node"}, {"Node": node})
    assert optional_fields(endpoint) == ["children", "label"]
    tree = {"name": "a", "label": "A", "children": [{"name": "b", "label": "B"}]}
    assert without_optional(endpoint, tree) == {"name": "a"}
    assert optional_fields(CONTRACTS.get("fal", "fal-ai/bitdance")) == [
        "content_type", "file_name", "file_size", "height", "width",
    ]  # fmt: skip
