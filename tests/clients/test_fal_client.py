"""The real ``fal_client`` (sync and async) against the emulator, as a server and in-process."""

from __future__ import annotations

import asyncio
import base64
import io
from types import ModuleType
from typing import Any

import av
import fal_client
import httpx
import pytest
from PIL import Image

from emulator import EmulatorConfig
from tests.media_samples import png, wav

from ..conftest import FAST

TEXT_TO_IMAGE = {
    # endpoint id → (input, expected (width, height), expected format)
    "fal-ai/bitdance": ({"prompt": "a cat in a top hat"}, (1024, 1024), "JPEG"),
    "fal-ai/bytedance/dreamina/v3.1/text-to-image": (
        {"prompt": "a selfie", "image_size": {"width": 1280, "height": 720}},
        (1280, 720),
        "PNG",
    ),
    "fal-ai/bytedance/seedream/v4/text-to-image": (
        # the endpoint's own landscape_4_3, within its 960x960 minimum (x-emulator-presets)
        {"prompt": "a chart", "image_size": "landscape_4_3", "num_images": 2},
        (1280, 960),
        "PNG",
    ),
}


def decode(url: str) -> Image.Image:
    """Download (or decode, for a data URI) an image exactly as a client app would."""
    if url.startswith("data:"):
        data = base64.b64decode(url.split(",", 1)[1])
    else:
        response = httpx.get(url)
        response.raise_for_status()
        data = response.content
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def check_images(
    result: dict[str, Any], size: tuple[int, int], pil_format: str, count: int = 1
) -> None:
    assert len(result["images"]) == count
    for described in result["images"]:
        image = decode(described["url"])
        assert image.size == size
        assert image.format == pil_format
        assert (described.get("width"), described.get("height")) in ((None, None), size)
    assert isinstance(result["seed"], int)


@pytest.mark.parametrize("endpoint_id", sorted(TEXT_TO_IMAGE))
def test_subscribe_with_logs_reports_every_state_then_the_images(
    fal: ModuleType, endpoint_id: str
) -> None:
    arguments, size, pil_format = TEXT_TO_IMAGE[endpoint_id]
    updates: list[fal_client.Status] = []

    result = fal.subscribe(
        endpoint_id, arguments=arguments, with_logs=True, on_queue_update=updates.append
    )

    kinds = [type(update) for update in updates]
    assert kinds[0] is fal_client.Queued and kinds[-1] is fal_client.Completed
    assert fal_client.InProgress in kinds
    assert all(isinstance(u.logs, list) for u in updates if isinstance(u, fal_client.InProgress))
    assert updates[-1].logs and updates[-1].error is None
    check_images(result, size, pil_format, arguments.get("num_images", 1))


def test_bitdance_echoes_the_prompt_and_flags_no_nsfw(fal: ModuleType) -> None:
    result = fal.subscribe("fal-ai/bitdance", arguments={"prompt": "p", "num_images": 3, "seed": 7})
    assert result["prompt"] == "p"
    assert result["seed"] == 7
    assert result["has_nsfw_concepts"] == [False, False, False]


def test_submit_status_result_with_handles_and_module_functions(fal: ModuleType) -> None:
    endpoint_id = "fal-ai/bytedance/seedream/v4/text-to-image"
    handle = fal.submit(endpoint_id, arguments={"prompt": "x", "image_size": "square"})
    assert handle.status_url.endswith(f"/fal-ai/bytedance/requests/{handle.request_id}/status")

    assert isinstance(handle.status(), fal_client.Queued)
    assert isinstance(
        fal.status(endpoint_id, handle.request_id, with_logs=True), fal_client.InProgress
    )
    assert isinstance(handle.status(), fal_client.InProgress)
    completed = handle.status(with_logs=True)
    assert isinstance(completed, fal_client.Completed)
    assert "inference_time" in completed.metrics

    via_handle = handle.get()
    via_function = fal.result(endpoint_id, handle.request_id)
    assert via_handle == via_function
    check_images(via_function, (1024, 1024), "PNG")  # its own square (x-emulator-presets)


