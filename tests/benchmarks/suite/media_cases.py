"""Media on first download: the emulator's renders beside the floor of the same libraries
(a static-frame PyAV encode; a bare Pillow draw and encode), and 32 concurrent first
downloads of one video."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import statistics
import time

from tests.benchmarks.suite.asgi_call import call

__all__ = ["concurrent_downloads", "images", "video"]

PROMPT = "A dancer on a rooftop at dusk, cinematic"
_seeds = itertools.count(1000)  # every round a new spec, so every render is a first one


def _ms(action) -> float:  # noqa: ANN001
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def _static_video(spec) -> bytes:  # noqa: ANN001
    """The floor: the emulator's own picture for ``spec`` held as every frame, x264 with
    the emulator's settings (ultrafast, CRF 28): a video that shows its input, no more."""
    import av

    from emulator.media.images import render_picture

    frame = av.VideoFrame.from_image(render_picture(spec)).reformat(format="yuv420p")
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "28", "threads": "2"}
        for n in range(spec.frames):
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def video() -> dict[str, float]:
    import emulator.media.video  # noqa: F401  (PyAV loads with the first video: not a render cost)
    from emulator.media import MediaSpec, MediaStore

    spec = MediaSpec("video", 1920, 1080, "mp4", "bench", PROMPT, next(_seeds), duration=5, fps=24)
    return {
        "video 1080p 5 s": _ms(lambda: MediaStore().content(spec)),
        "static-frame PyAV encode": _ms(lambda: _static_video(spec)),
    }


def _default_png(spec) -> bytes:  # noqa: ANN001
    """The same picture drawn, saved with Pillow's default PNG level (6): what the level
    the emulator picks (1) saves."""
    from emulator.media.images import render_picture

    out = io.BytesIO()
    render_picture(spec).save(out, "PNG")
    return out.getvalue()


def _pillow_floor(fmt: str) -> bytes:
    from PIL import Image, ImageDraw

    # A smooth colour field (flat colour would flatter the encoder) and one line of text.
    grid = Image.frombytes("RGB", (3, 3), bytes(range(0, 243, 9)))
    image = grid.resize((1024, 1024), Image.Resampling.BILINEAR)
    ImageDraw.Draw(image).text((20, 20), PROMPT, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, fmt)  # Pillow's defaults: JPEG quality 75, PNG compress_level 6
    return out.getvalue()


#: first renders of each image per round: one ~5 ms sample was at the mercy of the machine
IMAGE_RENDERS = 5


def images() -> dict[str, float]:
    """The median of `IMAGE_RENDERS` first renders (each of a new spec) of each image, and
    of as many floor encodes."""
    from emulator.media import MediaSpec, MediaStore

    store, renders = MediaStore(), {}
    for fmt in ("jpeg", "png"):
        specs = [
            MediaSpec("image", 1024, 1024, fmt, "bench", PROMPT, next(_seeds))
            for _ in range(IMAGE_RENDERS)
        ]
        renders[fmt] = statistics.median(_ms(lambda s=s: store.content(s)) for s in specs)
    floor = statistics.median(_ms(lambda: _pillow_floor("JPEG")) for _ in range(IMAGE_RENDERS))
    png = MediaSpec("image", 1024, 1024, "png", "bench", PROMPT, next(_seeds))
    return {
        "jpeg 1024": renders["jpeg"],
        "pillow jpeg": floor,
        "png 1024": renders["png"],
        "same picture, default PNG level": _ms(lambda: _default_png(png)),
    }


async def _downloads(count: int) -> int:
    from emulator import Emulation

    emulation = Emulation(seed=next(_seeds))
    app, engine = emulation.app, emulation.engine
    status, body = await _submit_video(app)
    path = "/" + json.loads(body)["data"]["outputs"][0].split("/", 3)[3]
    before = engine.media.renders
    answers = await asyncio.gather(*[call(app, path) for _ in range(count)])
    if any(code != 200 for code, _ in answers) or len({data for _, data in answers}) != 1:
        raise RuntimeError("concurrent downloads did not all get the same video")
    return engine.media.renders - before


async def _submit_video(app) -> tuple[int, bytes]:  # noqa: ANN001
    """A WaveSpeed text-to-video job, finished at once; its result names the video."""
    from tests.benchmarks.suite.asgi_call import post

    created = await post(
        app,
        "/wavespeed/api/v3/bytedance/seedance-v1-lite-t2v-480p",
        b'{"prompt": "%s", "duration": 5}' % PROMPT.encode(),
        {"Authorization": "Bearer bench"},
    )
    task = json.loads(created[1])["data"]["id"]
    return await call(
        app, f"/wavespeed/api/v3/predictions/{task}/result", {"Authorization": "Bearer bench"}
    )


def concurrent_downloads(count: int = 32) -> dict[str, float]:
    return {"renders for 32 concurrent downloads": asyncio.run(_downloads(count))}
