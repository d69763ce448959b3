import inspect
import io
import sys

import pytest
from PIL import Image

from emulator.contracts.catalogue import shipped_catalogue
from emulator.contracts.documents import Endpoint, endpoint_from_document
from emulator.contracts.limits import Limits
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.output_checks import OutputUnmade
from emulator.contracts.plans import plan_of
from emulator.contracts.synthesis import InputRejected, Synthesis, synthesize
from emulator.contracts.validation import check_input
from emulator.core.files import Storage
from emulator.media import MediaSpec, MediaStore
from emulator.media.links import UrlLinker
from emulator.media.sources import InputUnreachable, SourceResolver
from tests.catalogue.inputs import minimal_input
from tests.media_samples import data_uri, png, wav

CONTRACTS = load_contracts([DEFAULT_CONTRACTS_DIR])
CATALOGUE = shipped_catalogue()
URLS = {kind: f"https://example.test/in.{kind}" for kind in ("image", "audio", "video")}
LINKED: list[MediaSpec] = []


def link(spec: MediaSpec) -> tuple[str, int]:
    LINKED.append(spec)
    return f"https://cdn.test/{spec.index}.{spec.extension}", 123


def output(endpoint_id: str, payload: dict, seed: int = 5) -> dict:
    endpoint = CONTRACTS.get("fal", endpoint_id)
    inputs, violations = check_input(endpoint, payload)
    assert not violations
    LINKED.clear()
    return synthesize(endpoint, inputs, seed, link, limits=Limits())


@pytest.mark.parametrize(
    ("image_size", "expected"),
    [
        ("square_hd", (1024, 1024)),
        ("portrait_16_9", (576, 1024)),
        ("landscape_4_3", (1024, 768)),
        ({"width": 640, "height": 480}, (640, 480)),
    ],
)
def test_image_size_presets_and_objects(image_size: object, expected: tuple[int, int]) -> None:
    result = output("fal-ai/bitdance", {"prompt": "x", "image_size": image_size})
    image = result["images"][0]
    assert (image["width"], image["height"]) == expected == (LINKED[0].width, LINKED[0].height)


def test_auto_presets_fall_back_to_the_field_default() -> None:
    output("fal-ai/bytedance/seedream/v4/text-to-image", {"prompt": "x", "image_size": "auto"})
    assert (LINKED[0].width, LINKED[0].height) == (2048, 2048)  # the published default


def test_conventions_fill_every_bitdance_field() -> None:
    result = output("fal-ai/bitdance", {"prompt": "hello", "num_images": 2, "output_format": "png"})
    assert result == {
        "images": [
            {
                "url": f"https://cdn.test/{i}.png",
                "content_type": "image/png",
                "file_name": f"{i}.png",
                "file_size": 123,
                "width": 1024,
                "height": 1024,
            }
            for i in range(2)
        ],
        "seed": 5,
        "has_nsfw_concepts": [False, False],
        "prompt": "hello",
    }
    assert [spec.index for spec in LINKED] == [0, 1]


def test_format_defaults_to_the_example_urls_extension() -> None:
    output("fal-ai/bytedance/seedream/v4/text-to-image", {"prompt": "x"})
    assert LINKED[0].format == "png"


def test_the_output_validates_against_the_contract() -> None:
    endpoint = CONTRACTS.get("fal", "fal-ai/bytedance/dreamina/v3.1/text-to-image")
    endpoint.output_validator.validate(output(endpoint.id, {"prompt": "x"}))


def test_video_fields_become_video_specs() -> None:
    endpoint_id = "fal-ai/bytedance/seedance/v1/pro/fast/image-to-video"
    inputs = {"prompt": "x", "image_url": "u", "resolution": "720p", "duration": "3"}
    result = output(endpoint_id, inputs)
    (spec,) = LINKED
    assert (spec.kind, spec.width, spec.height, spec.duration, spec.fps) == (
        "video",
        1280,
        720,
        3.0,
        24,
    )
    assert spec.source == ""  # no resolver given: a drawn start picture
    assert result["video"] == {
        "url": "https://cdn.test/0.mp4",
        "content_type": "video/mp4",
        "file_name": "0.mp4",
        "file_size": 123,
    }


def test_an_audio_output_is_audio_of_the_asked_length() -> None:
    tts = {"type": "object", "properties": {"duration": {"type": "number"}}}
    ok = {
        "200": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["audio"],
                        "properties": {
                            "audio": {"type": "object", "properties": {"url": {"type": "string"}}}
                        },
                    }
                }
            }
        }
    }
    document = {
        "paths": {
            "/acme/tts": {
                "post": {"requestBody": {"content": {"application/json": {"schema": tts}}}}
            },
            "/acme/tts/requests/{request_id}": {"get": {"responses": ok}},
        }
    }
    LINKED.clear()
    result = synthesize(
        endpoint_from_document("fal", document),
        {"duration": 3},
        1,
        link,
        limits=Limits(max_image_pixels=1),
    )
    assert result == {"audio": {"url": "https://cdn.test/0.wav"}}
    assert [(s.kind, s.format, s.duration, s.sample_rate) for s in LINKED] == [
        ("audio", "wav", 3.0, 44100)
    ]


def test_too_many_pixels_is_rejected_before_rendering() -> None:
    endpoint = CONTRACTS.get("fal", "fal-ai/bytedance/seedream/v4/text-to-image")
    inputs, _ = check_input(
        endpoint, {"prompt": "x", "image_size": {"width": 5000, "height": 5000}}
    )
    LINKED.clear()
    with pytest.raises(InputRejected) as rejected:
        synthesize(endpoint, inputs, 1, link, limits=Limits())
    assert rejected.value.violations[0].type == "emulator_limit"
    assert LINKED == []


