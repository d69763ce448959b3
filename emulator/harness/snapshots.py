"""Parity snapshots: a call's exchange, normalised so that two runs can be compared.

Ids, URLs, timestamps, seeds, timings and byte sizes become placeholders that keep
identity (LocalStack's snapshot transformers: the same request id is ``<request-id:1>``
everywhere, inside URLs too). A snapshot file holds one call::

    {"origin": "docs" | "live", "source": "…", "recorded": "2026-08-02",
     "request": {"provider": "fal", "endpoint": "fal-ai/bitdance", "arguments": {…}},
     "exchange": [{"method": "POST", "url": "…", "status": 200, "headers": {…}, "body": …}],
     "differences": [{"path": "$.exchange[3].body.images[*].width", "reason": "…"}]}

``differences`` are the JSON paths where the emulator is allowed to differ, each with its
reason; `compare` ignores them and reports everything else (DeepDiff). A status a job
passes through (queued, in progress) that one run polled and the other did not is timing,
not a difference: a real job may start, or finish, before its first poll.
"""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepdiff import DeepDiff
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse
from jsonpath_ng.jsonpath import Child, Descendants, Root, This, Wildcard
from localstack_snapshot.snapshots.transformer import (
    JsonpathTransformer,
    KeyValueBasedTransformer,
    TransformContext,
)

from emulator.core.atomic_writes import write_atomically
from emulator.harness.calls import Exchange, restated, status_in

__all__ = ["Snapshot", "SnapshotError", "compare", "normalise", "snapshot_of"]

_IDS = ("$..request_id", "$..gateway_request_id", "$.exchange[*].body.data.id")
_MEDIA = ("$..images[*].url", "$..video.url", "$..image.url", "$..outputs[*]")
#: key → placeholder, replaced wherever the key appears (values differ run to run)
_VOLATILE = {
    "seed": "<seed>",
    "file_size": "<bytes>",
    "file_name": "<file-name>",
    "queue_position": "<queue-position>",
    "created_at": "<timestamp>",
    "timestamp": "<timestamp>",
    "inference_time": "<seconds>",
    "timings": "<timings>",
    "executionTime": "<milliseconds>",
    "x-fal-request-id": "<header-request-id>",
    "etag": "<etag>",
}


#: the statuses a job passes through on its way to its end, which a run may or may not poll
_PASSING = {"fal": {"IN_QUEUE", "IN_PROGRESS"}, "wavespeed": {"created", "processing"}}
_STEP_FIELDS = {"method": str, "url": str, "status": int, "headers": dict}


class SnapshotError(ValueError):
    """A snapshot file that cannot be read or no longer parses."""


def _volatile(key: str, value: Any) -> str | None:
    if key in _VOLATILE and value is not None:
        return value if isinstance(value, str) else ""
    return None


