"""A permissive contract for any model id (``--unknown-endpoints generic``).

For models the emulator has no contract of (fal's newer than its catalogue, WaveSpeed's
beyond its curated few): any id answers, its input is any JSON object (the usual fields
typed loosely), and its output is what its name's category makes: images for
``…/text-to-image``, a video for ``…/image-to-video`` or ``…-i2v-720p``, audio for
``…/tts``, a mesh for ``…/image-to-3d``, text for an LLM; for a name without such a word,
what the model it names makes (veo, kling: a video), else images; a WaveSpeed model's as
its ``outputs`` (JPEG, MP4, MP3 or GLB files). Either provider's are shaped by the same
inputs (`_SHAPING`: a video's length, frame rate, shape and resolution, a file's format,
the text a speech model says),
the resolution an id names (``…-t2v-480p``) the default. The default stays the provider's
404, as the real APIs answer.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from emulator.contracts.catalogue import openapi_document
from emulator.contracts.checks import could_be_model
from emulator.contracts.documents import Endpoint, endpoint_from_document
from emulator.contracts.kinds import category_from_id, category_from_model, category_kind

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
#: the inputs that shape what a model makes, typed loosely, which both providers'
#: generic contracts declare: synthesis reads only the inputs a contract declares
_SHAPING: dict[str, Any] = {
    "prompt": {"type": "string"},
    "text": {"type": "string"},  # what a TTS model says (minimax's, elevenlabs'): its length
    "seed": {"type": "integer"},
    "aspect_ratio": {},
    "resolution": {},
    "duration": {},
    "fps": {},
    "output_format": {},
}
#: fal's own inputs beside them
_FAL_INPUTS = {
    "image_url": {"type": "string"},
    "image_size": {},
    "num_images": {"type": "integer", "minimum": 1, "maximum": 8},
    "sync_mode": {"type": "boolean"},
}
#: a resolution an id names (WaveSpeed's ``…-t2v-480p``, ``…-v2v-720p``)
_NAMED_RESOLUTION = re.compile(r"(?<![0-9a-z])([0-9]{3,4})p(?![0-9a-z])")
#: the kind an endpoint makes → its output's fields
_OUTPUTS: dict[str | None, dict[str, Any]] = {
    "image": {"images": {"type": "array", "items": {"$ref": "#/components/schemas/Image"}}},
    "video": {"video": {"$ref": "#/components/schemas/File"}},
    "audio": {"audio": {"$ref": "#/components/schemas/File"}},
    "mesh": {"model_mesh": {"$ref": "#/components/schemas/File"}},
    None: {"output": {"type": "string"}},
}


#: WaveSpeed's platform options and the inputs its models share beside them
_WAVESPEED_INPUTS = {
    "image": {"type": "string"},
    "images": {"type": "array", "items": {"type": "string"}},
    "size": {"type": "string"},
    "enable_sync_mode": {"type": "boolean"},
    "enable_base64_output": {"type": "boolean"},
    "webhook_url": {"type": "string"},
}
#: the kind a WaveSpeed model makes → its outputs' type (text: none)
_WAVESPEED_MEDIA = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/mpeg",
    "mesh": "model/gltf-binary",
}


def _input(endpoint_id: str, provider_inputs: dict[str, Any]) -> dict[str, Any]:
    """Any JSON object, the shaping inputs and ``provider_inputs`` typed loosely; the
    resolution an id names (``…-t2v-480p``) is its ``resolution``'s default."""
    properties = {**_SHAPING, **provider_inputs}
    named = _NAMED_RESOLUTION.search(endpoint_id.lower())
    if named:
        properties["resolution"] = {"default": f"{named[1]}p"}
    return {"type": "object", "additionalProperties": True, "properties": properties}


@lru_cache(maxsize=1024)
def generic_endpoint(provider: str, endpoint_id: str) -> Endpoint | None:
    """The generic contract of a model id; None for an id no model can have (malformed,
    or a path of the provider's own API): the provider's 404, as without the fallback."""
    if not could_be_model(provider, endpoint_id):
        return None
    category = category_from_id(endpoint_id) or category_from_model(endpoint_id) or "text-to-image"
    if provider == "wavespeed":
        document = _wavespeed_document(endpoint_id, category)
        return endpoint_from_document(provider, document, source="generic: by name", tier=TIER)
    if provider != "fal":
        return None
    kind = category_kind(category)
    fields = _OUTPUTS.get(kind, _OUTPUTS[None])
    types = {
        "GenericInput": _input(endpoint_id, _FAL_INPUTS),
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


def _wavespeed_document(model_id: str, category: str) -> dict[str, Any]:
    """A WaveSpeed model's submit and result, as its curated contracts have them."""
    media_type = _WAVESPEED_MEDIA.get(category_kind(category) or "")
    item: dict[str, Any] = {"type": "string"}
    if media_type:
        item["contentMediaType"] = media_type
    prediction = {
        "type": "object",
        "required": ["outputs"],
        "properties": {
            "outputs": {"type": "array", "items": item},
            "has_nsfw_contents": {"type": "array", "items": {"type": "boolean"}},
        },
    }
    output = {"type": "object", "required": ["data"], "properties": {"data": prediction}}

    def body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": schema}}}

    return {
        "openapi": "3.0.4",
        "info": {
            "title": f"WaveSpeed AI API for {model_id}",
            "version": "1.0.0",
            "description": f"A generic contract for {model_id}, made from its name.",
            "x-wavespeed-metadata": {"modelId": model_id, "category": category},
        },
        "servers": [{"url": "https://api.wavespeed.ai"}],
        "paths": {
            f"/api/v3/{model_id}": {
                "post": {
                    "requestBody": {
                        "required": True,
                        **body(_input(model_id, _WAVESPEED_INPUTS)),
                    },
                    "responses": {"200": {"description": "The task was created."}},
                }
            },
            "/api/v3/predictions/{request_id}/result": {
                "get": {"responses": {"200": {"description": "The prediction.", **body(output)}}}
            },
        },
    }
