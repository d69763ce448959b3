"""What a document of the user's own must be to load: checked once, each failure one
actionable line naming the file."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from emulator.contracts.checks import refs
from emulator.contracts.documents import ContractError, endpoint_from_document
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR

BITDANCE = DEFAULT_CONTRACTS_DIR / "fal" / "fal-ai" / "bitdance.json"
POSTER = DEFAULT_CONTRACTS_DIR / "wavespeed/wavespeed-ai/bitdance-14b/text-to-image.json"


def load(document: dict[str, Any], provider: str = "fal") -> None:
    endpoint_from_document(provider, document, source="mine.json")


def bitdance() -> dict[str, Any]:
    return json.loads(BITDANCE.read_text())


def test_a_copy_renamed_in_its_metadata_only_is_refused() -> None:
    # it replaced the endpoint it was copied from, silently (an audit)
    poster = json.loads(POSTER.read_text())
    poster["info"]["x-wavespeed-metadata"]["modelId"] = "acme/poster"
    with pytest.raises(ContractError) as refused:
        load(poster, "wavespeed")
    message = str(refused.value)
    assert message.startswith("mine.json: its submit path names 'wavespeed-ai/bitdance-14b")
    assert "x-wavespeed-metadata.modelId names 'acme/poster'" in message
    renamed = json.loads(json.dumps(bitdance()).replace("fal-ai/bitdance", "acme/sketch"))
    load(renamed)  # renamed in both: served as acme/sketch


@pytest.mark.parametrize("endpoint_id", ["acme/x?y=1", "acme/story board", "acme//x"])
def test_an_id_that_is_no_path_is_refused(endpoint_id: str) -> None:
    text = json.dumps(bitdance()).replace("/fal-ai/bitdance", "/" + endpoint_id)
    document = json.loads(text)
    document["info"]["x-fal-metadata"].pop("endpointId")
    with pytest.raises(ContractError, match="is no endpoint id"):
        load(document)


def test_an_output_schema_that_is_no_json_schema_is_refused_where_it_breaks() -> None:
    document = bitdance()
    document["components"]["schemas"]["BitdanceOutput"]["properties"]["seed"]["type"] = "int"
    with pytest.raises(ContractError, match="the output schema is not JSON Schema 2020-12"):
        load(document)


@pytest.mark.parametrize(
    ("broken", "where"),
    [
        ({"type": "int"}, "at type: 'int' is not valid"),
        ({"type": [["integer"]]}, "at type: [['integer']] is not valid"),
        ({"type": "object", "required": [["n"]]}, "at required/0: ['n'] is not of type 'string'"),
    ],
)
def test_a_schema_a_ref_leads_to_that_is_no_json_schema_is_refused_naming_it(
    broken: dict[str, Any], where: str
) -> None:
    # jsonschema's check does not follow a $ref: the first loaded, and each call sending
    # the field was a 500 (an UnknownType); the others were a TypeError's traceback
    document = _with(bitdance(), Input=_prop("n", _ref("N")), N=broken)
    with pytest.raises(ContractError) as refused:
        load(document)
    assert str(refused.value).startswith(
        "mine.json: the schema #/components/schemas/N is not JSON Schema 2020-12 "
    )
    assert where in str(refused.value)


def test_a_broken_ref_is_named() -> None:
    document = bitdance()
    document["components"]["schemas"]["BitdanceInput"]["properties"]["prompt"] = {
        "$ref": "#/components/schemas/Nope"
    }
    with pytest.raises(ContractError, match="broken \\$ref '#/components/schemas/Nope'"):
        load(document)


def test_refs_come_in_document_order_however_deep() -> None:
    nested: dict[str, Any] = {"$ref": "#/last"}
    for _ in range(5_000):  # deeper than Python's stack
        nested = {"items": nested}
    assert list(refs({"a": {"$ref": "#/a"}, "b": [{"$ref": "#/b"}, nested]})) == [
        "#/a",
        "#/b",
        "#/last",
    ]


@pytest.mark.parametrize("model", ["predictions", "model/price", "balance/mine"])
def test_a_wavespeed_id_its_own_api_would_answer_is_refused(model: str) -> None:
    text = POSTER.read_text().replace("wavespeed-ai/bitdance-14b/text-to-image", model)
    with pytest.raises(ContractError, match="a path of wavespeed's own API"):
        load(json.loads(text), "wavespeed")


@pytest.mark.parametrize(
    ("info", "message"),
    [(["x"], "its info is not an object"), ({"x-fal-metadata": "x"}, "x-fal-metadata is not")],
)
def test_an_info_or_metadata_that_is_no_object_is_refused(info: Any, message: str) -> None:
    # an AttributeError's traceback, from `contracts list` and `serve`, where it was
    # read for the endpoint's category
    document = bitdance()
    document["info"] = info
    with pytest.raises(ContractError, match=message):
        load(document)


def _with(document: dict[str, Any], **schemas: Any) -> dict[str, Any]:
    """``document`` with more component schemas (``Input``/``Output``: bitdance's, changed
    by a function of them)."""
    components = document["components"]["schemas"]
    for name, schema in schemas.items():
        if callable(schema):
            schema(components[f"Bitdance{name}"])
        else:
            components[name] = schema
    return document


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _prop(name: str, schema: Any, required: bool = False) -> Any:
    def change(model: dict[str, Any]) -> None:
        model["properties"][name] = schema
        if required:
            model["required"] = [*model.get("required", []), name]

    return change


@pytest.mark.parametrize(
    ("schemas", "words"),
    [
        # a pattern RE2 cannot run, however deep: in a component the input refers to
        (dict(Input=_prop("style", _ref("Style")), Style={"type": "string", "pattern": "^(?=a)"}),
         "the pattern '^(?=a)' at #/components/schemas/Style is not one a linear-time engine"),
        (dict(Output=_prop("tag", {"type": "string", "pattern": r"^(a)\1$"}, required=True)),
         r"at #/components/schemas/BitdanceOutput/properties/tag is not one a linear"),
        (dict(Input=_prop("tags", {"type": "object", "patternProperties": {r"x\Z": {}}})),
         r"the pattern 'x\\Z' at #/components/schemas/BitdanceInput/properties/tags/pattern"),
        (dict(Input=_prop("long", {"type": "string", "pattern": "^.{1,2000}$"})),
         "BitdanceInput/properties/long repeats more than RE2 counts"),
        (dict(Input=_prop("word", {"type": "string", "pattern": "^[[:alpha:]]+$"})),
         "the pattern '^[[:alpha:]]+$' at #/components/schemas/BitdanceInput/properties/word "
         "has a POSIX class"),
        # names jsonschema would match with Python's re, out of the emulator's reach
        (dict(Input=_prop("tags", {"patternProperties": {"^a": {}},
                                   "unevaluatedProperties": False})),
         "patternProperties beside unevaluatedProperties is not served"),
        # cycles that never enter the value: A -> B -> A, a schema that is itself, an
        # anyOf one branch of which is the same schema again
        (dict(Output=_prop("a", _ref("A"), required=True), A=_ref("B"), B=_ref("A")),
         "the $ref cycle #/components/schemas/A -> #/components/schemas/B -> "
         "#/components/schemas/A never enters the value"),
        (dict(Input=_prop("loop", _ref("Loop")), Loop=_ref("Loop")),
         "the $ref cycle #/components/schemas/Loop -> #/components/schemas/Loop never enters"),
        (dict(Input=_prop("x", _ref("X")), X={"anyOf": [_ref("X"), {"type": "string"}]}),
         "#/components/schemas/X -> #/components/schemas/X never enters the value"),
        # a cycle every value must follow: no finite value keeps it
        (dict(Output=_prop("chain", _ref("Req"), required=True),
              Req={"type": "object", "required": ["next"], "properties": {"next": _ref("Req")}}),
         "every value must follow the $ref cycle #/components/schemas/Req -> "
         "#/components/schemas/Req (required at each step"),
        # ... whichever branch it takes: a child that is a Node again, either way
        (dict(Output=_prop("tree", _ref("Node"), required=True),
              Node={"type": "object", "required": ["child"], "properties": {
                  "child": {"oneOf": [_ref("Node"), {"allOf": [_ref("Node")]}]}}}),
         "every value must follow the $ref cycle #/components/schemas/Node -> "
         "#/components/schemas/Node (required at each step, in every anyOf/oneOf branch)"),
        (dict(Input=_prop("list", _ref("L")),
              L={"type": "array", "minItems": 1, "items": {"allOf": [_ref("L")]}}),
         "every value must follow the $ref cycle #/components/schemas/L"),
    ],
)  # fmt: skip
def test_what_the_emulator_could_never_finish_with_is_refused_naming_it(
    schemas: dict[str, Any], words: str
) -> None:
    # each loaded, then stalled the whole server (a pattern) or answered every call with
    # a 500 (a RecursionError), or a 500 where the field was sent (an audit)
    with pytest.raises(ContractError) as refused:
        load(_with(bitdance(), **schemas))
    assert str(refused.value).startswith("mine.json: ") and words in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.filterwarnings("error")
def test_a_posix_class_is_refused_before_pythons_re_warns_of_a_nested_set() -> None:
    # jsonschema's check compiled it first: "FutureWarning: Possible nested set", in CI's
    # output before the refusal (here an error, so the refusal would name that instead)
    posix = _prop("word", {"type": "string", "pattern": "^[[:alpha:]]+$"})
    re.purge()  # re warns as it compiles, not of a pattern it keeps compiled
    with pytest.raises(ContractError, match=r"at .*/properties/word has a POSIX class"):
        load(_with(bitdance(), Input=posix))


@pytest.mark.parametrize(
    "schemas",
    [
        # a \uXXXX escape: pydantic's and Python's syntax, rewritten for RE2
        dict(Input=_prop("han", {"type": "string", "pattern": "^[\\u4e00-\\u9fff]+$"})),
        # required at each step, but null may end it: {"next": null}, [[null]]
        dict(Output=_prop("link", _ref("Link"), required=True),
             Link={"type": ["object", "null"], "required": ["next"],
                   "properties": {"next": _ref("Link")}}),
        dict(Output=_prop("chain", _ref("Chain"), required=True),
             Chain={"type": ["array", "null"], "minItems": 1, "items": _ref("Chain")}),
    ],
)  # fmt: skip
def test_what_fal_would_serve_loads(schemas: dict[str, Any]) -> None:
    load(_with(bitdance(), **schemas))
