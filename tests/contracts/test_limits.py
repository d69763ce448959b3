from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator import EmulatorConfig, Endpoint, Engine, ManualClock, Progression
from emulator.contracts import limits as limits_module
from emulator.contracts.catalogue import shipped_catalogue
from emulator.contracts.limits import (
    SHAPING_FIELDS,
    Limits,
    check_limits,
    declared,
    file_beyond,
    output_count,
)
from emulator.contracts.validation import check_input
from emulator.core.outcomes import JobFailed, check_all, find_violations
from emulator.media import MediaSpec
from emulator.strategies import broken_inputs, valid_inputs

ENGINE = Engine(EmulatorConfig(seed=1, progression=Progression.parse("immediate")))
BITDANCE = ENGINE.contracts.get("fal", "fal-ai/bitdance")
WAVESPEED = ENGINE.contracts.get("wavespeed", "wavespeed-ai/bitdance-14b/text-to-image")
VIDEO = ENGINE.contracts.get("wavespeed", "bytedance/seedance-v1-lite-t2v-480p")


def test_undeclared_fields_shape_nothing() -> None:
    inputs = {"prompt": "x", "size": "512*512", "num_images": 100000, "width": 1280, "fps": 500}
    assert declared(WAVESPEED, inputs) == {"prompt": "x", "size": "512*512"}
    assert check_limits(WAVESPEED, inputs, Limits()) == []


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"prompt": "x", "image_size": {"width": 5000, "height": 5000}}, "image_size"),
        ({"prompt": "x", "image_size": {"width": 0, "height": 100}}, "image_size"),
    ],
)
def test_sizes_beyond_the_emulators_are_named(inputs: dict, field: str) -> None:
    problems = check_limits(BITDANCE, inputs, Limits())
    assert [p.loc for p in problems] == [(field,)] and problems[0].type == "emulator_limit"


def test_a_declared_count_is_bounded_by_the_config_where_the_contract_is_silent() -> None:
    problems = check_limits(BITDANCE, {"prompt": "x", "num_images": 3}, Limits(max_outputs=2))
    assert [p.loc for p in problems] == [("num_images",)]


@pytest.mark.parametrize(
    ("endpoint_id", "field"),
    [("fal-ai/fashn/tryon/v1.5", "num_samples"), ("fal-ai/bria/product-shot", "num_results")],
)
def test_a_count_under_another_name_is_bounded_too(endpoint_id: str, field: str) -> None:
    endpoint = ENGINE.contracts.get("fal", endpoint_id)
    problems = check_limits(endpoint, {field: 10**6}, Limits(max_outputs=2))
    assert [p.loc for p in problems] == [(field,)]


@pytest.mark.parametrize(
    ("value", "count"),
    [(4, 4), (4.0, 4), (4.5, 4), (0, None), (-5, None), (0.5, None), (True, None), ("4", None)],
)
def test_an_output_count_is_a_whole_number_of_at_least_one(value: object, count: int) -> None:
    assert output_count(value) == count
    assert output_count(float("nan")) is None and output_count(float("inf")) is None


@pytest.mark.parametrize("asked", [17, 17.0, 100.0])
def test_a_count_typed_number_is_bounded_as_a_whole_one_is(asked: float) -> None:
    # fal's published types make seedream's edit count a `number`: 17.0 asks for 17
    seedream_edit = shipped_catalogue().endpoint("fal-ai/bytedance/seedream/v4/edit")
    inputs = {"prompt": "x", "image_urls": ["https://example.test/a.png"], "num_images": asked}
    problems = check_limits(seedream_edit, inputs, Limits(max_outputs=16))
    assert [p.loc for p in problems] == [("num_images",)]


def test_a_batch_size_is_no_count() -> None:
    # live-portrait's batch_size (32 by default) says how its work is batched
    live_portrait = ENGINE.contracts.get("fal", "fal-ai/live-portrait")
    assert check_limits(live_portrait, {"batch_size": 32}, Limits()) == []


def test_video_duration_is_bounded_as_asked_not_as_defaulted() -> None:
    problems = check_limits(VIDEO, {"prompt": "x", "duration": 10000}, Limits())
    assert [p.loc for p in problems] == [("duration",)]


