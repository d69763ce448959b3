import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator import EmulatorConfig, Endpoint, Engine, ManualClock, Progression
from emulator.contracts.limits import SHAPING_FIELDS, Limits, check_limits, declared
from emulator.contracts.validation import check_input
from emulator.core.outcomes import JobFailed
from emulator.strategies import valid_inputs

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


def test_video_duration_is_bounded_as_asked_not_as_defaulted() -> None:
    problems = check_limits(VIDEO, {"prompt": "x", "duration": 10000}, Limits())
    assert [p.loc for p in problems] == [("duration",)]


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
@given(data=st.data(), limits=LIMITS, unset=st.booleans())
def test_an_input_that_sets_no_shaping_field_gets_the_verdict_it_would_get_alone(
    endpoint: Endpoint, data: st.DataObject, limits: Limits, unset: bool
) -> None:
    # the verdict on an endpoint's defaults is kept: it must be the input's own
    payload = data.draw(valid_inputs(endpoint))
    if unset:  # the optional fields the limits read left to their defaults
        required = set(endpoint.resolve(endpoint.input_schema).get("required", []))
        payload = {k: v for k, v in payload.items() if k in required or k not in SHAPING_FIELDS}
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