def normalise(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with volatile values replaced by identity-keeping placeholders."""
    data = copy.deepcopy(dict(document))
    context = TransformContext()
    # Media URLs first: they may contain a request id, and replacements apply in order.
    for path in _MEDIA:
        data = JsonpathTransformer(path, "media-url").transform(data, ctx=context)
    for path in _IDS:
        data = JsonpathTransformer(path, "request-id").transform(data, ctx=context)
    for key, placeholder in _VOLATILE.items():
        transformer = KeyValueBasedTransformer(
            lambda k, v, key=key: _volatile(k, v) if k == key else None,
            placeholder,
            replace_reference=False,
        )
        data = transformer.transform(data, ctx=context)
    text = json.dumps(data, sort_keys=True)
    for replace in context.serialized_replacements:
        text = replace(text)
    return json.loads(text)


def _distinct_polls(exchange: Exchange) -> list[dict[str, Any]]:
    """Submit, the first poll of each status (live runs poll a varying number of times),
    and the rest."""
    steps, seen = [], set()
    for index, step in enumerate(exchange.steps):
        status = exchange.status_of(step)
        polled = step.method == "GET" and status is not None and 0 < index
        if polled and status in seen and index < len(exchange.steps) - 1:
            continue
        if polled:
            seen.add(status)
        steps.append(
            {
                "method": step.method,
                "url": step.url,
                "status": step.status,
                "headers": step.headers,
                "body": step.body,
            }  # fmt: skip
        )
    return steps


@dataclass
class Snapshot:
    path: Path
    document: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Snapshot:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"{path}: cannot read the snapshot ({exc})") from None
        for key in ("request", "exchange"):
            if not isinstance(document, dict) or key not in document:
                raise SnapshotError(f"{path}: not a snapshot (no {key!r})")
        _check_request(path, document["request"])
        _check_exchange(path, document["exchange"])
        declared = document.get("differences", [])
        if not isinstance(declared, list):
            raise SnapshotError(f"{path}: its differences are not a list")
        for difference in declared:
            if not isinstance(difference, dict) or not difference.get("reason"):
                raise SnapshotError(f"{path}: each declared difference needs a path and a reason")
            _narrow(
                path, _jsonpath(path, difference.get("path")), {"exchange": document["exchange"]}
            )
        return cls(path, document)

    @property
    def provider(self) -> str:
        return self.document["request"]["provider"]

    @property
    def endpoint(self) -> str:
        return self.document["request"]["endpoint"]

    @property
    def arguments(self) -> dict[str, Any]:
        return self.document["request"].get("arguments", {})

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.document, indent=2, ensure_ascii=False, sort_keys=False)
        write_atomically(self.path, text + "\n")


def _check_request(where: Path, request: Any) -> None:
    provider = request.get("provider") if isinstance(request, dict) else None
    if provider not in _PASSING:
        raise SnapshotError(
            f"{where}: its request's provider {provider!r} is none of {', '.join(_PASSING)}"
        )
    if not isinstance(request.get("endpoint"), str) or not request["endpoint"]:
        raise SnapshotError(f"{where}: its request names no endpoint")
    if not isinstance(request.get("arguments", {}), dict):
        raise SnapshotError(f"{where}: its request's arguments are not an object")


def _check_exchange(where: Path, exchange: Any) -> None:
    if not isinstance(exchange, list) or not exchange:
        raise SnapshotError(f"{where}: its exchange is not a list of steps")
    for index, step in enumerate(exchange):
        if not isinstance(step, dict):
            raise SnapshotError(f"{where}: step {index} of its exchange is not an object")
        wrong = [
            name for name, kind in _STEP_FIELDS.items() if not isinstance(step.get(name), kind)
        ]
        wrong += [] if "body" in step else ["body"]
        if wrong:
            raise SnapshotError(f"{where}: step {index} of its exchange lacks {', '.join(wrong)}")


def _jsonpath(where: Path, text: Any) -> Any:
    try:
        return parse(text)
    except (JsonPathParserError, TypeError, AttributeError, Exception) as exc:
        raise SnapshotError(f"{where}: bad JSON path {text!r} ({exc})") from None


def _narrow(where: Path, path: Any, document: Any) -> None:
    """Refuse a declared difference that would hide a whole step, its body or its headers
    (or all of them, ``$``), in any exchange as written or in ``document`` as found: one
    reason cannot explain all that differs there, and such a path would switch the
    comparison off."""
    found = [_parts(match.full_path) for match in path.find(document)]
    if _too_broad(_parts(path)) or any(_too_broad(parts) for parts in found):
        raise SnapshotError(
            f"{where}: the declared difference {str(path)!r} covers a whole step, or all of "
            "a step's body or headers: name the fields that differ"
        )


def _too_broad(parts: list[Any]) -> bool:
    """Whether a path (its parts below ``$``) names a whole step, body or headers: fewer
    than three parts (``$.exchange[1]``), a step's body or headers themselves, or all of a
    step's fields, or of its body's or headers' (``$.exchange[*].*``, ``….body.*``).
    A path that searches (``$..x``) is judged by what it finds."""
    if any(isinstance(part, Descendants) for part in parts):
        return False
    if len(parts) < 3 or isinstance(parts[2], Wildcard):
        return True
    named = set(getattr(parts[2], "fields", ()))
    whole = named & {"body", "headers"} and (len(parts) == 3 or isinstance(parts[3], Wildcard))
    return bool(whole)


def _parts(path: Any) -> list[Any]:
    if isinstance(path, Child):
        return _parts(path.left) + _parts(path.right)
    return [] if isinstance(path, Root | This) else [path]


def snapshot_of(
    exchange: Exchange,
    path: Path,
    *,
    origin: str,
    source: str,
    differences: list[dict[str, str]] | None = None,
) -> Snapshot:
    """A normalised snapshot of ``exchange``, to be saved at ``path``; ``differences``:
    the paths where the emulator may differ (those of the snapshot it was recorded from)."""
    document = {
        "origin": origin,
        "source": source,
        "recorded": datetime.date.today().isoformat(),
        "request": {
            "provider": exchange.provider,
            "endpoint": exchange.endpoint,
            "arguments": exchange.arguments,
        },
        "exchange": _distinct_polls(exchange),
        "differences": list(differences or []),
    }
    return Snapshot(path, {**document, "exchange": normalise(document)["exchange"]})


def compare(snapshot: Snapshot, exchange: Exchange, *, observed_by: str = "emulator") -> list[str]:
    """The undeclared differences between the snapshot and a new run (of the emulator, or
    of whatever ``observed_by`` names: the live provider), one line each."""
    expected = normalise({"exchange": snapshot.document["exchange"]})
    observed = normalise({"exchange": _distinct_polls(exchange)})
    observed["exchange"] = _aligned(expected["exchange"], observed["exchange"], exchange.provider)
    for declared in snapshot.document.get("differences", []):
        path = _jsonpath(snapshot.path, declared["path"])
        expected = path.filter(lambda _: True, expected)
        observed = path.filter(lambda _: True, observed)
    diff = DeepDiff(expected, observed, view="tree", verbose_level=2)
    return [
        f"{change.path(output_format='str').replace('root', '$', 1)}: {kind} "
        f"(snapshot {_short(change.t1)}, {observed_by} {_short(change.t2)})"
        for kind, changes in diff.items()
        for change in changes
    ]


def _aligned(expected: list[Any], observed: list[Any], provider: str) -> list[Any]:
    """``observed``'s steps in ``expected``'s places. A passing status polled in one run
    only is timing: where ``expected`` polled one that ``observed`` did not, its own step
    stands in; where ``observed`` alone polled it, it is left out; a submit's answer may
    state either (WaveSpeed's: a job may start before it is answered). Every other step
    keeps its order, so a step missing, added or changed is still reported where it is."""

    def passing(step: Any) -> str | None:
        found = status_in(provider, step.get("body")) if isinstance(step, dict) else None
        return found if found in _PASSING[provider] else None

    def polled(steps: list[Any]) -> list[str | None]:
        """Each step's passing status where it is a poll of one (the first: the submit)."""
        rest = (passing(step) if step.get("method") == "GET" else None for step in steps[1:])
        return [None, *rest] if steps else []

    stated = passing(expected[0]) if expected else None
    if stated and observed and passing(observed[0]):
        observed = [{**observed[0], "body": restated(provider, observed[0]["body"], stated)},
                    *observed[1:]]  # fmt: skip
    seen = polled(observed)
    polls: dict[str, Any] = {}
    for step, status in zip(observed, seen, strict=True):
        if status is not None:
            polls.setdefault(status, step)
    others = iter(step for step, status in zip(observed, seen, strict=True) if status is None)
    aligned = []
    for step, status in zip(expected, polled(expected), strict=True):
        counterpart = polls.get(status, step) if status is not None else next(others, None)
        if counterpart is None:
            break  # the run ended short: what follows is reported missing
        aligned.append(counterpart)
    return [*aligned, *others]


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