def test_fields_no_convention_covers_get_schema_valid_values() -> None:
    document = {
        "paths": {
            "/acme/x": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}
                }
            },
            "/acme/x/requests/{request_id}": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["label", "score", "tags", "mode", "meta"],
                                        "properties": {
                                            "label": {"type": "string"},
                                            "score": {"type": "number", "minimum": 0.5},
                                            "tags": {
                                                "type": "array",
                                                "items": {"type": "string"},
                                                "minItems": 1,
                                            },
                                            "mode": {"enum": ["a", "b"]},
                                            "meta": {
                                                "type": "object",
                                                "required": ["n"],
                                                "properties": {"n": {"type": "integer"}},
                                            },
                                            "optional": {"type": "string"},
                                        },
                                    }
                                }
                            }
                        }
                    }
                }
            },
        }
    }
    endpoint: Endpoint = endpoint_from_document("fal", document)
    result = synthesize(endpoint, {}, 1, link, limits=Limits(max_image_pixels=1))
    assert result == {"label": "", "score": 0.5, "tags": [""], "mode": "a", "meta": {"n": 0}}
    endpoint.output_validator.validate(result)


@pytest.mark.parametrize(
    ("asked", "size"),
    [({}, (1024, 576)), ({"resolution": {"width": 640, "height": 480}}, (640, 480))],
)
def test_a_resolution_that_is_an_image_size_is_the_videos(asked: dict, size: tuple) -> None:
    # ltx-2.3-quality's resolution is fal's image size (landscape_16_9 by default): its
    # video was 1280x720 whatever was asked
    endpoint = CATALOGUE.endpoint("fal-ai/ltx-2.3-quality/text-to-video")
    inputs, _ = check_input(endpoint, {"prompt": "a fox", **asked})
    LINKED.clear()
    synthesize(endpoint, inputs, 1, link, limits=Limits())
    assert [(spec.width, spec.height) for spec in LINKED] == [size]


@pytest.mark.parametrize(("asked", "frames"), [({}, 129), ({"num_frames": "85"}, 85)])
def test_a_frame_count_written_as_text_is_the_videos(asked: dict, frames: int) -> None:
    # hunyuan's num_frames is an enum of text, "129" by default: its video was 120 frames
    endpoint = CATALOGUE.endpoint("fal-ai/hunyuan-video")
    inputs, _ = check_input(endpoint, {"prompt": "a fox", **asked})
    LINKED.clear()
    synthesize(endpoint, inputs, 1, link, limits=Limits())
    assert [spec.frames for spec in LINKED] == [frames]


def test_an_audio_output_is_as_long_as_asked_and_bounded() -> None:
    from emulator.contracts.catalogue import shipped_catalogue

    endpoint = shipped_catalogue().endpoint("fal-ai/stable-audio")
    inputs, _ = check_input(endpoint, {"prompt": "rain", "seconds_total": 10**6})
    with pytest.raises(InputRejected, match="audio of up to") as refused:
        synthesize(endpoint, inputs, 1, link, limits=Limits())
    # named as asked: the 422 said "duration", a field stable-audio has not
    assert [v.loc for v in refused.value.violations] == [("seconds_total",)]
    inputs, _ = check_input(endpoint, {"prompt": "rain", "seconds_total": 12})
    LINKED.clear()
    synthesize(endpoint, inputs, 1, link, limits=Limits())
    assert [s.duration for s in LINKED] == [12.0]


@pytest.mark.parametrize(
    ("endpoint_id", "field"),
    [
        ("fal-ai/f5-tts", "gen_text"),
        ("async/tts-pro/v1.0", "transcript"),
        ("fal-ai/vibevoice", "script"),
        ("fal-ai/tada/1b/text-to-speech", "prompt"),  # its transcript is its reference's
    ],
)
def test_speech_lasts_as_its_text_takes_to_say(endpoint_id: str, field: str) -> None:
    endpoint = CATALOGUE.endpoint(endpoint_id)
    lengths = []
    for words in (1, 50):
        asked = {"prompt": "x", "transcript": "a b c d e f g h i j", field: "word " * words}
        payload = {k: v for k, v in asked.items() if k in plan_of(endpoint).input_names}
        inputs, _ = check_input(endpoint, {**minimal_input(endpoint, URLS), **payload})
        LINKED.clear()
        synthesize(endpoint, inputs, 1, link, limits=Limits())
        lengths.append([spec.duration for spec in LINKED if spec.kind == "audio"])
    assert lengths == [[1.0], [20.0]]  # at 2.5 words a second, at least 1 s


@pytest.mark.parametrize("image_size", [None, "square"])
def test_an_unreadable_picture_fails_whether_or_not_its_size_is_used(
    image_size: str | None,
) -> None:
    """The provider fetches ``image_url`` before it runs, even when the output's size is
    given and the picture would not be drawn from."""
    endpoint = CONTRACTS.get("fal", "fal-ai/flux-2/klein/realtime")
    payload = {"prompt": "x", "image_url": "https://example.com/nowhere.png"}
    if image_size:
        payload["image_size"] = image_size
    inputs, violations = check_input(endpoint, payload)
    assert not violations
    media = MediaStore()
    linker = UrlLinker(media, "https://cdn.test")

    def make(synthetic: bool) -> dict:
        sources = SourceResolver(Storage(), media, synthetic_fallback=synthetic)
        return synthesize(endpoint, inputs, 1, linker, limits=Limits(), sources=sources)

    with pytest.raises(InputUnreachable):
        make(synthetic=False)
    assert make(synthetic=True)["images"][0]["content"]


@pytest.mark.parametrize(
    ("endpoint_id", "field"),
    [
        ("fal-ai/nano-banana/edit", "image_urls"),
        ("fal-ai/bytedance/seedream/v4/edit", "image_urls"),
    ],
)
def test_an_edit_of_a_list_of_pictures_is_the_first_ones_size(endpoint_id: str, field: str) -> None:
    endpoint = CATALOGUE.endpoint(endpoint_id)
    inputs, violations = check_input(
        endpoint, {"prompt": "x", field: [data_uri(png(64, 36), "image/png")]}
    )
    assert not violations
    sources = SourceResolver(Storage(), MediaStore(), synthetic_fallback=False)
    made = synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)
    assert (made["images"][0]["width"], made["images"][0]["height"]) == (64, 36)