@pytest.mark.parametrize("frames", [2000, 86_400, 100_000_000, 10**400])
def test_video_length_asked_in_frames_is_bounded_and_named(frames: int) -> None:
    # fal's num_frames overrides the duration; 86,400 frames was once an hour, so odd that
    # the length fell back to the default 5 s, unbounded
    seedance = ENGINE.contracts.get("fal", "fal-ai/bytedance/seedance/v1/pro/fast/image-to-video")
    asked = {"prompt": "x", "image_url": "https://x.invalid/a.png", "num_frames": frames}
    problems = check_limits(seedance, asked, Limits())
    assert [p.loc for p in problems] == [("num_frames",)]
    assert check_limits(seedance, {**asked, "num_frames": 48}, Limits()) == []


def test_a_frame_rate_past_the_bound_is_named_as_asked() -> None:
    # wan's frame rate is frames_per_second: the 422 named "fps", a field it has not
    wan = shipped_catalogue().endpoint("fal-ai/wan/v2.2-a14b/text-to-video")
    problems = check_limits(wan, {"prompt": "x", "frames_per_second": 500}, Limits())
    assert [(p.loc, p.type) for p in problems] == [(("frames_per_second",), "emulator_limit")]


def test_a_video_size_beyond_the_emulators_is_refused() -> None:
    ltx = ENGINE.contracts.get("fal", "fal-ai/ltx-2-19b/text-to-video")
    huge = {"prompt": "x", "video_size": {"width": 10_000, "height": 10_000}}
    assert [p.type for p in check_limits(ltx, huge, Limits())] == ["emulator_limit"]
    assert check_limits(ltx, {**huge, "video_size": "portrait_16_9"}, Limits()) == []


def test_a_finished_jobs_output_is_made_once() -> None:
    engine = Engine(EmulatorConfig(seed=1), clock=ManualClock())
    engine.config = engine.config.with_options({"progression": "immediate"})
    job = engine.submit(engine.contracts.get("fal", "fal-ai/bitdance"), {"prompt": "x"}, "k")
    calls = []

    def link(spec: object) -> tuple[str, int]:
        calls.append(spec)
        return "u", 1

    first = engine.outcome(job, link)  # type: ignore[arg-type]
    assert engine.outcome(job, link) is first and len(calls) == 1  # type: ignore[arg-type]


def test_a_failure_is_kept_as_well() -> None:
    engine = Engine(EmulatorConfig(seed=1, progression=Progression.parse("immediate")))
    job = engine.submit(engine.contracts.get("fal", "fal-ai/bitdance"), {"prompt": 3}, "k")
    for _ in range(2):
        with pytest.raises(JobFailed) as failed:
            engine.outcome(job, lambda spec: ("u", 1))  # type: ignore[arg-type]
        assert failed.value.failure.kind == "invalid"


LIMITS = st.builds(
    Limits,
    max_outputs=st.integers(1, 4),
    max_image_pixels=st.sampled_from([64 * 64, 512 * 512, 4096 * 4096]),
    max_video_seconds=st.sampled_from([1.0, 60.0]),
)


@pytest.mark.parametrize("endpoint", [BITDANCE, WAVESPEED, VIDEO], ids=lambda e: e.id)
@given(data=st.data(), limits=LIMITS)
def test_an_input_gets_the_verdict_it_would_get_alone(
    endpoint: Endpoint, data: st.DataObject, limits: Limits
) -> None:
    # The verdict on an endpoint's defaults is kept. First it is kept from an input of the
    # required fields alone; then an input with one optional field (any, so that a field
    # the limits read but the kept verdict does not know of is caught) gets its own.
    drawn = data.draw(valid_inputs(endpoint))
    required = set(endpoint.resolve(endpoint.input_schema).get("required", []))
    least = {k: v for k, v in drawn.items() if k in required}
    check_limits(endpoint, check_input(endpoint, least)[0], limits, payload=least)
    extra = data.draw(st.sampled_from([None, *sorted(set(drawn) - required)]))
    payload = least if extra is None else {**least, extra: drawn[extra]}
    inputs, violations = check_input(endpoint, payload)
    assert not violations
    kept = check_limits(endpoint, inputs, limits, payload=payload)
    assert kept == check_limits(endpoint, inputs, limits)


