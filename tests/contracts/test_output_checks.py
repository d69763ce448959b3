"""A synthesised output keeps its contract's output schema, formats asserted: synthesis
picks what the keywords allow (const and enum, bounds, array sizes, patterns, formats), and
what it cannot make is a failure naming the field, for a user's contract and every shipped
one (their outputs as output_digests.py makes them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, create_app
from emulator.contracts.documents import Endpoint, endpoint_from_document
from emulator.contracts.limits import Limits
from emulator.contracts.output_checks import OutputUnmade, keeping
from emulator.contracts.synthesis import synthesize
from emulator.contracts.validation import check_input
from emulator.media import MediaSpec

from .output_digests import endpoints, key, outputs

FILE = {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}}
LIMITS = Limits()
IMAGE_INPUT = {
    "prompt": {"type": "string"},
    "num_images": {"type": "integer", "default": 1},
    "output_format": {"type": "string"},
    "seed": {"type": "integer"},
}


def _file(**properties: Any) -> dict[str, Any]:
    """fal's ``File`` with more ``properties`` (``content_type``: a const, say)."""
    return {**FILE, "properties": {**FILE["properties"], **properties}}


def _endpoint(
    properties: dict[str, Any],
    *,
    inputs: dict[str, Any] | None = None,
    category: str = "text-to-image",
    schemas: dict[str, Any] | None = None,
) -> Endpoint:
    """A user's fal contract whose output has ``properties``, all required (and
    ``schemas`` its components, for a ``$ref``)."""
    output = {"type": "object", "required": list(properties), "properties": properties}
    input_schema = {"type": "object", "properties": inputs or IMAGE_INPUT}
    document = {
        "openapi": "3.1.0",
        "info": {"x-fal-metadata": {"endpointId": "acme/mine", "category": category}},
        "paths": {
            "/acme/mine": {
                "post": {"requestBody": {"content": {"application/json": {"schema": input_schema}}}}
            },
            "/acme/mine/requests/{request_id}": {
                "get": {"responses": {"200": {"content": {"application/json": {"schema": output}}}}}
            },
        },
        "components": {"schemas": schemas or {}},
    }
    return endpoint_from_document("fal", document, source="mine.json")


def _link(spec: MediaSpec) -> tuple[str, int]:
    return f"https://cdn.test/{spec.index}.{spec.extension}", 123


def _output(
    endpoint: Endpoint, payload: dict[str, Any], seed: int = 5, limits: Limits = LIMITS
) -> dict[str, Any]:
    inputs, violations = check_input(endpoint, payload)
    assert not violations
    made = synthesize(endpoint, inputs, seed, _link, limits=limits)
    assert keeping(endpoint, endpoint.output_schema).first_error(made) is None
    return made


def test_a_file_is_made_of_the_content_type_its_schema_fixes() -> None:
    endpoint = _endpoint(
        {
            "result": _file(content_type={"const": "model/gltf-binary"}),
            "image": _file(content_type={"enum": ["image/webp", "image/gif"]}),
            "clip": _file(content_type={"const": "video/webm"}, fps={"type": "number"}),
        }
    )
    made = _output(endpoint, {"prompt": "a fox", "output_format": "png"})
    # "result" says nothing, the category an image: the const says a GLB mesh
    assert made["result"]["url"].endswith(".glb")
    assert made["image"]["url"].endswith(".webp")  # PNG asked, but the schema allows WebP
    assert made["clip"]["url"].endswith(".webm")


def test_a_content_type_is_fixed_through_a_ref_and_all_of() -> None:
    webp = {"$ref": "#/components/schemas/Webp"}
    endpoint = _endpoint(
        {
            "image": _file(content_type=webp),
            "still": _file(content_type={"allOf": [webp, {"type": "string"}]}),
            "result": _file(content_type={"$ref": "#/components/schemas/Mesh"}),
        },
        schemas={"Webp": {"enum": ["image/webp"]}, "Mesh": {"const": "model/gltf-binary"}},
    )
    made = _output(endpoint, {"prompt": "a fox", "output_format": "png"})
    assert made["image"]["url"].endswith(".webp") and made["still"]["url"].endswith(".webp")
    assert made["result"]["url"].endswith(".glb")


def test_enums_and_consts_of_plain_fields_hold() -> None:
    endpoint = _endpoint(
        {
            "text": {"type": "string", "enum": ["positive", "negative"]},  # the model's text
            "prompt": {"type": "string", "enum": ["a", "b"]},  # an echo of the input
            "mode": {"type": "string", "default": "z", "enum": ["x", "y"]},
            "kind": {"const": "fixed"},
        }
    )
    made = _output(endpoint, {"prompt": "a fox"})
    assert made == {"text": "positive", "prompt": "a", "mode": "x", "kind": "fixed"}