@pytest.mark.parametrize(("asked", "made"), [(3, 3), (3.0, 3), (2.5, 2)])
def test_a_count_typed_number_asks_for_as_many_images(asked: float, made: int) -> None:
    # fal's published types make seedream's edit count a `number`: 3.0 is three images
    endpoint = CATALOGUE.endpoint("fal-ai/bytedance/seedream/v4/edit")
    picture = data_uri(png(8, 8), "image/png")
    inputs, violations = check_input(
        endpoint, {"prompt": "x", "image_urls": [picture], "num_images": asked}
    )
    assert not violations
    sources = SourceResolver(Storage(), MediaStore(), synthetic_fallback=False)
    output = synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)
    assert len(output["images"]) == made


def test_a_picture_the_output_does_not_use_is_checked_not_kept() -> None:
    """A realtime session names a new picture in every frame: finding it readable must
    not keep it (a storage with room for nothing would refuse it)."""
    endpoint = CONTRACTS.get("fal", "fal-ai/flux-2/klein/realtime")
    inputs, _ = check_input(
        endpoint, {"prompt": "x", "image_url": data_uri(png(64, 36), "image/png")}
    )
    media = MediaStore()
    sources = SourceResolver(Storage(max_total_bytes=1), media, synthetic_fallback=False)
    linker = UrlLinker(media, "https://cdn.test")
    made = synthesize(endpoint, inputs, 1, linker, limits=Limits(), sources=sources)
    assert (made["images"][0]["width"], made["images"][0]["height"]) == (768, 768)


@pytest.mark.parametrize(
    ("endpoint_id", "asked", "expected"),
    [
        ("fal-ai/esrgan", {"scale": 4}, (256, 144)),
        ("fal-ai/esrgan", {}, (128, 72)),  # its default scale, 2
        ("fal-ai/clarity-upscaler", {"upscale_factor": 3}, (192, 108)),
        ("clarityai/crystal-upscaler", {"scale_factor": 4}, (256, 144)),
        ("fal-ai/seedvr/upscale/image", {"upscale_mode": "target"}, (1920, 1080)),  # 1080p
        ("fal-ai/recraft/upscale/crisp", {}, (128, 72)),  # no factor field: 2, a guess
    ],
)
def test_an_upscale_is_its_pictures_size_times_its_factor(
    endpoint_id: str, asked: dict, expected: tuple[int, int]
) -> None:
    endpoint = CATALOGUE.endpoint(endpoint_id)
    inputs, violations = check_input(
        endpoint, {"image_url": data_uri(png(64, 36), "image/png"), **asked}
    )
    assert not violations
    sources = SourceResolver(Storage(), MediaStore(), synthetic_fallback=False)
    LINKED.clear()
    synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)
    assert [(spec.width, spec.height) for spec in LINKED] == [expected]


def test_a_mesh_is_made_in_the_format_asked() -> None:
    endpoint = CATALOGUE.endpoint("fal-ai/triposr")
    inputs, _ = check_input(
        endpoint, {"image_url": data_uri(png(64, 36), "image/png"), "output_format": "obj"}
    )
    sources = SourceResolver(Storage(), MediaStore(), synthetic_fallback=False)
    made = synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)
    assert made["model_mesh"]["file_name"].endswith(".obj")


def _sound(seconds: int) -> str:
    return data_uri(wav(seconds), "audio/wav")


@pytest.mark.parametrize(
    ("endpoint_id", "inputs", "shape"),
    [
        # a lipsync is its video's size, length and frame rate (a generated one's own)
        ("fal-ai/sync-lipsync", {"video_url": "generated", "audio_url": _sound(7)},
         (640, 360, 4.0, 12, True)),
        # an upscaler's is its video's times its factor, or at its target resolution
        ("fal-ai/video-upscaler", {"video_url": "generated", "scale": 2},
         (1280, 720, 4.0, 12, False)),
        ("fal-ai/bytedance-upscaler/upscale/video",
         {"video_url": "generated", "target_resolution": "1080p", "target_fps": "60fps"},
         (1920, 1080, 4.0, 60, False)),
        ("fal-ai/topaz/upscale/video", {"video_url": "generated"},  # no target_fps: its own
         (1280, 720, 4.0, 12, False)),
        # scale-video's width and height; one alone keeps the video's aspect
        ("fal-ai/workflow-utilities/scale-video",
         {"video_url": "generated", "width": 1023, "height": 777},
         (1024, 776, 4.0, 12, False)),
        ("fal-ai/workflow-utilities/scale-video", {"video_url": "generated", "width": 320},
         (320, 180, 4.0, 12, False)),
        # a resolution of "auto" keeps the input's size ("'auto' preserves input")
        ("fal-ai/depth-anything-video", {"video_url": "generated"}, (640, 360, 4.0, 12, False)),
        ("fal-ai/depth-anything-video", {"video_url": "generated", "resolution": "480p"},
         (854, 480, 4.0, 12, False)),
        # bria's factor is text, "2" or "4"
        ("bria/video/increase-resolution",
         {"video_url": "generated", "desired_increase": "4", "preserve_audio": False},
         (2560, 1440, 4.0, 12, False)),
        # an audio isolation lasts as its audio (an uploaded WAV: probed), and so does a
        # speech-to-speech, which has no text to speak
        ("fal-ai/elevenlabs/audio-isolation", {"audio_url": _sound(7)}, (0, 0, 7.0, 0, False)),
        ("fal-ai/chatterbox/speech-to-speech",
         {"source_audio_url": _sound(3), "target_voice_audio_url": _sound(7)},
         (0, 0, 3.0, 0, False)),
        # ltx's match_audio_length (true by default) beats its num_frames default (its
        # size: its video_size default, landscape_4_3)
        ("fal-ai/ltx-2-19b/audio-to-video", {"audio_url": _sound(3), "prompt": "p"},
         (1024, 768, 3.0, 25, True)),
        ("fal-ai/ltx-2-19b/audio-to-video",
         {"audio_url": _sound(3), "prompt": "p", "match_audio_length": False},
         (1024, 768, 121 / 25, 25, True)),
        # ltx's match_input_fps and match_video_length (its sound, generate_audio's default)
        ("fal-ai/ltx-2-19b/video-to-video", {"video_url": "generated", "prompt": "p"},
         (640, 360, 4.0, 12, True)),
        # without match_video_length: its 121 frames at the input's 12 fps
        ("fal-ai/ltx-2-19b/video-to-video",
         {"video_url": "generated", "prompt": "p", "match_video_length": False},
         (640, 360, 121 / 12, 12, True)),
        # wan's reframe matches its input's frame rate and length (its size is asked)
        ("fal-ai/wan-vace-14b/reframe", {"video_url": "generated", "prompt": "p"},
         (1280, 720, 4.0, 12, False)),
        # mmaudio puts sound to its video (for its asked 8 s)
        ("fal-ai/mmaudio-v2", {"video_url": "generated", "prompt": "rain"},
         (640, 360, 8.0, 12, True)),
    ],
)  # fmt: skip
def test_an_output_of_no_asked_shape_is_its_input_medias(
    endpoint_id: str, inputs: dict, shape: tuple[int, int, float, int, bool]
) -> None:
    media = MediaStore()
    video = media.register(MediaSpec("video", 640, 360, "mp4", "m", "p", 1, duration=4.0, fps=12))
    if inputs.get("video_url") == "generated":
        inputs = {**inputs, "video_url": f"https://v3.fal.media/files/emulator/{video}.mp4"}
    endpoint = CATALOGUE.endpoint(endpoint_id)
    checked, violations = check_input(endpoint, inputs)
    assert not violations
    sources = SourceResolver(Storage(), media, synthetic_fallback=False)
    made = synthesize(
        endpoint, checked, 1, UrlLinker(media, "https://cdn.test"), limits=Limits(), sources=sources
    )
    output = made.get("video") or made["audio"]
    spec = media.lookup(output["url"].rsplit("/", 1)[1].split(".")[0])
    assert spec is not None
    facts = (spec.width, spec.height, spec.duration, spec.fps, spec.with_audio)
    assert facts == pytest.approx(shape)


