"""The bounds of `EmulatorConfig`'s numeric settings, refused by every way a config is made."""

import math
from dataclasses import replace

import pytest

from emulator.config import SETTINGS, EmulatorConfig

#: each bounded setting: the nearest value it refuses, the nearest it accepts, and its bound
#: as the refusal words it (sizes and counts from 1; durations above 0; 0 where it means
#: something: no media cache, no upload kept in the store, webhook retries at once)
BOUNDS = {
    "retention": (0, 0.001, "more than 0"),
    "max_jobs": (0, 1, "at least 1"),
    "max_jobs_per_key": (0, 1, "at least 1"),
    "max_retained_bytes": (0, 1, "at least 1"),
    "max_retained_bytes_per_key": (0, 1, "at least 1"),
    "max_body_bytes": (0, 1, "at least 1"),
    "max_json_depth": (0, 1, "at least 1"),
    "max_image_pixels": (0, 1, "at least 1"),
    "max_outputs": (0, 1, "at least 1"),
    "max_video_seconds": (0, 0.001, "more than 0"),
    "max_video_fps": (0, 1, "at least 1"),
    "max_video_pixels": (0, 1, "at least 1"),
    "media_cache_bytes": (-1, 0, "at least 0"),
    "stream_keepalive": (0, 0.001, "more than 0"),
    "max_inline_upload_bytes": (-1, 0, "at least 0"),
    "max_upload_bytes": (0, 1, "at least 1"),
    "max_storage_bytes": (0, 1, "at least 1"),
    "max_storage_bytes_per_key": (0, 1, "at least 1"),
    "webhook_time_scale": (-1, 0, "at least 0"),
    "sync_timeout": (0, 0.001, "more than 0"),
    "realtime_idle_timeout": (0, 0.001, "more than 0"),
}


@pytest.mark.parametrize(("name", "bound"), [(n, b) for n, b in BOUNDS.items()])
def test_each_numeric_setting_refuses_a_value_past_its_bound(
    name: str, bound: tuple[float, float, str]
) -> None:
    refused, accepted, words = bound
    with pytest.raises(ValueError, match=f"^{name} must be {words}, not {refused}$"):
        EmulatorConfig(**{name: refused})
    assert getattr(EmulatorConfig(**{name: accepted}), name) == accepted


def test_every_numeric_setting_but_the_seed_declares_a_bound() -> None:
    numeric = {
        name
        for name, setting in SETTINGS.items()
        if type(setting.default) in (int, float) and name != "seed"
    }
    bounded = {name for name, setting in SETTINGS.items() if setting.metadata.get("bounds")}
    assert numeric == bounded == set(BOUNDS)


@pytest.mark.parametrize("value", [math.nan, math.inf, "10", True, None])
def test_a_bounded_setting_takes_only_a_finite_number(value: object) -> None:
    with pytest.raises(ValueError, match="^max_jobs must be a finite number, not "):
        EmulatorConfig(max_jobs=value)  # type: ignore[arg-type]


def test_text_from_flags_files_and_the_environment_is_bounded_too() -> None:
    with pytest.raises(ValueError, match="^retention must be more than 0, not -1.0$"):
        EmulatorConfig().with_options({"retention": "-1"})
    with pytest.raises(ValueError, match="^max_body_bytes must be at least 1, not -5$"):
        EmulatorConfig().with_environment({"PROVIDER_EMULATOR_MAX_BODY_BYTES": "-5"})
    with pytest.raises(ValueError, match="^sync_timeout must be a finite number, not nan$"):
        EmulatorConfig().with_options({"sync_timeout": "nan"})
    with pytest.raises(ValueError, match="^max_outputs must be at least 1"):
        replace(EmulatorConfig(), max_outputs=0)
