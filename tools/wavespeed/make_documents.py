"""Write WaveSpeed model contracts (contracts/wavespeed/…) from the parameter tables of
WaveSpeed's published model pages.

WaveSpeed publishes no per-model OpenAPI. Each model below is its page's parameter table
(name, type, default, range, required), written as JSON Schema; the rest of the document
(prediction envelope, paths, platform options) is the same for every model and is taken
from the curated ``bytedance/seedance-v1-lite-t2v-480p`` document, so the two stay alike.

    .venv/bin/python tools/wavespeed/make_documents.py
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "contracts/wavespeed/bytedance/seedance-v1-lite-t2v-480p.json"
TEMPLATE_NAME = "BytedanceSeedanceV1LiteT2v480p"
PLATFORM_OPTIONS = ("enable_sync_mode", "enable_base64_output", "webhook_url")
SEED = {"type": "integer", "minimum": -1, "maximum": 2147483647, "default": -1}
VOICES = [
    "Wise_Woman", "Friendly_Person", "Inspirational_girl", "Deep_Voice_Man", "Calm_Woman",
    "Casual_Guy", "Lively_Girl", "Patient_Man", "Young_Knight", "Determined_Man",
    "Lovely_Girl", "Decent_Boy", "Imposing_Manner", "Elegant_Man", "Abbess", "Sweet_Girl_2",
    "Exuberant_Girl",
]  # fmt: skip


def text(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def number(kind: str, default: float, low: float, high: float, description: str) -> dict:
    return {"type": kind, "default": default, "minimum": low, "maximum": high,
            "description": description}  # fmt: skip


def size(default: str, low: int, high: int) -> dict[str, Any]:
    """WaveSpeed's "W*H" size, each side bounded (the rule contracts/rules.py enforces)."""
    return {
        "type": "string",
        "default": default,
        "pattern": "^\\s*[0-9]{1,6}\\s*\\*\\s*[0-9]{1,6}\\s*$",
        "description": f"The size in pixels (width*height), {low} ~ {high} per dimension.",
        "errorMessage": f"size must be 'W*H' with each side between {low} and {high}",
        "x-emulator-size": {
            "sides": [low, high],
            "message": f"Width and height must be between {low} and {high}.",
        },
    }