@pytest.mark.parametrize(
    ("asked", "scaled"),
    [({"width": 1023, "height": 777}, (1024, 776)), ({"height": 180}, (320, 180))],
)
def test_the_sizes_an_output_states_are_its_inputs_and_its_files(
    asked: dict, scaled: tuple[int, int]
) -> None:
    # scale-video's "Width of the original video in pixels" and of the output video were
    # 0.0, the plain value of a number
    media = MediaStore()
    video = media.register(MediaSpec("video", 640, 360, "mp4", "m", "p", 1, duration=4.0, fps=12))
    endpoint = CATALOGUE.endpoint("fal-ai/workflow-utilities/scale-video")
    url = f"https://v3.fal.media/files/emulator/{video}.mp4"
    checked, violations = check_input(endpoint, {"video_url": url, **asked})
    assert not violations
    sources = SourceResolver(Storage(), media, synthetic_fallback=False)
    made = synthesize(
        endpoint, checked, 1, UrlLinker(media, "https://cdn.test"), limits=Limits(), sources=sources
    )
    spec = media.lookup(made["video"]["url"].rsplit("/", 1)[1].split(".")[0])
    assert spec is not None and (spec.width, spec.height) == scaled
    assert (made["original_width"], made["original_height"]) == (640, 360)
    assert (made["scaled_width"], made["scaled_height"]) == scaled


def test_a_stated_size_with_no_input_media_is_its_plain_value() -> None:
    endpoint = CATALOGUE.endpoint("fal-ai/workflow-utilities/scale-video")
    sources = SourceResolver(Storage(), MediaStore(), synthetic_fallback=True)
    made = synthesize(endpoint, {"video_url": "https://example.com/v.mp4", "width": 320},
                      1, link, limits=Limits(), sources=sources)  # fmt: skip
    assert (made["original_width"], made["original_height"]) == (0.0, 0.0)  # none read
    assert (made["scaled_width"], made["scaled_height"]) == (320, 180)


def test_an_output_a_flag_asks_for_is_made_only_when_asked() -> None:
    """ElevenLabs' TTS: "timestamps … only returned if `timestamps` is set to True"; its
    items are left open, so they get the emulator's own timed words of the spoken text."""
    endpoint = CATALOGUE.endpoint("fal-ai/elevenlabs/tts/eleven-v3")
    asked = {"text": "Hello world this is a test"}
    for flag, expected in ((True, ["Hello", "world", "this", "is", "a", "test"]), (False, None)):
        inputs, _ = check_input(endpoint, {**asked, "timestamps": flag})
        made = synthesize(endpoint, inputs, 1, link, limits=Limits())
        words = [item["text"] for item in made["timestamps"]] if "timestamps" in made else None
        assert words == expected
    assert made["audio"] and made.keys() == {"audio"}


def test_a_background_removers_picture_is_a_cutout_and_its_mask_the_subject() -> None:
    media = MediaStore()
    endpoint = CATALOGUE.endpoint("fal-ai/birefnet")
    for asked in ("png", "webp"):
        inputs, violations = check_input(
            endpoint, {"image_url": data_uri(png(64, 36), "image/png"), "output_format": asked}
        )
        assert not violations
        sources = SourceResolver(Storage(), media, synthetic_fallback=False)
        link = UrlLinker(media, "https://cdn.test")
        made = synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)
        urls = [made[name]["url"] for name in ("image", "mask_image")]
        specs = [media.lookup(url.rsplit("/", 1)[1].split(".")[0]) for url in urls]
        assert [(spec.matte, spec.format) for spec in specs if spec] == [
            ("cutout", asked),
            ("mask", asked),
        ]


def made(endpoint_id: str, payload: dict) -> MediaSpec:
    """The first file a catalogue endpoint makes of its minimal input and ``payload``."""
    endpoint = CATALOGUE.endpoint(endpoint_id)
    inputs, _ = check_input(endpoint, {**minimal_input(endpoint, URLS), **payload})
    LINKED.clear()
    synthesize(endpoint, inputs, 1, link, limits=Limits())
    return LINKED[0]


def test_sound_and_a_sample_rate_asked_under_other_names_are_made() -> None:
    # pixverse's generate_audio_switch gave a silent video, inworld's sample_rate_hertz
    # 44.1 kHz (an audit)
    pixverse = made("fal-ai/pixverse/c1/text-to-video", {"generate_audio_switch": True})
    assert pixverse.with_audio
    assert made("fal-ai/inworld-tts", {"sample_rate_hertz": 16000}).sample_rate == 16000


