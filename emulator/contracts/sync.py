"""``contracts sync``: apply a drift report's patches to the shipped documents.

Every document is patched in memory and re-checked as a contract before anything is
written; then each is written to a temporary file beside it and moved into place, so an
interrupted or failed sync leaves the old documents, never half of one.
"""

from __future__ import annotations

import copy
import datetime
import json
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulator.contracts.documents import ContractError, Contracts, endpoint_from_document
from emulator.contracts.drift import DELETE, Change, DriftReport
from emulator.core.atomic_writes import write_atomically

#: where a synced document records its source and date
SYNC_NOTE = "x-emulator-sync"


def _node(document: dict[str, Any], pointer: str) -> dict[str, Any]:
    node: Any = document
    for part in filter(None, pointer.split("/")):
        node = node.setdefault(part.replace("~1", "/").replace("~0", "~"), {})
    if not isinstance(node, dict):
        raise ContractError(f"cannot patch {pointer}: not an object")
    return node


def _list_required(schema: dict[str, Any], change: Change) -> None:
    """An added field listed in its object's ``required`` list if it is required, a removed
    one no longer (the change of the field says it; the list's own change leaves it out)."""
    required = [name for name in schema.get("required", []) if name != change.key]
    required += [change.key] * change.required
    if required or "required" in schema:
        schema["required"] = required


def apply_changes(
    document: Mapping[str, Any], changes: list[Change], report: DriftReport, today: str
) -> dict[str, Any]:
    """A patched copy of ``document``, its ``info`` noting the source and the date."""
    patched = copy.deepcopy(dict(document))
    for change in changes:
        node = _node(patched, change.pointer)
        if change.value is DELETE:
            node.pop(change.key, None)
        else:
            node[change.key] = copy.deepcopy(change.value)
        if change.aspect in ("added", "removed") and change.pointer.endswith("/properties"):
            _list_required(_node(patched, change.pointer.removesuffix("/properties")), change)
    notes = patched.setdefault("info", {}).setdefault(SYNC_NOTE, [])
    for origin in dict.fromkeys(c.origin for c in changes):
        notes.append(
            {
                "source": origin or report.source,
                "published": None if origin else report.date,
                "synced": today,
                "changes": [c.message for c in changes if c.origin == origin],
            }
        )
    return patched


def sync_contracts(
    contracts: Contracts, report: DriftReport, *, today: str | None = None
) -> list[Path]:
    """Apply ``report`` to the documents ``contracts`` were loaded from; the paths written."""
    today = today or datetime.date.today().isoformat()
    by_endpoint: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for change in report.changes:
        by_endpoint[(change.provider, change.endpoint)].append(change)
    staged: list[tuple[Path, str]] = []
    for (provider, endpoint_id), changes in sorted(by_endpoint.items()):
        endpoint = contracts.get(provider, endpoint_id)
        if endpoint is None or not endpoint.source:
            raise ContractError(f"{provider} {endpoint_id}: no document to sync")
        patched = apply_changes(endpoint.document, changes, report, today)
        endpoint_from_document(provider, patched, source=endpoint.source)  # still a contract
        staged.append((Path(endpoint.source), json.dumps(patched, indent=2, ensure_ascii=False)))
    for path, text in staged:
        write_atomically(path, text + "\n")
    return [path for path, _ in staged]
