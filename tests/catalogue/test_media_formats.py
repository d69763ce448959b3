"""A video asked in another container or codec (WebM, QuickTime, Matroska, GIF; VP9,
H.265, ProRes) is made in it, as a newcomer sees through the real client."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import av
import fal_client
import httpx
import pytest

from emulator import emulate
from emulator.media.cache import MediaStore
from emulator.media.spec import MediaSpec
from tests.clients.conftest import run_node

from .files import opened

#: a small clip to start from: what is made of it is as small, and quick to encode
CLIP = MediaStore().content(MediaSpec("video", 160, 96, "mp4", "in", "", 1, duration=2, fps=8))


def made_of_clip(endpoint_id: str, arguments: dict) -> tuple[dict, bytes]:
    """The video ``endpoint_id`` makes of `CLIP` (uploaded) and ``arguments``, as the
    real client gets it, and its bytes."""
    with emulate(seed=3):
        clip = fal_client.upload(CLIP, "video/mp4")
        videos = fal_client.subscribe(endpoint_id, arguments={"video_url": clip, **arguments})
        video = videos["video"][0] if isinstance(videos["video"], list) else videos["video"]
        return video, httpx.get(video["url"], timeout=60).content  # bria's: a list


def first_frame(data: bytes) -> av.VideoFrame:
    with av.open(io.BytesIO(data)) as container:
        return next(container.decode(video=0))


@pytest.mark.parametrize(
    ("endpoint_id", "arguments", "content_type", "codec"),
    [
        # bria's background removal answers VP9 in WebM unless asked otherwise
        ("bria/video/background-removal", {}, "video/webm", "vp9"),
        ("bria/video/background-removal", {"output_codec": "h264"}, "video/mp4", "h264"),
        ("fal-ai/ben/v2/video", {"output_format": "webm"}, "video/webm", "vp9"),
        ("fal-ai/birefnet/v2/video", {"video_output_type": "VP9 (.webm)"}, "video/webm", "vp9"),
        ("bria/video/increase-resolution", {"output_container_and_codec": "mkv_h265"},
         "video/x-matroska", "hevc"),
        ("bria/video/increase-resolution", {"output_container_and_codec": "mov_proresks"},
         "video/quicktime", "prores"),
    ],
)  # fmt: skip
def test_a_video_comes_in_the_container_and_codec_asked(
    endpoint_id: str, arguments: dict, content_type: str, codec: str
) -> None:
    video, data = made_of_clip(endpoint_id, arguments)
    extension = video["file_name"].rsplit(".", 1)[-1]
    assert video["content_type"] == content_type and len(data) == video["file_size"]
    made = opened(data, extension)
    assert made["codec"] == codec and made["seconds"] == 2.0


def test_a_gif_asked_of_a_video_upscaler_is_an_animated_gif() -> None:
    video, data = made_of_clip("fal-ai/flashvsr/upscale/video", {"output_format": "GIF (.gif)"})
    assert video["content_type"] == "image/gif" and video["file_name"].endswith(".gif")
    made = opened(data, "gif")
    assert made["frames"] == video.get("num_frames", made["frames"]) > 1


def rodin_mesh(geometry_file_format: str) -> bytes:
    """rodin's mesh in ``geometry_file_format``, as the real client gets it: its bytes,
    after checking its name and size."""
    with emulate(seed=3):
        arguments = {"prompt": "a teapot", "geometry_file_format": geometry_file_format}
        mesh = fal_client.subscribe("fal-ai/hyper3d/rodin", arguments=arguments)["model_mesh"]
        data = httpx.get(mesh["url"], timeout=60).content
    assert mesh["file_name"].endswith(f".{geometry_file_format}")
    assert len(data) == mesh["file_size"]
    return data


def test_a_mesh_comes_in_the_format_asked() -> None:
    assert opened(rodin_mesh("stl"), "stl")["faces"] > 0


#: one of veed's avatars (its contract's enum)
AVATAR = "emily_vertical_primary"


def test_a_talking_avatar_given_text_says_it() -> None:
    said = " ".join(["hello"] * 10)  # 4 s at 2.5 words a second
    with emulate(seed=3):
        video = fal_client.subscribe(
            "veed/avatars/text-to-video", arguments={"avatar_id": AVATAR, "text": said}
        )["video"]
        data = httpx.get(video["url"], timeout=60).content
    made = opened(data, video["file_name"].rsplit(".", 1)[-1])
    assert made["seconds"] == 4.0 and "sample_rate" in made  # a sound track, as long


def test_a_background_remover_asked_for_prores_4444_keeps_its_alpha() -> None:
    asked = {"video_output_type": "PRORES4444 (.mov)"}
    video, data = made_of_clip("fal-ai/birefnet/v2/video", asked)
    assert video["content_type"] == "video/quicktime" and len(data) == video["file_size"]
    frame = first_frame(data)
    assert frame.format.name.startswith("yuva")  # ProRes 4444, with its alpha plane
    assert frame.reformat(format="rgba").to_ndarray()[4, 80, 3] < 50  # clear above the subject


def test_bria_puts_the_subject_over_the_colour_asked() -> None:
    video, data = made_of_clip("bria/video/background-removal/v3", {"background_color": "Red"})
    red, green, blue = first_frame(data).to_ndarray(format="rgb24")[48, 2]
    assert video["content_type"] == "video/webm" and red > 200 and green < 50 and blue < 50


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_a_mesh_asked_as_fbx_opens_in_threejs(tmp_path: Path) -> None:
    # an FBX was a line of text (an audit): now a binary FBX three.js's FBXLoader reads
    (tmp_path / "model.fbx").write_bytes(rodin_mesh("fbx"))
    meshes = run_node("fbx_meshes.mjs", str(tmp_path / "model.fbx"))["meshes"]
    assert [m["triangles"] for m in meshes] == [8]  # the octahedron every mesh format holds
