"""How many ``$ref``s deep a schema's shallowest value goes (schema_walk.py's depths), and
the ``anyOf``/``oneOf`` branch synthesis takes by them: one that ends. (What the load
refuses by them is test_checks.py's.)"""

from __future__ import annotations

import math
from typing import Any

from emulator.contracts.documents import Endpoint, endpoint_from_document
from emulator.contracts.schema_walk import shallowest, walk
from tests.user_contracts import renamed, schema

NULL = {"type": "null"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _endpoint(checked: bool = True, **schemas: Any) -> Endpoint:
    """A user's fal contract whose output's required ``tree`` is a ``Node``, of ``schemas``."""
    document = renamed("fal", "acme/tree")
    document["components"]["schemas"].update(schemas)
    output = schema(document, "Output")
    output["properties"]["tree"] = _ref("Node")
    output["required"].append("tree")
    return endpoint_from_document("fal", document, source="mine.json", checked=checked)


def _object(**required: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": required}


def test_a_branch_that_leads_back_gives_way_to_one_that_ends() -> None:
    first_back = [_ref("Node"), NULL]
    endpoint = _endpoint(Node=_object(child={"oneOf": first_back}))
    assert shallowest(endpoint, first_back) is NULL
    # a leaf, one $ref deep, is shallower than the node it ends (two)
    leaf_later = [_ref("Node"), _ref("Leaf")]
    endpoint = _endpoint(Node=_object(child={"anyOf": leaf_later}), Leaf=_object(value={}))
    assert shallowest(endpoint, leaf_later) is leaf_later[1]
    assert endpoint.ref_depths["#/components/schemas/Leaf"] == 1
    assert endpoint.ref_depths["#/components/schemas/Node"] == 2


def test_a_branch_is_as_deep_as_what_its_values_must_take() -> None:
    # a list of one Node or more, an allOf of one, are a Node deep; an optional one is not
    node = _object(child={"anyOf": [_ref("Node"), NULL]})
    endpoint = _endpoint(Node=node)
    listed = {"type": "array", "minItems": 1, "items": _ref("Node")}
    wrapped = {"allOf": [_ref("Node")]}
    optional = {"type": "object", "properties": {"node": _ref("Node")}}
    assert shallowest(endpoint, [listed, wrapped, optional]) is optional
    assert shallowest(endpoint, [listed, wrapped]) is listed  # as deep: the first


def test_equally_deep_branches_give_the_first() -> None:
    endpoint = _endpoint(Node=_object(name={"type": "string"}))
    branches = [{"type": "string"}, NULL, _ref("Node")]
    assert shallowest(endpoint, branches) is branches[0]
    assert shallowest(endpoint, branches[1:]) is NULL


def test_a_schema_no_finite_value_keeps_is_infinitely_deep() -> None:
    # a child that is a Node again in either branch: what the load refuses
    endless = _object(child={"oneOf": [_ref("Node"), {"allOf": [_ref("Node")]}]})
    depths = walk(_endpoint(checked=False, Node=endless)).depths()
    assert depths["#/components/schemas/Node"] == math.inf == depths["output"]


def test_a_schema_that_is_no_json_schema_is_walked() -> None:
    # walked before jsonschema's check refuses it (checks.py): lists in its type and its
    # required were a TypeError (unhashable), a traceback where one line is due
    malformed = {"type": [["object"]], "required": [["child"]], "properties": {"child": {}}}
    walked = walk(_endpoint(checked=False, Node=malformed))
    assert walked.depths()["#/components/schemas/Node"] == 1