def test_a_default_fal_quoted_is_taken_as_its_number() -> None:
    # the catalogue kept inworld's default "48000" a string: 44.1 kHz was made (an audit)
    assert made("fal-ai/inworld-tts", {}).sample_rate == 48000


def test_a_video_or_image_is_made_in_the_format_asked_else_its_kinds_own() -> None:
    # every video was an MP4 and an image asked as a zip a 501 (an audit)
    cut_out = made("bria/video/background-removal", {})  # its default: VP9, with alpha
    assert (cut_out.format, cut_out.matte, cut_out.clear) == ("webm", "cutout", True)
    prores = made("fal-ai/flashvsr/upscale/video", {"output_format": "PRORES4444 (.mov)"})
    assert (prores.format, prores.codec, prores.extension) == ("mov", "prores", "mov")
    assert made("fal-ai/birefnet", {"output_format": "gif"}).content_type == "image/gif"
    assert made("pixelcut/background-removal", {"output_format": "zip"}).format == "png"
    assert made("fal-ai/hyper3d/rodin", {"geometry_file_format": "stl"}).format == "stl"
    assert made("tripo3d/triposplat", {"output_format": "splat"}).format == "splat"
    assert made("tripo3d/triposplat", {}).format == "ply"  # a splat's file, by its name


def test_a_video_background_removers_mask_video_is_a_mask() -> None:
    made("fal-ai/birefnet/v2/video", {})
    # its mask_video, and its video: an MP4, so its subject over black
    assert {(spec.matte, spec.backdrop) for spec in LINKED} == {("mask", ""), ("cutout", "000000")}


def test_a_talking_avatar_says_its_text_aloud_for_as_long_as_it_takes() -> None:
    # text-driven avatars and lip-syncs were silent 5 s videos (an audit)
    said = " ".join(["word"] * 20)  # 8 s at 2.5 words a second
    for endpoint_id in ("veed/avatars/text-to-video", "fal-ai/kling-video/lipsync/text-to-video"):
        video = made(endpoint_id, {"text": said})
        assert video.with_audio and video.duration == 8.0
    assert made("fal-ai/ai-avatar/multi", {}).with_audio  # its first_audio_url


@pytest.mark.parametrize(
    ("endpoint_id", "payload", "asked"),
    [
        # bria v3 composites over black unless asked "Transparent" (its default: "Black")
        ("bria/video/background-removal/v3", {}, ("webm", "cutout", "000000")),
        ("bria/video/background-removal/v3", {"background_color": "Transparent"},
         ("webm", "cutout", "")),
        ("bria/video/background-removal/v3", {"background_color": "Red"},
         ("webm", "cutout", "ff0000")),
        # ben: "MP4 format does not support transparency and will render transparent areas
        # as black"; its background_color an RGB list
        ("fal-ai/ben/v2/video", {}, ("mp4", "cutout", "000000")),
        ("fal-ai/ben/v2/video", {"output_format": "webm"}, ("webm", "cutout", "")),
        ("fal-ai/ben/v2/video", {"output_format": "webm", "background_color": [0, 0, 255]},
         ("webm", "cutout", "0000ff")),
        ("bria/video/background-removal", {"output_codec": "h264"}, ("mp4", "cutout", "000000")),
        # ProRes carries alpha in its 4444 profile
        ("fal-ai/birefnet/v2/video", {"video_output_type": "PRORES4444 (.mov)"},
         ("mov", "cutout", "")),
        ("fal-ai/ben/v2/image", {}, ("png", "cutout", "")),
    ],
)  # fmt: skip
def test_a_background_remover_puts_its_subject_over_the_backdrop_asked(
    endpoint_id: str, payload: dict, asked: tuple
) -> None:
    # every cut-out was transparent, or the whole picture where its format has no alpha;
    # bria's colours and ben's were not read, nor ben taken for a remover (an audit)
    made(endpoint_id, payload)
    spec = next(spec for spec in LINKED if spec.matte != "mask")  # its picture, not its mask
    assert (spec.format, spec.matte, spec.backdrop) == asked


@pytest.mark.parametrize(
    ("endpoint_id", "payload", "asked"),
    [
        ("fal-ai/elevenlabs/music", {"music_length_ms": 12000, "output_format": "mp3_22050_32"},
         ("mp3", "", 22050, 1, 12.0)),
        ("fal-ai/elevenlabs/sound-effects/v2",
         {"text": "door slam", "duration_seconds": 2, "output_format": "ulaw_8000"},
         ("wav", "pcm_mulaw", 8000, 1, 2.0)),
        # minimax's nested audio_setting, and its defaults where the input gives none
        ("fal-ai/minimax-music/v2",
         {"audio_setting": {"format": "flac", "sample_rate": 24000, "channel": 2}},
         ("flac", "", 24000, 2, 30.0)),
        ("fal-ai/minimax-music/v2", {}, ("mp3", "", 32000, 1, 30.0)),
        ("fal-ai/lyria2", {"prompt": "a calm piano"}, ("wav", "", 44100, 1, 30.0)),
        ("fal-ai/lava-sr", {"audio_format": "flac"}, ("flac", "", 44100, 1, 5.0)),
        ("fal-ai/lava-sr", {}, ("mp3", "", 44100, 1, 5.0)),  # its default
        ("mirelo-ai/sfx1.6/text-to-audio", {"upload_audio_format": "mp3"},
         ("mp3", "", 44100, 1, 1.0)),
        ("xai/tts/v1",
         {"text": "hi", "output_format": {"container": "raw", "encoding": "pcm_mulaw",
                                          "sample_rate": 8000}},
         ("wav", "pcm_mulaw", 8000, 1, 1.0)),
        ("fal-ai/maya", {"sample_rate": "24 kHz"}, ("wav", "", 24000, 1, 2.0)),
    ],
)  # fmt: skip
def test_an_audio_output_is_made_as_its_inputs_ask_under_any_of_their_names(
    endpoint_id: str, payload: dict, asked: tuple
) -> None:
    # music_length_ms, audio_format, ulaw_8000 and minimax's audio_setting were not read,
    # and a song lasted as its prompt takes to say (an audit)
    audio = made(endpoint_id, payload)
    shape = (audio.format, audio.codec, audio.sample_rate, audio.channels, audio.duration)
    assert shape == asked