def test_cancel_a_queued_request(fal: ModuleType) -> None:
    handle = fal.submit("fal-ai/bitdance", arguments={"prompt": "x"})
    fal.cancel("fal-ai/bitdance", handle.request_id)

    status = handle.status()
    assert isinstance(status, fal_client.Completed)
    assert status.error_type == "client_cancelled"
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        handle.get()
    assert caught.value.status_code == 499
    assert caught.value.error_type == "client_cancelled"


def test_cancel_after_completion_is_refused(fal: ModuleType) -> None:
    handle = fal.submit("fal-ai/bitdance", arguments={"prompt": "x"})
    handle.get()
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        handle.cancel()
    assert caught.value.status_code == 400
    assert "already completed" in str(caught.value)


def test_run_returns_the_output_directly(fal: ModuleType) -> None:
    result = fal.run("fal-ai/bitdance", arguments={"prompt": "x", "output_format": "png"})
    check_images(result, (1024, 1024), "PNG")


def test_sync_mode_returns_data_uris(fal: ModuleType) -> None:
    result = fal.run(
        "fal-ai/bytedance/seedream/v4/text-to-image",
        arguments={"prompt": "x", "image_size": {"width": 1280, "height": 720}, "sync_mode": True},
    )
    assert result["images"][0]["url"].startswith("data:image/png;base64,")
    check_images(result, (1280, 720), "PNG")


def test_run_rejects_invalid_input_with_a_422(fal: ModuleType) -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal.run("fal-ai/bitdance", arguments={"num_images": 9})
    assert caught.value.status_code == 422
    assert {
        "loc": ["body", "prompt"],
        "msg": "Field required",
        "type": "missing",
    } in caught.value.message
    assert any(item["loc"] == ["body", "num_images"] for item in caught.value.message)


def test_queued_invalid_input_surfaces_as_a_422_at_the_result(fal: ModuleType) -> None:
    updates: list[fal_client.Status] = []
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal.subscribe(
            "fal-ai/bitdance", arguments={"image_size": "huge"}, on_queue_update=updates.append
        )
    assert caught.value.status_code == 422
    assert isinstance(updates[-1], fal_client.Completed) and updates[-1].error is None


def video_facts(url: str) -> tuple[int, int, float, int]:
    """Width, height, seconds and frame count of the MP4 at ``url``, decoded with PyAV."""
    container = av.open(io.BytesIO(httpx.get(url).content))
    stream = container.streams.video[0]
    frames = sum(1 for _ in container.decode(video=0))
    return stream.width, stream.height, container.duration / 1e6, frames


SEEDANCE = "fal-ai/bytedance/seedance/v1/pro/fast/image-to-video"


def test_upload_a_picture_then_make_a_video_of_it(fal: ModuleType, tmp_path: Any) -> None:
    picture = tmp_path / "portrait.png"
    Image.new("RGB", (600, 800), (200, 30, 30)).save(picture)
    client = fal_client.SyncClient(key="uploader")  # a fresh client: its CDN token is its own
    url = client.upload_file(picture)
    assert decode(url).size == (600, 800)

    arguments = {"prompt": "a slow zoom", "image_url": url, "resolution": "480p", "duration": "3"}
    result = client.subscribe(SEEDANCE, arguments=arguments)
    video = result["video"]
    assert video["content_type"] == "video/mp4"
    assert video["file_size"] == len(httpx.get(video["url"]).content)
    assert video_facts(video["url"]) == (480, 640, 3.0, 72)  # auto: the picture's 3:4, 24 fps


def test_video_aspect_and_resolution_follow_the_input(fal: ModuleType) -> None:
    picture = fal_client.encode_image(Image.new("RGB", (64, 64)), format="png")  # a data URI
    arguments = {"prompt": "wide", "image_url": picture, "aspect_ratio": "16:9", "duration": "2"}
    assert video_facts(fal.run(SEEDANCE, arguments=arguments)["video"]["url"]) == (
        1920,
        1080,
        2.0,
        48,
    )


