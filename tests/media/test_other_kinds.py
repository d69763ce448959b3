"""Audio, meshes, archives and other files: real files their libraries open, exactly the
length, rate and size the spec says, the same bytes for the same spec."""

from __future__ import annotations

import io
import json
import struct
import zipfile

import av
import pytest
import trimesh

from emulator.media.cache import MediaStore, UnsupportedMedia
from emulator.media.spec import MediaSpec


def spec(kind: str, media_format: str, **fields: object) -> MediaSpec:
    return MediaSpec(kind, 0, 0, media_format, "acme/model", "a prompt", 7, **fields)


@pytest.mark.parametrize("media_format", ["wav", "mp3", "flac", "ogg"])
def test_audio_has_the_exact_length_and_rate(media_format: str) -> None:
    rate = 48000 if media_format == "ogg" else 22050
    sound = spec("audio", media_format, duration=1.5, sample_rate=rate)
    data = MediaStore().content(sound)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
    assert stream.rate == rate
    assert samples == round(1.5 * rate)
    assert MediaStore().content(sound) == data


def test_a_video_asked_for_sound_has_an_aac_track_as_long_as_it() -> None:
    clip = MediaSpec(
        "video", 64, 48, "mp4", "x", "p", 1, duration=1, fps=8, with_audio=True, sample_rate=44100
    )
    data = MediaStore().content(clip)
    assert len(data) == clip.byte_size
    with av.open(io.BytesIO(data)) as container:
        kinds = sorted(s.type for s in container.streams)
        assert kinds == ["audio", "video"]
        audio = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(audio))
    assert samples / 44100 == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("media_format", ["glb", "obj"])
def test_meshes_open_in_trimesh_and_differ_by_seed(media_format: str) -> None:
    data = MediaStore().content(spec("mesh", media_format))
    mesh = trimesh.load(io.BytesIO(data), file_type=media_format, force="mesh")
    assert len(mesh.faces) == 8 and mesh.is_watertight
    other = MediaStore().content(MediaSpec("mesh", 0, 0, media_format, "acme/model", "", 8))
    assert other != data


def test_archives_hold_real_frames() -> None:
    data = MediaStore().content(MediaSpec("archive", 32, 16, "zip", "x", "p", 1))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert "manifest.json" in names and sum(n.endswith(".png") for n in names) == 3
    assert MediaStore().content(MediaSpec("archive", 32, 16, "zip", "x", "p", 1)) == data


def test_files_by_content_type() -> None:
    weights = MediaStore().content(spec("file", "safetensors"))
    (length,) = struct.unpack("<Q", weights[:8])
    header = json.loads(weights[8 : 8 + length])
    assert header["lora.weight"]["data_offsets"] == [0, len(weights) - 8 - length]
    assert json.loads(MediaStore().content(spec("file", "json")))["endpoint"] == "acme/model"
    assert MediaStore().content(spec("file", "srt")).startswith(b"1\n00:00:00,000 --> ")


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(UnsupportedMedia):
        MediaStore().content(spec("audio", "glb"))