@pytest.mark.parametrize(
    ("endpoint_id", "payload", "fps", "seconds"),
    [
        ("fal-ai/cogvideox-5b", {"export_fps": 8}, 8, 5.0),
        ("fal-ai/cogvideox-5b", {}, 16, 5.0),  # its default export_fps
        ("fal-ai/t2v-turbo", {}, 8, 2.0),  # 16 frames at its default 8 fps
        ("fal-ai/amt-interpolation", {"output_fps": 30}, 30, 5.0),
    ],
)
def test_a_video_is_made_at_the_frame_rate_asked_under_any_of_its_names(
    endpoint_id: str, payload: dict, fps: int, seconds: float
) -> None:
    video = made(endpoint_id, payload)
    assert (video.fps, video.duration) == (fps, seconds)


def test_a_model_writes_within_its_max_tokens_and_reasons_only_when_asked() -> None:
    # openrouter's router wrote 26 words for max_tokens 20, and its reasoning unasked
    endpoint = CATALOGUE.endpoint("openrouter/router")
    answers = []
    for payload in ({"max_tokens": 20}, {"max_tokens": 3, "reasoning": True}, {}):
        inputs, _ = check_input(endpoint, {"prompt": "a b c d e f", "model": "m", **payload})
        answers.append(synthesize(endpoint, inputs, 1, link, limits=Limits()))
    short, reasoned, free = answers
    assert len(short["output"].split()) == 20 and "reasoning" not in short
    assert len(reasoned["output"].split()) == 3 and len(reasoned["reasoning"].split()) == 3
    assert len(free["output"].split()) == 26 and "reasoning" not in free


@pytest.mark.parametrize(
    ("endpoint_id", "asked", "expected"),
    [
        ("fal-ai/imagen4/preview", {"aspect_ratio": "16:9", "resolution": "2K"}, (2736, 1536)),
        ("fal-ai/imagen4/preview", {"aspect_ratio": "16:9"}, (1368, 768)),  # its 1K
        # 6272x2688 at 4K, past the 4096² bound: scaled into it rather than refused
        ("fal-ai/nano-banana-pro", {"aspect_ratio": "21:9", "resolution": "4K"}, (6256, 2680)),
        ("fal-ai/smart-resize", {"resolution": "4K"}, (64, 36)),  # a hint: its picture's
    ],
)
def test_a_resolution_tier_sizes_an_image_with_its_aspect(
    endpoint_id: str, asked: dict, expected: tuple[int, int]
) -> None:
    # imagen4's 2K and nano-banana-pro's 4K were their 1K (an audit)
    endpoint = CATALOGUE.endpoint(endpoint_id)
    payload = {**minimal_input(endpoint, URLS), **asked}
    if "image_url" in payload:
        payload["image_url"] = data_uri(png(64, 36), "image/png")
    inputs, violations = check_input(endpoint, payload)
    assert not violations
    sources = SourceResolver(Storage(), MediaStore(), synthetic_fallback=False)
    LINKED.clear()
    synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)
    assert (LINKED[0].width, LINKED[0].height) == expected


@pytest.mark.parametrize(("asked", "clear"), [("webp", True), ("png", True), ("jpeg", False)])
def test_a_transparent_background_asked_is_a_cutout_where_the_format_can_be(
    asked: str, clear: bool
) -> None:
    # gpt-image's transparent WebP was opaque (an audit)
    spec = made("fal-ai/gpt-image-1.5", {"background": "transparent", "output_format": asked})
    assert (spec.matte, spec.clear) == (("cutout", True) if clear else ("", False))
    assert made("fal-ai/gpt-image-1.5", {"background": "opaque"}).matte == ""


def test_a_cutout_asked_as_a_gif_is_transparent_around_its_subject() -> None:
    # birefnet's GIF was its whole picture, no colour transparent (an audit)
    assert made("fal-ai/birefnet", {"output_format": "gif"}).clear


def _rendered(endpoint_id: str, payload: dict, picture: bytes) -> Image.Image:
    """The first picture ``endpoint_id`` makes of ``payload`` and an input ``picture``,
    as a client downloads it."""
    storage = Storage()
    media = MediaStore(load_source=lambda key: storage.read(storage.get(key)))  # type: ignore[arg-type]
    endpoint = CATALOGUE.endpoint(endpoint_id)
    inputs, violations = check_input(
        endpoint, {**payload, "image_url": data_uri(picture, "image/png")}
    )
    assert not violations
    sources = SourceResolver(storage, media, synthetic_fallback=False)
    linker = UrlLinker(media, "https://cdn.test")
    output = synthesize(endpoint, inputs, 1, linker, limits=Limits(), sources=sources)
    url = (output.get("images") or [output.get("image")])[0]["url"]
    spec = media.lookup(url.rsplit("/", 1)[1].split(".")[0])
    assert spec is not None
    return Image.open(io.BytesIO(media.content(spec)))