def test_catalogue_media_are_as_their_inputs_ask(fal: ModuleType) -> None:
    """What the inputs ask, under the catalogue's own spellings: fal's "4s", wan's
    frames_per_second, an upscaler's factor, a mesh format, speech timestamps, and outputs
    as long and as large as their input media."""
    veo = fal.run(
        "fal-ai/veo3.1", arguments={"prompt": "p", "duration": "4s", "resolution": "720p"}
    )
    assert video_facts(veo["video"]["url"]) == (1280, 720, 4.0, 96)
    wan = {"prompt": "p", "num_frames": 48, "frames_per_second": 12, "resolution": "480p"}
    wan_video = fal.run("fal-ai/wan/v2.2-a14b/text-to-video", arguments=wan)["video"]["url"]
    assert video_facts(wan_video) == (854, 480, 4.0, 48)

    picture = fal.upload(png(40, 20), "image/png")
    esrgan = fal.run("fal-ai/esrgan", arguments={"image_url": picture, "scale": 3})
    assert decode(esrgan["image"]["url"]).size == (120, 60)
    mesh = fal.run("fal-ai/triposr", arguments={"image_url": picture, "output_format": "obj"})
    assert mesh["model_mesh"]["file_name"].endswith(".obj")

    sound = fal.upload(wav(3), "audio/wav")
    isolated = fal.run("fal-ai/elevenlabs/audio-isolation", arguments={"audio_url": sound})
    assert av.open(io.BytesIO(httpx.get(isolated["audio"]["url"]).content)).duration == 3_000_000
    lipsync = {"video_url": veo["video"]["url"], "audio_url": sound}
    synced = fal.run("fal-ai/sync-lipsync", arguments=lipsync)["video"]["url"]
    assert video_facts(synced) == (1280, 720, 4.0, 96)  # its video's size and length
    upscaled = fal.run("fal-ai/video-upscaler", arguments={"video_url": wan_video, "scale": 2})
    # its video's size times 2, its length and its frame rate (12 fps: 48 frames)
    assert video_facts(upscaled["video"]["url"]) == (1708, 960, 4.0, 48)
    cut_out = fal.run("fal-ai/birefnet/v2", arguments={"image_url": picture})
    assert decode(cut_out["image"]["url"]).mode == "RGBA"  # transparent around its subject

    speech = {"text": "Hello world again", "timestamps": True}
    spoken = fal.run("fal-ai/elevenlabs/tts/eleven-v3", arguments=speech)
    assert [item["text"] for item in spoken["timestamps"]] == ["Hello", "world", "again"]


SIDES = ("original_width", "original_height", "scaled_width", "scaled_height")


def test_video_sizes_and_lengths_as_the_catalogues_own_fields_say(fal: ModuleType) -> None:
    """Fields read as their models take them: scale-video's width and height, bria's
    factor as text, hunyuan's frame count as text, a resolution of "auto" (each was the
    emulator's 1280x720, 2x or 120 frames whatever was asked)."""
    wan = {"prompt": "p", "num_frames": 24, "frames_per_second": 12, "resolution": "480p"}
    clip = fal.run("fal-ai/wan/v2.2-a14b/text-to-video", arguments=wan)["video"]["url"]
    sized = {"video_url": clip, "width": 320, "height": 180}
    scaling = fal.run("fal-ai/workflow-utilities/scale-video", arguments=sized)
    scaled = scaling["video"]["url"]
    assert video_facts(scaled) == (320, 180, 2.0, 24)
    stated = [scaling[name] for name in SIDES]
    assert stated == [854, 480, 320, 180]  # the sizes of its input and of its file
    four = {"video_url": scaled, "desired_increase": "4"}
    increased = fal.run("bria/video/increase-resolution", arguments=four)["video"]["url"]
    assert video_facts(increased) == (1280, 720, 2.0, 24)
    auto = {"video_url": scaled, "resolution": "auto"}
    depth = fal.run("fal-ai/depth-anything-video", arguments=auto)["video"]["url"]
    assert video_facts(depth)[:2] == (320, 180)  # its input's size kept
    hunyuan = {"prompt": "p", "num_frames": "85", "resolution": "480p"}
    assert video_facts(fal.run("fal-ai/hunyuan-video", arguments=hunyuan)["video"]["url"])[3] == 85


