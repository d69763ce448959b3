"""A permissive contract for any fal endpoint id (``--unknown-endpoints generic``).

For models newer than the catalogue: any id answers, its input is any JSON object (the
usual fields typed loosely), and its output is what its name's category makes: images for
``…/text-to-image``, a video for ``…/image-to-video``, audio for ``…/tts``, a mesh for
``…/image-to-3d``, text for an LLM. The default stays fal's 404, as the real API answers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from emulator.contracts.catalogue import openapi_document
from emulator.contracts.documents import Endpoint, endpoint_from_document
from emulator.contracts.kinds import category_from_id, category_kind

TIER = "generic"
_FILE: dict[str, Any] = {
    "type": "object",
    "required": ["url"],
    "properties": {
        "url": {"type": "string"},
        "content_type": {"type": "string"},
        "file_name": {"type": "string"},
        "file_size": {"type": "integer"},
    },
}
_IMAGE = {
    **_FILE,
    "properties": {
        **_FILE["properties"],
        "width": {"type": "integer"},
        "height": {"type": "integer"},
    },
}
_INPUT = {
    "type": "object",
    "additionalProperties": True,
    "properties": {
        "prompt": {"type": "string"},
        "image_url": {"type": "string"},
        "image_size": {},
        "num_images": {"type": "integer", "minimum": 1, "maximum": 8},
        "seed": {"type": "integer"},
        "sync_mode": {"type": "boolean"},
    },
}
#: the kind an endpoint makes → its output's fields
_OUTPUTS: dict[str | None, dict[str, Any]] = {
    "image": {"images": {"type": "array", "items": {"$ref": "#/components/schemas/Image"}}},
    "video": {"video": {"$ref": "#/components/schemas/File"}},
    "audio": {"audio": {"$ref": "#/components/schemas/File"}},
    "mesh": {"model_mesh": {"$ref": "#/components/schemas/File"}},
    None: {"output": {"type": "string"}},
}


@lru_cache(maxsize=1024)
def generic_endpoint(provider: str, endpoint_id: str) -> Endpoint | None:
    """The generic contract of a fal id (other providers' ids stay unknown)."""
    if provider != "fal" or not endpoint_id or "/requests/" in f"/{endpoint_id}/":
        return None
    category = category_from_id(endpoint_id) or "text-to-image"
    kind = category_kind(category)
    fields = _OUTPUTS.get(kind, _OUTPUTS[None])
    types = {
        "GenericInput": _INPUT,
        "GenericOutput": {
            "type": "object",
            "required": list(fields),
            "properties": {**fields, "seed": {"type": "integer"}},
        },
        "File": _FILE,
        "Image": _IMAGE,
    }
    document = openapi_document(endpoint_id, "GenericInput", "GenericOutput", types, category)
    return endpoint_from_document(provider, document, source="generic: by name", tier=TIER)