@pytest.mark.parametrize(
    ("endpoint_id", "payload"),
    [
        ("fal-ai/flux/dev/image-to-image", {"prompt": "x"}),
        ("fal-ai/esrgan", {"scale": 4}),  # upscaled: 256x144
        ("fal-ai/birefnet/v2", {}),  # its subject cut out: the picture inside it
    ],
)
def test_an_image_made_from_an_input_picture_shows_it(endpoint_id: str, payload: dict) -> None:
    # every image output drew a fresh gradient, whatever its input (an audit)
    red = Image.new("RGB", (64, 36), (230, 20, 20))
    out = io.BytesIO()
    red.save(out, "PNG")
    picture = _rendered(endpoint_id, payload, out.getvalue())
    middle = picture.convert("RGB").getpixel((picture.width // 2, picture.height // 3))
    assert middle[0] > 200 and middle[1] < 60 and middle[2] < 60, middle


@pytest.mark.parametrize(
    ("endpoint_id", "payload", "expected"),
    [
        ("fal-ai/recraft/v4.1/pro/text-to-vector", {"image_size": "landscape_4_3"}, "svg"),
        ("fal-ai/recraft/v3/text-to-image", {"style": "vector_illustration"}, "svg"),
        ("fal-ai/recraft/v3/text-to-image", {}, "png"),
        ("fal-ai/star-vector", {}, "svg"),
    ],
)
def test_a_vector_models_picture_is_an_svg(endpoint_id: str, payload: dict, expected: str) -> None:
    # recraft's text-to-vector and its v3 vector style answered PNGs (an audit)
    endpoint = CATALOGUE.endpoint(endpoint_id)
    inputs, violations = check_input(endpoint, {**minimal_input(endpoint, URLS), **payload})
    assert not violations
    LINKED.clear()
    output = synthesize(endpoint, inputs, 1, link, limits=Limits())
    image = (output.get("images") or [output.get("image")])[0]
    content_type = {"svg": "image/svg+xml", "png": "image/png"}[expected]
    assert (image["content_type"], image["file_name"]) == (content_type, f"0.{expected}")
    if "image_size" in payload:
        assert (LINKED[0].width, LINKED[0].height) == (1024, 768)


def _video_of(media: MediaStore, sound: bool, *, uploaded: bool = False) -> str:
    """A 1 s video with or without a sound track: generated, or its file as a data URI
    (probed, as an upload is)."""
    from emulator.media.video import render_video

    spec = MediaSpec(
        "video", 64, 48, "mp4", "m", "p", 1, duration=1.0, fps=12,
        with_audio=sound, sample_rate=44100 if sound else 0,
    )  # fmt: skip
    if uploaded:
        return data_uri(render_video(spec, lambda _: None), "video/mp4")
    return f"https://v3.fal.media/files/emulator/{media.register(spec)}.mp4"


@pytest.mark.parametrize(
    ("endpoint_id", "payload", "sound", "kept"),
    [
        ("bria/video/increase-resolution", {}, True, True),  # preserve_audio: true, its default
        ("bria/video/increase-resolution", {}, False, False),  # nothing to keep
        ("bria/video/increase-resolution", {"preserve_audio": False}, True, False),
        ("bria/video/background-removal/v3", {"output_container_and_codec": "mp4_h264"},
         True, True),
        ("fal-ai/kling-video/o3/standard/video-to-video/edit", {"prompt": "p"}, True, True),
        ("fal-ai/kling-video/o1/video-to-video/edit", {"prompt": "p", "keep_audio": True},
         True, True),
        ("fal-ai/steady-dancer", {}, True, True),
        ("fal-ai/flashvsr/upscale/video", {"preserve_audio": True}, False, False),
        ("fal-ai/kling-video/v3/standard/motion-control", {}, True, True),  # keep_original_sound
    ],
)  # fmt: skip
def test_a_flag_keeping_its_input_videos_sound_keeps_it_if_it_has_one(
    endpoint_id: str, payload: dict, sound: bool, kept: bool
) -> None:
    """bria's ``preserve_audio`` and kling's ``keep_audio``, true by default, dropped the
    input video's sound track (an audit); generated or uploaded, a video with one keeps it."""
    endpoint = CATALOGUE.endpoint(endpoint_id)
    minimal = minimal_input(endpoint, {**URLS, "image": data_uri(png(8, 8), "image/png")})
    for uploaded in (False, True):
        media = MediaStore()
        video = _video_of(media, sound, uploaded=uploaded)
        inputs, violations = check_input(endpoint, {**minimal, **payload, "video_url": video})
        assert not violations
        sources = SourceResolver(Storage(), media, synthetic_fallback=False)
        link = UrlLinker(media, "https://cdn.test")
        made = synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)
        spec = media.lookup(made["video"]["url"].rsplit("/", 1)[1].split(".")[0])
        assert spec is not None and spec.with_audio is kept


def test_a_kept_sound_track_of_an_input_it_cannot_read_is_taken_to_be_there() -> None:
    """Offline (synthetic fallback), or fal's example URL: the flag is taken at its word."""
    endpoint = CATALOGUE.endpoint("bria/video/increase-resolution")
    for asked in (True, False):
        inputs, _ = check_input(
            endpoint, {"video_url": "https://example.com/a.mp4", "preserve_audio": asked}
        )
        sources = SourceResolver(Storage(), MediaStore(), synthetic_fallback=True)
        LINKED.clear()
        synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)
        assert LINKED[0].with_audio is asked


def test_fal_videos_nested_facts_are_its_files() -> None:
    """fal's ``Video`` type's resolution, format and timebase were zeros and empty strings
    while its file was real (an audit); its audio track is there when the file has one."""
    endpoint = CATALOGUE.endpoint("bria/video/increase-resolution")
    for sound in (True, False):
        inputs, _ = check_input(
            endpoint,
            {"video_url": URLS["video"], "output_container_and_codec": "mkv_h265",
             "preserve_audio": sound},
        )  # fmt: skip
        media = MediaStore()
        linker = UrlLinker(media, "https://cdn.test")
        video = synthesize(endpoint, inputs, 1, linker, limits=Limits())["video"]
        spec = media.lookup(video["url"].rsplit("/", 1)[1].split(".")[0])
        assert spec is not None and spec.byte_size is not None
        assert video["resolution"] == {"width": 1280, "height": 720, "aspect_ratio": "16:9"}
        assert video["timebase"] == "1/1000"  # Matroska's milliseconds
        sound_bits = 64000 if sound else 0
        assert video["format"] == {
            "container": "mkv", "video_codec": "h265", "pixel_format": "yuv420p",
            "profile": "Main", "level": 3.1,
            "bitrate": round(spec.byte_size * 8 / 5) - sound_bits,
        }  # fmt: skip
        track = {"codec": "aac", "sample_rate": 44100, "channels": 1, "bitrate": 64000}
        assert video.get("audio") == (track if sound else None)