def test_a_recursive_field_that_may_be_null_is_made_null() -> None:
    # each link required, but null: an object first would be a link for ever (a 500)
    link = {"type": ["object", "null"], "required": ["next"], "properties": {"next": _ref("Link")}}
    chain = {"type": ["array", "null"], "minItems": 1, "items": _ref("Chain")}
    endpoint = _endpoint(
        {"link": _ref("Link"), "chain": _ref("Chain")}, schemas={"Link": link, "Chain": chain}
    )
    assert _output(endpoint, {"prompt": "a fox"}) == {"link": None, "chain": None}


def test_a_recursive_field_takes_the_branch_that_ends() -> None:
    # its first branch the schema again: taken, it nested for ever (a 500)
    node = _requiring("child", {"oneOf": [_ref("Node"), {"type": "null"}]})
    listed = {"type": "array", "minItems": 1, "items": _ref("Chain")}
    chain = _requiring("next", {"anyOf": [listed, {"const": "end"}]})
    fork = _requiring("left", {"anyOf": [_ref("Fork"), _ref("Leaf")]})
    leaf = _requiring("value", {"type": "integer"})
    endpoint = _endpoint(
        {"tree": _ref("Node"), "chain": _ref("Chain"), "fork": _ref("Fork")},
        schemas={"Node": node, "Chain": chain, "Fork": fork, "Leaf": leaf},
    )
    assert _output(endpoint, {"prompt": "a fox"}) == {
        "tree": {"child": None},
        "chain": {"next": "end"},
        "fork": {"left": {"value": 0}},
    }


def test_an_optional_field_that_would_nest_its_object_again_is_left_out() -> None:
    # a file is made even where optional: its required meta, the object holding it, held
    # another file, and so on for ever (a 500); the copy inside itself makes no file
    file = {**_file(meta=_ref("Wrapper")), "required": ["url", "meta"]}
    wrapper = {"type": "object", "properties": {"image": _ref("File"), "seed": {"type": "integer"}}}
    # a $ref beside a description: a schema resolved anew each time
    described = {
        **_file(meta={**_ref("Wrapper"), "description": "its own"}),
        "required": ["url", "meta"],
    }
    # required, but it may be null: the copy inside itself takes null
    maybe_file = {"anyOf": [_ref("File"), {"type": "null"}]}
    nullable = _requiring("image", maybe_file)
    for schemas, inner in (
        ({"Wrapper": wrapper, "File": file}, {"seed": 5}),
        ({"Wrapper": wrapper, "File": described}, {"seed": 5}),
        ({"Wrapper": nullable, "File": file}, {"image": None}),
    ):
        endpoint = _endpoint({"wrapper": _ref("Wrapper")}, schemas=schemas)
        made = _output(endpoint, {"prompt": "a fox"})["wrapper"]
        assert made["image"]["meta"] == inner


