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


@pytest.mark.parametrize("media_format", ["wav", "mp3", "flac", "ogg", "opus", "aac", "m4a"])
def test_an_audio_files_codec_is_named_as_ffmpegs_probe_names_it(media_format: str) -> None:
    # what a result says of it (ffmpeg-api's metadata) is what a probe of the file reads
    sound = spec("audio", media_format, duration=0.5)
    with av.open(io.BytesIO(MediaStore().content(sound))) as container:
        codec = container.streams.audio[0].codec_context.codec
    # PyAV 13 (the lowest supported) names the decoder alone: MP3's is mp3float
    probed = getattr(codec, "canonical_name", None) or _CODECS_OF_DECODERS.get(codec.name)
    assert (probed or codec.name) == sound.audio_codec


#: a decoder's codec, where their names differ
_CODECS_OF_DECODERS = {"mp3float": "mp3"}


@pytest.mark.parametrize(("codec", "tag"), [("pcm_mulaw", 7), ("pcm_alaw", 6)])
def test_a_wav_of_mu_law_or_a_law_in_stereo_is_what_it_says(codec: str, tag: int) -> None:
    # ElevenLabs' ulaw_8000 was a 16-bit WAV, minimax's stereo mono (an audit)
    sound = spec("audio", "wav", duration=0.5, sample_rate=8000, codec=codec, channels=2)
    data = MediaStore().content(sound)
    assert data[:4] == b"RIFF" and struct.unpack_from("<HH", data, 20) == (tag, 2)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
    assert (stream.codec_context.name, stream.rate, stream.channels) == (codec, 8000, 2)
    assert samples == 4000


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


@pytest.mark.parametrize("media_format", ["glb", "obj", "stl", "ply"])
def test_meshes_open_in_trimesh_and_differ_by_seed(media_format: str) -> None:
    data = MediaStore().content(spec("mesh", media_format))
    mesh = trimesh.load(io.BytesIO(data), file_type=media_format, force="mesh")
    assert len(mesh.faces) == 8 and mesh.is_watertight
    other = MediaStore().content(MediaSpec("mesh", 0, 0, media_format, "acme/model", "", 8))
    assert other != data


def test_a_ply_is_a_gaussian_splat_too() -> None:
    data = MediaStore().content(spec("mesh", "ply"))
    header, body = data.split(b"end_header\n")
    names = [line.split()[-1] for line in header.decode().splitlines() if "property float" in line]
    assert names[3:] == ["f_dc_0", "f_dc_1", "f_dc_2", "opacity"] + [
        "scale_0",
        "scale_1",
        "scale_2",
        "rot_0",
        "rot_1",
        "rot_2",
        "rot_3",
    ]
    first = struct.unpack_from("<14f", body)
    assert first[10:] == (1.0, 0.0, 0.0, 0.0)  # a unit quaternion


def test_a_usdz_is_an_aligned_zip_of_a_usd_mesh_and_a_splat_its_gaussians() -> None:
    data = MediaStore().content(spec("mesh", "usdz"))
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        (entry,) = package.infolist()
        layer = package.read(entry).decode()
    assert entry.compress_type == zipfile.ZIP_STORED
    name_length, extra_length = struct.unpack_from("<HH", data, 26)
    assert (30 + name_length + extra_length) % 64 == 0  # its data 64-byte aligned
    assert layer.startswith("#usda 1.0") and "faceVertexCounts = [3, 3, 3, 3, 3, 3, 3, 3]" in layer
    splat = MediaStore().content(spec("mesh", "splat"))
    assert len(splat) == 6 * 32  # six Gaussians of 32 bytes
    assert struct.unpack_from("<3f", splat, 12) == pytest.approx((0.1, 0.1, 0.1))


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