def test_ffmpeg_apis_metadata_describes_its_input() -> None:
    """It described a 5 s 1280×720 video of its own, whatever its ``media_url`` (an audit);
    an audio is described as fal's ``Audio``, the other branch of its output."""
    from emulator.media.video import render_video

    endpoint = CATALOGUE.endpoint("fal-ai/ffmpeg-api/metadata")
    clip = MediaSpec(
        "video", 320, 240, "mp4", "m", "p", 1, duration=3.0, fps=12,
        with_audio=True, sample_rate=44100,
    )  # fmt: skip
    uploaded = data_uri(render_video(clip, lambda _: None), "video/mp4")
    sources = SourceResolver(Storage(), MediaStore(), synthetic_fallback=False)
    inputs, _ = check_input(endpoint, {"media_url": uploaded})
    video = synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)["media"]
    facts = (video["duration"], video["fps"], video["frame_count"], video["resolution"])
    assert facts == (3.0, 12, 36, {"width": 320, "height": 240, "aspect_ratio": "4:3"})
    assert video["audio"]["codec"] == "aac"
    inputs, _ = check_input(endpoint, {"media_url": _sound(2)})
    audio = synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)["media"]
    assert (audio["media_type"], audio["duration"], LINKED[-1].kind) == ("audio", 2.0, "audio")
    assert audio["codec"] == "pcm_s16le"  # as ffprobe reads it, not ""
    assert "resolution" not in audio
    inputs, _ = check_input(endpoint, {"media_url": "https://example.com/gone.mp4"})
    with pytest.raises(InputUnreachable):  # fetched first, as any media input is
        synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)


@pytest.mark.parametrize(
    ("endpoint_id", "payload", "count"),
    [
        ("fal-ai/ffmpeg-api/extract-frame", {"frame_type": "last"}, 1),
        ("fal-ai/workflow-utilities/extract-nth-frame", {"frame_interval": 12}, 3),
        ("fal-ai/workflow-utilities/extract-nth-frame", {"frame_interval": 5}, 8),  # 0, 5…35
        ("fal-ai/workflow-utilities/extract-nth-frame", {"frame_interval": 5, "max_frames": 2}, 2),
        ("fal-ai/workflow-utilities/extract-nth-frame", {"frame_interval": 1}, 16),  # at most
    ],
)
def test_frames_taken_from_an_input_video_are_its_size_and_as_many_as_asked(
    endpoint_id: str, payload: dict, count: int
) -> None:
    """extract-frame gave a 1024² picture of a 320×240 video, and extract-nth-frame one
    picture and a ``frame_count`` of 0 for a 36-frame clip taken every 12th (an audit)."""
    media = MediaStore()
    clip = media.register(MediaSpec("video", 320, 240, "mp4", "m", "p", 1, duration=3.0, fps=12))
    endpoint = CATALOGUE.endpoint(endpoint_id)
    url = f"https://v3.fal.media/files/emulator/{clip}.mp4"
    inputs, violations = check_input(endpoint, {"video_url": url, **payload})
    assert not violations
    sources = SourceResolver(Storage(), media, synthetic_fallback=False)
    made = synthesize(endpoint, inputs, 1, link, limits=Limits(), sources=sources)
    assert [(image["width"], image["height"]) for image in made["images"]] == [(320, 240)] * count
    assert made.get("frame_count", count) == count


@pytest.mark.parametrize(
    ("endpoint_id", "payload", "fields"),
    [
        ("fal-ai/demucs", {}, ("bass", "drums", "guitar", "other", "piano", "vocals")),
        ("fal-ai/sam-audio/separate", {"prompt": "a dog"}, ("target", "residual")),
    ],
)
def test_each_of_several_sounds_of_an_output_is_a_sound_of_its_own(
    endpoint_id: str, payload: dict, fields: tuple[str, ...]
) -> None:
    """demucs gave every stem the same file (an audit)."""
    media = MediaStore()
    endpoint = CATALOGUE.endpoint(endpoint_id)
    inputs, violations = check_input(endpoint, {"audio_url": _sound(1), **payload})
    assert not violations
    sources = SourceResolver(Storage(), media, synthetic_fallback=False)
    linker = UrlLinker(media, "https://cdn.test")
    made = synthesize(endpoint, inputs, 1, linker, limits=Limits(), sources=sources)
    urls = [made[name]["url"] for name in fields]
    specs = [media.lookup(url.rsplit("/", 1)[1].split(".")[0]) for url in urls]
    sounds = {media.content(spec) for spec in specs if spec is not None}
    assert len(set(urls)) == len(sounds) == len(fields)


def test_an_input_video_is_not_read_for_the_count_of_images_unless_frames_are_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the clip was read (an upload probed, a URL fetched) before frame_interval was looked at
    read: list[str] = []
    monkeypatch.setattr(SourceResolver, "clip", lambda self, url: read.append(url))
    endpoint = CATALOGUE.endpoint("fal-ai/workflow-utilities/extract-nth-frame")
    sources = SourceResolver(Storage(), MediaStore(), synthetic_fallback=False)
    url = "https://v3.fal.media/files/emulator/clip.mp4"
    job = Synthesis(plan_of(endpoint), {"video_url": url}, 1, link, Limits(), sources)
    assert job.image_count() == 1 and read == []
    job = Synthesis(plan_of(endpoint), {"video_url": url, "frame_interval": 5}, 1, link,
                    Limits(), sources)  # fmt: skip
    assert job.image_count() == 1 and read == [url]


def test_an_output_nesting_deeper_than_python_goes_is_one_it_cannot_make() -> None:
    # the last guard: a RecursionError was a 500; it is an output the emulator cannot make
    # (fal's 501, WaveSpeed's task code 5003). Forty objects, each inside the one before,
    # take more frames to make than a limit 30 frames beyond this test's allows
    nested: dict = {"type": "string"}
    for _ in range(40):
        nested = {"type": "object", "required": ["n"], "properties": {"n": nested}}
    ok = {"200": {"content": {"application/json": {"schema": nested}}}}
    posted = {"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}}
    document = {
        "paths": {
            "/acme/deep": {"post": posted},
            "/acme/deep/requests/{request_id}": {"get": {"responses": ok}},
        }
    }
    endpoint = endpoint_from_document("fal", document)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 30)
    try:
        with pytest.raises(OutputUnmade, match="nests deeper than provider-emulator makes"):
            synthesize(endpoint, {}, 1, link, limits=Limits())
    finally:
        sys.setrecursionlimit(limit)
