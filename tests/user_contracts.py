"""Users' own contract documents for the tests: a shipped one copied under a new id (its
paths and metadata), to change and write to a folder for ``--contracts``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR

#: the shipped document each provider's copies start from, and the id it names
SHIPPED = {
    "fal": ("fal/fal-ai/bitdance.json", "fal-ai/bitdance"),
    "wavespeed": (
        "wavespeed/wavespeed-ai/bitdance-14b/text-to-image.json",
        "wavespeed-ai/bitdance-14b/text-to-image",
    ),
}


def renamed(provider: str, endpoint_id: str) -> dict[str, Any]:
    """The provider's shipped text-to-image document, its id made ``endpoint_id``."""
    path, shipped_id = SHIPPED[provider]
    text = (DEFAULT_CONTRACTS_DIR / path).read_text()
    document: dict[str, Any] = json.loads(text.replace(shipped_id, endpoint_id))
    return document


def schema(document: dict[str, Any], suffix: str) -> dict[str, Any]:
    """The document's component schema whose name ends with ``suffix`` ("Input",
    "Output", WaveSpeed's "Prediction"), to change in place."""
    schemas = document["components"]["schemas"]
    found: dict[str, Any] = next(v for k, v in schemas.items() if k.endswith(suffix))
    return found


def written(folder: Path, provider: str, document: dict[str, Any]) -> Path:
    """``folder``, with ``document`` written in it as ``--contracts`` reads it."""
    endpoint_id = document["info"][f"x-{provider}-metadata"]
    name = endpoint_id["endpointId" if provider == "fal" else "modelId"]
    path = folder / provider / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return folder