def test_an_unreachable_input_url_fails_as_fal_reports_it(fal: ModuleType) -> None:
    arguments = {"prompt": "x", "image_url": "https://example.com/missing.png"}
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal.subscribe(SEEDANCE, arguments=arguments)
    assert caught.value.status_code == 422
    (error,) = caught.value.message
    assert error["type"] == "file_download_error" and error["input"] == arguments["image_url"]
    for junk in (b"", b"not an image"):  # downloads fine, but is no picture
        uploaded = fal.upload(junk, "image/png")
        with pytest.raises(fal_client.FalClientHTTPError) as unloadable:
            fal.subscribe(SEEDANCE, arguments={"prompt": "x", "image_url": uploaded})
        (error,) = unloadable.value.message
        assert error["type"] == "image_load_error" and error["input"] == uploaded
        # an edit whose output size is asked does not start from its picture: checked still
        edit = {"prompt": "x", "image_urls": [uploaded], "image_size": "square"}
        with pytest.raises(fal_client.FalClientHTTPError) as unloadable:
            fal.run("fal-ai/bytedance/seedream/v4/edit", arguments=edit)
        (error,) = unloadable.value.message
        assert error["type"] == "image_load_error" and error["input"] == uploaded
    with pytest.raises(fal_client.FalClientHTTPError) as invalid:
        fal.run(SEEDANCE, arguments={"prompt": "a dancer", "duration": "13"})
    assert invalid.value.status_code == 422  # validated like every other endpoint


def test_a_count_sent_as_a_float_and_a_picture_under_any_image_field(fal: ModuleType) -> None:
    # seedream's edit types its count `number`: 3.0 made one image
    picture = fal.upload(png(8, 8), "image/png")
    edit = {"prompt": "x", "image_urls": [picture], "num_images": 3.0}
    assert len(fal.run("fal-ai/bytedance/seedream/v4/edit", arguments=edit)["images"]) == 3
    # text under hunyuan3d's input_image_url made a mesh: only seven names were checked
    text = fal.upload(b"not an image", "image/png")
    with pytest.raises(fal_client.FalClientHTTPError) as refused:
        fal.run("fal-ai/hunyuan3d/v2", arguments={"input_image_url": text})
    (error,) = refused.value.message
    assert (error["type"], error["loc"]) == ("image_load_error", ["body", "input_image_url"])


def test_every_upload_route_of_the_python_client(fal: ModuleType, monkeypatch: Any) -> None:
    client = fal_client.SyncClient(key="uploader")
    via_fallback = client.upload(b"plain text", "text/plain", "note.txt", repository="fal")
    assert httpx.get(via_fallback).content == b"plain text"
    # Multipart begins at 100 MiB; a smaller threshold takes the same code path quickly.
    monkeypatch.setattr(fal_client.client, "MULTIPART_THRESHOLD", 1024)
    monkeypatch.setattr(fal_client.client, "MULTIPART_CHUNK_SIZE", 1000)
    payload = bytes(range(256)) * 20
    via_multipart = client.upload(payload, "application/octet-stream", "blob.bin")
    assert httpx.get(via_multipart).content == payload


