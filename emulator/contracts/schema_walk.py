"""The schemas an endpoint's input and output reach, ``$ref`` pointers followed, for the
load checks (checks.py): the patterns in them, the keywords they use, and the ``$ref``
cycles among them; and for synthesis, the ``anyOf``/``oneOf`` branch whose values end.

Each step to a ``$ref`` says whether it enters the value (a property, an item…) and
whether every value takes it (the schema itself, ``allOf``, a required property where
the ``type`` allows only an object, the items of an array of ``minItems`` 1 or more where
it allows only an array: ``{"type": ["object", "null"]}`` may be null), or every value
that takes the ``anyOf``/``oneOf`` branches on its way. Two kinds of cycle cannot be
served: one that comes back without entering the value (``A → B → A``, or ``anyOf:
[{$ref: A}, …]`` in A), against which jsonschema would check one value for ever; and one
every value must follow (``next`` required, and a ``Req`` again, in every branch), which
no finite value keeps, so none can be made. A recursion a value may stop (a tree whose
``children`` may be absent, a ``child`` that may be null) is plain JSON Schema, and is
served: its depths (`Walk.depths`) tell synthesis the branch that stops it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.contracts.documents import Endpoint


@dataclass(frozen=True)
class Branch:
    """One of the branches of an ``anyOf`` or ``oneOf``."""

    #: where its list is
    among: str
    index: int
    #: how many branches the list has
    count: int


@dataclass(frozen=True)
class Step:
    """A ``$ref`` a schema leads to."""

    target: str
    #: whether the way there enters the value (a property, an item…) or stays on it
    enters: bool
    #: whether every value the schema allows that takes ``branches`` takes this way
    forced: bool
    #: the ``anyOf``/``oneOf`` branches a forced way takes
    branches: tuple[Branch, ...] = ()


@dataclass
class Walk:
    """What the input and output schemas reach."""

    #: each ``pattern`` and ``patternProperties`` name: where it is, and it
    patterns: list[tuple[str, str]] = field(default_factory=list)
    #: every keyword used
    keywords: set[str] = field(default_factory=set)
    #: the ``$ref``s each schema walked leads to: "input", "output" and each target
    steps: dict[str, list[Step]] = field(default_factory=dict)

    def cycle(self, follows: Callable[[Step], bool]) -> list[str] | None:
        """A cycle of ``$ref``s by the steps ``follows`` keeps: its targets, the first
        again at its end; None if there is none."""
        graph = {
            node: [s.target for s in steps if follows(s) and s.target in self.steps]
            for node, steps in self.steps.items()
        }
        done: set[str] = set()
        for start in graph:
            path, ways = [start], [iter(graph[start])]
            while ways:
                following = next(ways[-1], None)
                if following is None:
                    done.add(path.pop())
                    ways.pop()
                elif following in path:
                    return [*path[path.index(following) :], following]
                elif following not in done:
                    path.append(following)
                    ways.append(iter(graph[following]))
        return None

    def depths(self) -> dict[str, float]:
        """How many ``$ref``s deep the shallowest value of each schema walked goes
        (``math.inf``: no finite value keeps it), found as a least fixed point: a schema
        ends once, in some choice of branches, each ``$ref`` its values take ends."""
        depths = dict.fromkeys(self.steps, math.inf)

        def depth_of(target: str) -> float:
            return depths.get(target, 0)  # one that leads nowhere: left to the validator

        while True:
            found = {
                name: 1 + least
                for name, steps in self.steps.items()
                if depths[name] == math.inf and (least := _depth(steps, depth_of)) < math.inf
            }
            if not found:
                return depths
            depths.update(found)  # (after the round: each depth is above those it needs)


def _depth(steps: Sequence[Step], depth_of: Callable[[str], float], taken: int = 0) -> float:
    """How many ``$ref``s deep the shallowest value of the forced ``steps`` goes, each
    inside the same ``taken`` branches: the deepest of those every such value takes, and
    of each further ``anyOf``/``oneOf``, its shallowest branch (one without a step: 0)."""
    deepest = 0.0
    lists: dict[str, list[Step]] = {}
    for step in steps:
        if step.forced and len(step.branches) == taken:
            deepest = max(deepest, depth_of(step.target))
        elif step.forced:
            lists.setdefault(step.branches[taken].among, []).append(step)
    for within in lists.values():
        count = within[0].branches[taken].count
        deepest = max(
            deepest,
            min(
                _depth([s for s in within if s.branches[taken].index == i], depth_of, taken + 1)
                for i in range(count)
            ),
        )
    return deepest


def shallowest(endpoint: Endpoint, branches: Sequence[Any]) -> Any:
    """Of an ``anyOf``/``oneOf``'s ``branches``, the first whose shallowest value follows
    the fewest ``$ref``s: one that ends, where the first may be the schema being made
    again (``child: {anyOf: [{$ref: Node}, {type: null}]}`` in ``Node``)."""

    def depth(branch: Any) -> float:
        steps = list(_walk_schema(branch, "", Walk()))
        return _depth(steps, lambda target: endpoint.ref_depths.get(target, 0))

    return branches[0] if len(branches) == 1 else min(branches, key=depth)


def walk(endpoint: Endpoint) -> Walk:
    """Every schema the endpoint's input and output schemas reach, each walked once."""
    walked = Walk()
    pending: list[tuple[str, Any]] = [
        ("output", endpoint.output_schema),
        ("input", endpoint.input_schema),
    ]
    queued = {name for name, _ in pending}
    while pending:
        name, schema = pending.pop()
        steps = walked.steps[name] = list(_walk_schema(schema, name, walked))
        for step in steps:
            if step.target not in queued:
                queued.add(step.target)
                target = _target(endpoint, step.target)
                if target is not None:
                    pending.append((step.target, target))
    return walked