MODELS: list[dict[str, Any]] = [
    {
        "id": "wavespeed-ai/flux-dev",
        "category": "text-to-image",
        "page": "https://wavespeed.ai/docs/docs-api/flux-dev",
        "output": {"contentMediaType": "image/jpeg"},
        "required": ["prompt"],
        "properties": {
            "prompt": text("The prompt to generate an image from."),
            "image": text("The image to generate an image from (URL or base64)."),
            "mask_image": text("Where to generate new pixels (white) and where to keep them."),
            "strength": number("number", 0.8, 0, 1, "How much to transform the image."),
            "size": size("1024*1024", 512, 1536),
            "num_inference_steps": number("integer", 28, 1, 50, "Inference steps."),
            "seed": SEED,
            "guidance_scale": number("number", 3.5, 0, 10, "Prompt adherence."),
            "num_images": number("integer", 1, 1, 4, "How many images to generate."),
            "output_format": {"type": "string", "enum": ["jpeg", "png"], "default": "jpeg"},
            "enable_safety_checker": {"type": "boolean", "default": True},
        },
        "notes": ["size is 512 ~ 1536 per side on the page."],
    },
    {
        "id": "kwaivgi/kling-v2.1-i2v-standard",
        "category": "image-to-video",
        "page": "https://wavespeed.ai/docs/docs-api/kwaivgi-kling-v2.1-i2v-standard",
        "output": {"contentMediaType": "video/mp4",
                   "x-emulator-media": {"resolution": "720p", "fps": 24}},
        "required": ["prompt", "image"],
        "properties": {
            "prompt": text("Motion and camera direction for the clip."),
            "negative_prompt": text("What to avoid."),
            "image": text("The reference image (URL): the first frame."),
            "guidance_scale": number("number", 0.5, 0, 1, "How literally motion follows."),
            "duration": {"type": "integer", "enum": [5, 10], "default": 5},
        },
        "notes": ["Standard is 720p per the page; fps 24 is a guess."],
    },
    {
        "id": "wavespeed-ai/wan-2.2/t2v-480p",
        "category": "text-to-video",
        "page": "https://wavespeed.ai/docs/docs-api/wan-2.2-t2v-480p",
        "output": {"contentMediaType": "video/mp4", "x-emulator-media": {"fps": 16}},
        "required": ["prompt"],
        "properties": {
            "prompt": text("The positive prompt for the generation."),
            "negative_prompt": text("What to avoid."),
            "size": {"type": "string", "enum": ["832*480", "480*832"], "default": "832*480"},
            "duration": {"type": "integer", "enum": [5, 8], "default": 5},
            "seed": SEED,
        },
        "notes": ["Durations 5 and 8 s are the Wan 2.2 pages' (I2V states them); fps is a guess."],
    },
    {
        "id": "bytedance/seedream-v4/edit",
        "category": "image-to-image",
        "page": "https://wavespeed.ai/docs/docs-api/bytedance-seedream-v4-edit",
        "output": {"contentMediaType": "image/jpeg"},
        "required": ["prompt", "images"],
        "properties": {
            "prompt": text("How to edit the images."),
            "images": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                       "maxItems": 10, "description": "Input images (URLs), up to 10."},
            "size": size("2048*2048", 1024, 4096),
        },
        "notes": ["The limit of 10 images and the size default are the seedream-v4 pages'."],
    },
    {
        "id": "bytedance/seedance-v1-pro-i2v-1080p",
        "category": "image-to-video",
        "page": "https://wavespeed.ai/docs/docs-api/bytedance/bytedance-seedance-v1-pro-i2v-1080p",
        "output": {"contentMediaType": "video/mp4",
                   "x-emulator-media": {"resolution": "1080p", "fps": 24}},
        "required": ["prompt", "image"],
        "properties": {
            "prompt": text("Motion and scene direction."),
            "image": text("The starting reference image (URL)."),
            "last_image": text("An end-frame reference image (URL)."),
            "duration": number("integer", 5, 5, 10, "Length in seconds."),
            "camera_fixed": {"type": "boolean", "default": False},
            "seed": SEED,
        },
        "notes": ["The page prices up to 20 s; its sibling pages bound duration to 5 ~ 10."],
    },
    {
        "id": "minimax/speech-02-hd",
        "category": "text-to-speech",
        "page": "https://wavespeed.ai/docs/docs-api/minimax/minimax-speech-02-hd",
        "output": {"contentMediaType": "audio/mpeg"},
        "required": ["text", "voice_id"],
        "properties": {
            "text": {**text("Text to speak, up to 10000 characters."), "maxLength": 10000},
            "voice_id": {"type": "string", "enum": VOICES,
                         "description": "A system voice (or a cloned voice id)."},
            "speed": number("number", 1, 0.5, 2, "Speech speed."),
            "volume": number("number", 1, 0.1, 10, "Speech volume."),
            "pitch": number("integer", 0, -12, 12, "Speech pitch."),
            "emotion": {"type": "string", "default": "happy",
                        "enum": ["happy", "sad", "angry", "fearful", "disgusted",
                                 "surprised", "neutral"]},
            "english_normalization": {"type": "boolean", "default": False},
        },
        "notes": ["voice_id also takes cloned voice ids; the enum lists the system voices.",
                  "MP3 output is the page's first format; the emotion list is MiniMax's."],
    },
    {
        "id": "wavespeed-ai/mmaudio-v2",
        "category": "video-to-audio",
        "page": "https://wavespeed.ai/docs-api/mmaudio-v2",
        "output": {"contentMediaType": "video/mp4"},
        "required": ["video", "prompt"],
        "properties": {
            "video": text("The video to make sound for (URL)."),
            "prompt": text("The sound wanted."),
            "negative_prompt": text("What to avoid."),
            "duration": number("number", 8, 1, 30, "Audio length in seconds."),
            "num_inference_steps": number("integer", 25, 4, 50, "Sampling steps."),
            "guidance_scale": number("number", 4.5, 0, 20, "Prompt adherence."),
            "mask_away_clip": {"type": "boolean", "default": False},
            "seed": SEED,
        },
        "notes": ["GUESS: the output is the input video with its generated sound track (an "
                  "MP4), as fal's mmaudio-v2 returns it (its published type: a video); the "
                  "page does not say whether WaveSpeed returns the audio or the video with "
                  "it (until 2026-12-01 the emulator read it as a WAV). Bounds are fal's "
                  "published ones for the same model."],
    },
]


def pascal(model_id: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", model_id) if w)


def document(model: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    text_form = json.dumps(template).replace(TEMPLATE_NAME, pascal(model["id"]))
    text_form = text_form.replace("bytedance/seedance-v1-lite-t2v-480p", model["id"])
    doc = json.loads(text_form)
    name = pascal(model["id"])
    schemas = doc["components"]["schemas"]
    options = {k: schemas[f"{name}Input"]["properties"][k] for k in PLATFORM_OPTIONS}
    properties = {**copy.deepcopy(model["properties"]), **options}
    schemas[f"{name}Input"] = {
        "title": f"{name}Input",
        "type": "object",
        "x-order-properties": list(properties),
        "required": model["required"],
        "properties": properties,
    }
    outputs = schemas[f"{name}Prediction"]["properties"]["outputs"]
    outputs["items"] = {"type": "string", **model["output"]}
    outputs.pop("examples", None)
    info = doc["info"]
    info["x-wavespeed-metadata"]["category"] = model["category"]
    info["x-wavespeed-metadata"]["documentationUrl"] = model["page"]
    info["x-emulator-source"] = {
        "document": f"written by tools/wavespeed/make_documents.py from {model['page']}",
        "notes": [*template["info"]["x-emulator-source"]["notes"][:3], *model["notes"]],
    }
    return doc


def main() -> None:
    template = json.loads(TEMPLATE.read_text())
    for model in MODELS:
        path = ROOT / "contracts" / "wavespeed" / f"{model['id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document(model, template), indent=2) + "\n")
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
