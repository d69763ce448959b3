"""The WaveSpeed models added as documents (FLUX, Kling, Wan, Seedream edit, Seedance,
a TTS and a sound-for-video model), through the real ``wavespeed`` SDK, in-process: each output is
a real file of the kind and size the input asked for."""

from __future__ import annotations

import io

import av
import httpx
import pytest
from PIL import Image
from wavespeed import Client

from emulator import emulate
from emulator.media.cache import MediaStore
from emulator.media.spec import MediaSpec

pytestmark = pytest.mark.slow


def _uploaded(client: Client) -> dict[str, str]:
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "olive").save(picture, "PNG")
    clip = MediaStore().content(MediaSpec("video", 64, 48, "mp4", "in", "", 1, duration=1, fps=4))
    urls = {}
    for name, data, suffix in (("image", picture.getvalue(), "png"), ("video", clip, "mp4")):
        path = io.BytesIO(data)
        path.name = f"input.{suffix}"
        urls[name] = client.upload(path)
    return urls


CASES = [
    ("wavespeed-ai/flux-dev", {"prompt": "x", "size": "512*768", "num_images": 2}),
    ("kwaivgi/kling-v2.1-i2v-standard", {"prompt": "x", "image": "{image}"}),
    ("wavespeed-ai/wan-2.2/t2v-480p", {"prompt": "x"}),
    ("bytedance/seedream-v4/edit", {"prompt": "x", "images": ["{image}"], "size": "1024*1024"}),
    ("bytedance/seedance-v1-pro-i2v-1080p", {"prompt": "x", "image": "{image}"}),
    ("minimax/speech-02-hd", {"text": "one two three four five", "voice_id": "Calm_Woman"}),
    ("wavespeed-ai/mmaudio-v2", {"prompt": "rain", "video": "{video}", "duration": 2}),
]
EXPECTED = {
    "wavespeed-ai/flux-dev": [("image", (512, 768))] * 2,
    "kwaivgi/kling-v2.1-i2v-standard": [("video", 720)],  # 720p
    "wavespeed-ai/wan-2.2/t2v-480p": [("video", (832, 480))],
    "bytedance/seedream-v4/edit": [("image", (1024, 1024))],
    "bytedance/seedance-v1-pro-i2v-1080p": [("video", 1080)],
    "minimax/speech-02-hd": [("audio", 2.0)],
    # its video with sound: the uploaded clip's size, for the 2 s asked
    "wavespeed-ai/mmaudio-v2": [("video", (64, 48))],
}


def _shape(data: bytes) -> tuple[str, object]:
    try:
        return "image", Image.open(io.BytesIO(data)).size
    except Exception:  # not a picture: a video or a sound
        pass
    with av.open(io.BytesIO(data)) as container:
        if container.streams.video:
            stream = container.streams.video[0]
            return "video", (stream.width, stream.height)
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return "audio", round(samples / stream.rate, 1)


@pytest.mark.parametrize(("model", "payload"), CASES, ids=[c[0] for c in CASES])
def test_each_model_answers_real_files(model: str, payload: dict) -> None:
    with emulate(progression="immediate"):
        client = Client(api_key="ws-key")
        urls = _uploaded(client)
        filled = {
            k: (v.format(**urls) if isinstance(v, str) else [i.format(**urls) for i in v])
            if isinstance(v, (str, list))
            else v
            for k, v in payload.items()
        }
        outputs = client.run(model, filled, poll_interval=0.01)["outputs"]
        shapes = [_shape(httpx.get(url).content) for url in outputs]
    expected = EXPECTED[model]
    for (kind, got), (want_kind, want) in zip(shapes, expected, strict=True):
        assert kind == want_kind
        if kind == "video" and isinstance(want, int):  # a resolution names the short side
            got = min(got)
        assert got == want
