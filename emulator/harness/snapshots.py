"""Parity snapshots: a call's exchange, normalised so that two runs can be compared.

Ids, URLs, timestamps, seeds, timings and byte sizes become placeholders that keep
identity (LocalStack's snapshot transformers: the same request id is ``<request-id:1>``
everywhere, inside URLs too). A snapshot file holds one call::

    {"origin": "docs" | "live", "source": "…", "recorded": "2026-08-02",
     "request": {"provider": "fal", "endpoint": "fal-ai/bitdance", "arguments": {…}},
     "exchange": [{"method": "POST", "url": "…", "status": 200, "headers": {…}, "body": …}],
     "differences": [{"path": "$.exchange[3].body.images[*].width", "reason": "…"}]}

``differences`` are the JSON paths where the emulator is allowed to differ, each with its
reason; `compare` ignores them and reports everything else (DeepDiff).
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
from localstack_snapshot.snapshots.transformer import (
    JsonpathTransformer,
    KeyValueBasedTransformer,
    TransformContext,
)

from emulator.contracts.sync import write_atomically
from emulator.harness.calls import Exchange

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
        for declared in document.get("differences", []):
            if not isinstance(declared, dict) or not declared.get("reason"):
                raise SnapshotError(f"{path}: each declared difference needs a path and a reason")
            _jsonpath(path, declared.get("path"))
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


def _jsonpath(where: Path, text: Any) -> Any:
    try:
        return parse(text)
    except (JsonPathParserError, TypeError, AttributeError, Exception) as exc:
        raise SnapshotError(f"{where}: bad JSON path {text!r} ({exc})") from None


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


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