def test_the_verdict_on_the_defaults_is_kept_per_limits() -> None:
    # bitdance-14b's default size is 1024*1024: refused under a smaller bound, every time
    small = Limits(max_image_pixels=512 * 512)
    payload = {"prompt": "x"}
    inputs, _ = check_input(WAVESPEED, payload)
    for _ in range(2):
        refused = check_limits(WAVESPEED, inputs, small, payload=payload)
        assert [p.loc for p in refused] == [("size",)]
        assert check_limits(WAVESPEED, inputs, Limits(), payload=payload) == []


class _Asked(dict):
    """A mapping that notes every key asked of it."""

    def __init__(self, values: dict, asked: set) -> None:
        super().__init__(values)
        self.asked = asked

    def get(self, key: object, default: object = None) -> object:
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: object) -> object:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(key)
        return super().__contains__(key)


@pytest.mark.parametrize(
    "inputs",
    [
        {},
        {"num_images": 9},
        {"image_size": "square"},
        {"image_size": {"width": 9000, "height": 9000}},
        {"width": 9000, "height": 9000},
        {"size": "9000*9000"},
        {"size": "16:9"},
        {"aspect_ratio": "16:9"},
        {"duration": 90},
        {"duration": "5s", "fps": 90, "resolution": "1080p", "aspect_ratio": "auto"},
        {"size": "832*480", "duration": 5, "num_frames": 900},
    ],
)
def test_the_limits_read_no_field_outside_the_shaping_ones(
    inputs: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What makes the verdict on the defaults exact for any input that sets none of them
    asked: set = set()
    monkeypatch.setattr(limits_module, "declared", lambda _, given: _Asked(given, asked))
    tiny = Limits(max_outputs=1, max_image_pixels=1, max_video_seconds=0.1, max_video_fps=1)
    for endpoint in (BITDANCE, WAVESPEED, VIDEO):
        check_limits(endpoint, inputs, tiny)
    assert asked and asked <= SHAPING_FIELDS, asked - SHAPING_FIELDS


@pytest.mark.parametrize("endpoint", [BITDANCE, WAVESPEED, VIDEO], ids=lambda e: e.id)
@given(data=st.data(), limits=LIMITS)
def test_a_submissions_violations_are_those_of_its_input_with_its_defaults(
    endpoint: Endpoint, data: st.DataObject, limits: Limits
) -> None:
    # A submit asks only what is wrong (`find_violations`), filling no defaults in where
    # the limits read none of the input's fields: the answer is the whole check's.
    drawn = data.draw(
        st.one_of(
            valid_inputs(endpoint, max_dimension=8192),
            broken_inputs(endpoint).map(lambda pair: pair[0]),
            st.just({}),
            st.just([]),
        )
    )
    assert find_violations(endpoint, drawn, limits) == check_all(endpoint, drawn, limits)[1]


def test_a_huge_number_is_shown_short_in_a_message() -> None:
    from emulator.contracts.limits import shown

    assert (shown(4096), shown(10**12 - 1)) == ("4096", "999999999999")
    assert shown(int(1e300)) == "1e+300" and shown(-(10**50)) == "-1e+50"


def test_a_video_file_past_the_byte_bound_is_told_before_it_is_rendered() -> None:
    # a ProRes 4444 cut-out weighs 0.6 bytes a pixel: 1.8 GB at the pixel limit, held in
    # memory while made (hostile input); the same video in H.264 is 60 MB
    long_cut_out = MediaSpec(
        "video", 1920, 1080, "mov", "acme/remove-background", "", 1, duration=30, fps=24,
        codec="prores", matte="cutout",
    )  # fmt: skip
    refused = file_beyond(long_cut_out)
    assert refused is not None and refused.type == "emulator_limit"
    assert refused.msg.startswith("provider-emulator: video files of up to 512 MB;")
    assert refused.msg.endswith("in prores would be 859 MB")
    assert file_beyond(replace(long_cut_out, duration=15)) is None  # 430 MB
    assert file_beyond(replace(long_cut_out, codec="", format="mp4", duration=60)) is None