def _requiring(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An object of one property, ``name``, required."""
    return {"type": "object", "required": [name], "properties": {name: schema}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def test_an_array_of_media_holds_as_many_as_its_schema_allows() -> None:
    images = {"type": "array", "items": _file(width={"type": "integer"}), "maxItems": 2}
    flags = {"type": "array", "items": {"type": "boolean"}, "maxItems": 2}
    endpoint = _endpoint({"images": images, "has_nsfw_concepts": flags})
    made = _output(endpoint, {"prompt": "a fox", "num_images": 4})
    assert len(made["images"]) == len(made["has_nsfw_concepts"]) == 2
    endpoint = _endpoint({"images": {**images, "maxItems": 4, "minItems": 3}})
    assert len(_output(endpoint, {"prompt": "a fox", "num_images": 1})["images"]) == 3


@pytest.mark.parametrize(
    ("field", "items", "fewest"),
    [
        ("images", _file(width={"type": "integer"}), 40),
        ("has_nsfw_concepts", {"type": "boolean"}, 10**6),
        ("tags", {"type": "string"}, 40),
    ],
)
def test_an_array_longer_than_the_emulator_makes_is_not_made(
    field: str, items: dict[str, Any], fewest: int
) -> None:
    endpoint = _endpoint({field: {"type": "array", "items": items, "minItems": fewest}})
    with pytest.raises(OutputUnmade) as caught:
        synthesize(endpoint, {"prompt": "x"}, 1, _link, limits=Limits())
    assert f"output field {field} " in str(caught.value) and "16 items" in str(caught.value)
    made = _output(endpoint, {"prompt": "x"}, limits=Limits(max_outputs=fewest))
    assert len(made[field]) == fewest


def test_images_and_their_flags_are_as_many_whatever_each_schema_allows() -> None:
    images = {"type": "array", "items": _file(width={"type": "integer"}), "minItems": 3}
    flags = {"type": "array", "items": {"type": "boolean"}, "maxItems": 4}
    endpoint = _endpoint({"has_nsfw_concepts": flags, "images": images})
    for asked, made in ((1, 3), (6, 4)):
        output = _output(endpoint, {"prompt": "a fox", "num_images": asked})
        assert len(output["images"]) == len(output["has_nsfw_concepts"]) == made


def test_strings_keep_their_patterns_and_formats() -> None:
    endpoint = _endpoint(
        {
            "request_code": {"type": "string", "pattern": "^req_[0-9a-f]{8}$"},
            "voice_id": {"type": "string", "pattern": "^v-[0-9]+$"},  # no 32 hex digits here
            "created_at": {"type": "string", "format": "date-time"},
            "trace": {"type": "string", "format": "uuid"},
            "code": {"type": "string", "minLength": 3},
        }
    )
    made = _output(endpoint, {"prompt": "a fox"})
    assert made["request_code"] == "req_00000000" and made["voice_id"] == "v-0"
    assert made["created_at"] == "1970-01-01T00:00:00Z" and made["code"] == "xxx"


def test_numbers_keep_their_bounds() -> None:
    endpoint = _endpoint(
        {
            "seed": {"type": "integer", "maximum": 100},  # the job's seed may be beyond it
            "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "steps": {"type": "integer", "minimum": 10, "multipleOf": 8},
            "offset": {"type": "integer", "exclusiveMaximum": -2},
            "ratio": {"type": "number", "minimum": 0.3, "multipleOf": 0.1},
            "scale": {"type": "number", "exclusiveMinimum": 0.2, "multipleOf": 0.1},
        }
    )
    made = _output(endpoint, {"prompt": "a fox"}, seed=5000)
    assert made == {
        "seed": 0, "score": 0.5, "steps": 16, "offset": -3, "ratio": 0.4, "scale": 0.4
    }  # fmt: skip
    assert _output(endpoint, {"prompt": "a fox"}, seed=42)["seed"] == 42


@pytest.mark.parametrize(
    ("properties", "field", "words"),
    [
        ({"phone": {"type": "string", "format": "phone"}}, "phone", "format 'phone'"),
        ({"meta": {"type": "object", "required": ["tag"], "properties": {"tag": {
            "type": "string", "pattern": "^(x|y)z$", "maxLength": 1}}}}, "meta/tag", "refused"),
        # a class no character is in (it was a 500: a StopIteration in the pattern's walk)
        ({"tag": {"type": "string", "pattern": r"^[^\s\S]$"}}, "tag", "pattern"),
        ({"short": {"type": "string", "pattern": "^a+$", "minLength": 3, "maxLength": 2}},
         "short", "its simplest value is refused"),
        ({"model": _file(content_type={"const": "application/x-acme"})},
         "model/content_type", "'application/x-acme' was expected"),
    ],
)  # fmt: skip
def test_what_the_emulator_cannot_make_fails_naming_the_field(
    properties: dict[str, Any], field: str, words: str
) -> None:
    endpoint = _endpoint(properties)
    with pytest.raises(OutputUnmade) as caught:
        synthesize(endpoint, {"prompt": "x"}, 1, _link, limits=Limits())
    assert f"output field {field} " in str(caught.value) and words in str(caught.value)


@pytest.mark.parametrize(
    "field",
    [
        {"type": "string", "format": "phone"},
        # no string fits: it was a 500, a StopIteration in the pattern's walk (an audit)
        {"type": "string", "pattern": r"^[^\s\S]$"},
    ],
)
def test_a_job_whose_output_cannot_be_made_is_a_501_naming_the_field(
    tmp_path: Path, field: dict[str, Any]
) -> None:
    document = _endpoint({"phone": field}).document
    (tmp_path / "mine.json").write_text(json.dumps(document))
    config = EmulatorConfig(progression=Progression.parse("immediate"), contracts=(tmp_path,))
    with TestClient(
        create_app(engine=Engine(config)), headers={"Authorization": "Key k"}
    ) as client:
        submitted = client.post("/fal/queue/acme/mine", json={"prompt": "x"}).json()
        answer = client.get(submitted["response_url"])
    assert answer.status_code == 501
    assert answer.json()["error_type"] == "emulator_unsupported"
    assert "output field phone" in answer.json()["detail"]


def _broken_outputs(every: int) -> dict[str, list[Any]]:
    """The outputs of each shipped endpoint that break its schema, formats asserted (or
    that synthesis refused to make)."""
    broken = {}
    for endpoint in endpoints(every):
        check = keeping(endpoint, endpoint.output_schema)
        made = outputs(endpoint)
        refused = [m for m in made if isinstance(m, str) and m.startswith("OutputUnmade")]
        wrong = [check.first_error(m) for m in made if isinstance(m, dict)]
        if refused or any(wrong):
            broken[key(endpoint)] = refused + [w for w in wrong if w]
    return broken


def test_the_shipped_curated_endpoints_and_a_sample_of_the_catalogue_keep_their_schemas() -> None:
    assert _broken_outputs(every=10) == {}


@pytest.mark.slow
def test_every_shipped_endpoints_outputs_keep_its_schema() -> None:
    assert _broken_outputs(every=1) == {}