def _target(endpoint: Endpoint, ref: str) -> Any:
    """What a local ``$ref`` leads to; None for one that leads nowhere (refused or left
    to the validator elsewhere)."""
    from emulator.contracts.checks import ContractError

    try:
        return endpoint._lookup(ref)
    except (ContractError, KeyError, TypeError, IndexError):
        return None


def _walk_schema(schema: Any, where: str, walked: Walk) -> Iterator[Step]:
    """The steps to ``$ref``s in ``schema``, recording its patterns and keywords; with a
    stack, not recursion: a document may nest deeper than Python's."""
    stack: list[tuple[Any, str, bool, bool, tuple[Branch, ...]]] = [
        (schema, where, False, True, ())
    ]
    while stack:
        node, at, enters, forced, branches = stack.pop()
        if not isinstance(node, Mapping):
            continue  # a boolean schema, or a malformed one (the metaschema's to refuse)
        walked.keywords.update(key for key in node if isinstance(key, str))
        if isinstance(node.get("$ref"), str):
            yield Step(node["$ref"], enters, forced, branches)
        if isinstance(node.get("pattern"), str):
            walked.patterns.append((at, node["pattern"]))
        named = node.get("patternProperties")
        if isinstance(named, Mapping):
            walked.patterns.extend((f"{at}/patternProperties", name) for name in named)
        for path, child, entered, required in _children(node):
            taken = branches
            key, _, index = path.partition("/")
            if forced and key in ("anyOf", "oneOf") and len(node[key]) > 1:  # one of several
                taken = (*branches, Branch(f"{at}/{key}", int(index), len(node[key])))
            stack.append((child, f"{at}/{path}", enters or entered, forced and required, taken))


def _children(node: Mapping[str, Any]) -> Iterator[tuple[str, Any, bool, bool]]:
    """Each subschema of ``node``: where, it, whether it enters the value, and whether
    every value ``node`` allows goes through it (of an ``anyOf``/``oneOf``, every value
    that takes that branch)."""
    listed = node.get("required") if _only(node, "object") else None
    names = listed if isinstance(listed, list) else ()
    required = {name for name in names if isinstance(name, str)}  # (walked before it is checked)
    least = _count(node, "minItems", 0) if _only(node, "array") else 0
    for key, value in node.items():
        if key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            yield from ((f"{key}/{i}", s, False, True) for i, s in enumerate(value))
        elif key in ("not", "if", "then", "else"):
            yield key, value, False, False
        elif key in ("properties", "patternProperties", "dependentSchemas"):
            for name, sub in value.items() if isinstance(value, Mapping) else ():
                counted = key == "properties" and name in required
                yield f"{key}/{name}", sub, key != "dependentSchemas", counted
        elif key == "items" and isinstance(value, list):  # (an older draft's tuple)
            yield from ((f"items/{i}", s, True, least > i) for i, s in enumerate(value))
        elif key == "prefixItems" and isinstance(value, list):
            yield from ((f"prefixItems/{i}", s, True, least > i) for i, s in enumerate(value))
        elif key == "items":  # (after prefixItems' items, if any)
            before = node.get("prefixItems")
            yield key, value, True, least > (len(before) if isinstance(before, list) else 0)
        elif key == "contains":
            yield key, value, True, _count(node, "minContains", 1) > 0
        elif key in _ENTERING:
            yield key, value, True, False


#: keywords whose schema checks parts of the value that a value need not have
_ENTERING = (
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "propertyNames",
)


def _only(node: Mapping[str, Any], kind: str) -> bool:
    """Whether ``node``'s ``type`` admits no value but a ``kind`` (``[object, null]``'s
    null needs no required property); with no ``type``, one is made as a ``kind``."""
    declared = node.get("type", kind)
    return declared in (kind, [kind])


def _count(node: Mapping[str, Any], keyword: str, default: int) -> int:
    value = node.get(keyword, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default