def test_a_keys_uploads_make_room_for_its_next_past_its_budget(
    start: Any, monkeypatch: Any
) -> None:
    """A key that had uploaded its budget in all got 507 on every upload for good, and one
    multipart upload refused partway kept its parts counted, with nothing stored."""
    start(EmulatorConfig(progression=FAST, max_storage_bytes_per_key=5000))
    client = fal_client.SyncClient(key="uploader")
    oldest = client.upload(b"a" * 3000, "application/octet-stream", "a.bin")
    newest = client.upload(b"b" * 3000, "application/octet-stream", "b.bin")
    assert httpx.get(newest).content == b"b" * 3000
    gone = httpx.get(oldest)  # dropped to make room: fal's own missing file
    assert (gone.status_code, gone.json()) == (404, {"detail": "File not found"})
    monkeypatch.setattr(fal_client.client, "MULTIPART_THRESHOLD", 1024)
    monkeypatch.setattr(fal_client.client, "MULTIPART_CHUNK_SIZE", 2000)
    with pytest.raises(fal_client.FalClientHTTPError) as full:  # more than the whole budget
        client.upload(b"c" * 6000, "application/octet-stream", "c.bin")
    assert full.value.status_code == 507 and "abandoned" in full.value.message
    after = client.upload(b"d" * 4000, "application/octet-stream", "d.bin")  # its parts freed
    assert httpx.get(after).content == b"d" * 4000


def test_a_key_never_sees_another_keys_requests(fal: ModuleType) -> None:
    handle = fal.submit("fal-ai/bitdance", arguments={"prompt": "mine"})
    other = fal_client.SyncClient(key="someone-else")
    for call in (other.status, other.result, other.cancel):
        with pytest.raises(fal_client.FalClientHTTPError) as caught:
            call("fal-ai/bitdance", handle.request_id)
        assert caught.value.status_code == 404
    assert isinstance(handle.status(), fal_client.Queued)  # untouched by the attempts


def test_unknown_keys_are_refused_when_keys_are_configured(start: Any) -> None:
    start(EmulatorConfig(progression=FAST, api_keys=frozenset({"good"})))
    assert fal_client.SyncClient(key="good").run("fal-ai/bitdance", arguments={"prompt": "x"})
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal_client.SyncClient(key="bad").run("fal-ai/bitdance", arguments={"prompt": "x"})
    assert caught.value.status_code == 401
    assert caught.value.message == "No user found for Key ID and Secret"


def test_unknown_application(fal: ModuleType) -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal.run("fal-ai/no-such-model", arguments={"prompt": "x"})
    assert caught.value.status_code == 404
    assert caught.value.message == "Application 'no-such-model' not found"


def test_the_async_client_end_to_end(fal: ModuleType) -> None:
    async def scenario() -> None:
        updates: list[fal_client.Status] = []
        result = await fal.subscribe_async(
            "fal-ai/bitdance",
            arguments={"prompt": "async"},
            with_logs=True,
            on_queue_update=updates.append,
        )
        check_images(result, (1024, 1024), "JPEG")
        assert isinstance(updates[-1], fal_client.Completed)

        handle = await fal.submit_async("fal-ai/bitdance", arguments={"prompt": "a"})
        assert isinstance(await handle.status(), fal_client.Queued)
        assert (await handle.get())["prompt"] == "a"
        assert await fal.result_async("fal-ai/bitdance", handle.request_id) == await handle.get()

        queued = await fal.submit_async("fal-ai/bitdance", arguments={"prompt": "b"})
        await fal.cancel_async("fal-ai/bitdance", queued.request_id)
        assert (
            await fal.status_async("fal-ai/bitdance", queued.request_id)
        ).error_type == "client_cancelled"

        ran = await fal.run_async("fal-ai/bitdance", arguments={"prompt": "r", "num_images": 2})
        check_images(ran, (1024, 1024), "JPEG", count=2)

    # fal_client's module-level async client binds itself to the first event loop it runs
    # on, so every module-level async call lives in this one loop.
    asyncio.run(scenario())


def test_same_seed_same_bytes_other_seed_other_bytes(fal: ModuleType) -> None:
    def image_bytes(seed: int) -> bytes:
        result = fal.run("fal-ai/bitdance", arguments={"prompt": "same", "seed": seed})
        return httpx.get(result["images"][0]["url"]).content

    assert image_bytes(5) == image_bytes(5)
    assert image_bytes(5) != image_bytes(6)
