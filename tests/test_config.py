"""The bounds of `EmulatorConfig`'s numeric settings, refused by every way a config is made."""

import math
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from emulator.config import KINDS, SETTINGS, EmulatorConfig
from emulator.setting_values import Kind

#: each bounded setting: the nearest value it refuses, the nearest it accepts, and its bound
#: as the refusal words it (sizes and counts from 1; durations above 0; 0 where it means
#: something: no media cache, no upload kept in the store, webhook retries at once)
BOUNDS = {
    "retention": (0, 0.001, "more than 0, at most 2678400"),
    "max_jobs": (0, 1, "at least 1"),
    "max_jobs_per_key": (0, 1, "at least 1"),
    "max_held_per_key": (0, 1, "at least 1"),
    "max_retained_bytes": (0, 1, "at least 1"),
    "max_retained_bytes_per_key": (0, 1, "at least 1"),
    "max_recorded_requests": (0, 1, "at least 1"),
    "max_recorded_requests_per_key": (0, 1, "at least 1"),
    "max_recorded_bytes": (0, 1, "at least 1"),
    "max_body_bytes": (0, 1, "at least 1"),
    "max_json_depth": (0, 1, "at least 1"),
    "max_image_pixels": (0, 1, "at least 1"),
    "max_outputs": (0, 1, "at least 1"),
    "max_video_seconds": (0, 0.001, "more than 0"),
    "max_video_fps": (0, 1, "at least 1"),
    "max_video_pixels": (0, 1, "at least 1"),
    "media_cache_bytes": (-1, 0, "at least 0"),
    "stream_keepalive": (0, 0.001, "more than 0, at most 3600"),
    "max_inline_upload_bytes": (-1, 0, "at least 0"),
    "max_upload_bytes": (0, 1, "at least 1"),
    "max_storage_bytes": (0, 1, "at least 1"),
    "max_storage_bytes_per_key": (0, 1, "at least 1"),
    "webhook_time_scale": (-1, 0, "from 0 to 100"),
    "sync_timeout": (0, 0.001, "more than 0, at most 3600"),
    "realtime_idle_timeout": (0, 0.001, "more than 0, at most 3600"),
}
#: the waits and scales bounded above too (1e308 seconds held a sync wait for good)
UPPER = {
    "retention": (2678401, "more than 0, at most 2678400"),
    "stream_keepalive": (3601, "more than 0, at most 3600"),
    "sync_timeout": (36000.0, "more than 0, at most 3600"),
    "realtime_idle_timeout": (3601, "more than 0, at most 3600"),
    "webhook_time_scale": (101, "from 0 to 100"),
}


@pytest.mark.parametrize(("name", "bound"), list(UPPER.items()))
def test_waits_and_scales_refuse_a_value_past_their_upper_bound(
    name: str, bound: tuple[float, str]
) -> None:
    refused, words = bound
    with pytest.raises(ValueError, match=f"^{name} must be {words}, not {refused!r}$"):
        EmulatorConfig(**{name: refused})


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


@pytest.mark.parametrize("name", ["retention", "sync_timeout"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_bounded_setting_takes_only_a_finite_number(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be a finite number, not "):
        EmulatorConfig(**{name: value})


def test_text_from_flags_files_and_the_environment_is_bounded_too() -> None:
    with pytest.raises(
        ValueError, match="^retention must be more than 0, at most 2678400, not -1.0$"
    ):
        EmulatorConfig().with_options({"retention": "-1"})
    with pytest.raises(
        ValueError, match="^PROVIDER_EMULATOR_MAX_BODY_BYTES must be at least 1, not -5$"
    ):
        EmulatorConfig().with_environment({"PROVIDER_EMULATOR_MAX_BODY_BYTES": "-5"})
    with pytest.raises(ValueError, match="^sync_timeout must be a finite number, not nan$"):
        EmulatorConfig().with_options({"sync_timeout": "nan"})
    with pytest.raises(ValueError, match="^max_outputs must be at least 1"):
        replace(EmulatorConfig(), max_outputs=0)


def test_every_setting_has_a_kind_from_its_annotation_that_its_default_holds() -> None:
    defaults = EmulatorConfig()
    assert set(KINDS) == set(SETTINGS)
    for name, kind in KINDS.items():
        assert str(kind) and kind.holds(getattr(defaults, name)), name
    assert KINDS["seed"] == Kind(int, None, optional=True)
    assert KINDS["contracts"] == Kind(Path, tuple) and KINDS["api_keys"].many is frozenset


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("seed", 1.5, "an integer"),
        ("seed", "1", "an integer"),
        ("max_jobs", True, "an integer"),
        ("max_jobs", None, "an integer"),
        ("max_jobs", 10.0, "an integer"),
        ("retention", [1], "a number"),
        ("sync_timeout", {"a": 1}, "a number"),
        ("validate_on_submit", "no", "true or false"),
        ("validate_on_submit", 0, "true or false"),
        ("admin_token", 5, "a string"),
        ("state", 5, "a string"),
        ("storage_dir", 5, "a path"),
        ("progression", 5, "a progression"),
        ("contracts", [5], "a list of paths"),
        ("api_keys", "a", "a list of strings"),
        ("api_keys", frozenset({1}), "a list of strings"),
    ],
)
def test_each_setting_takes_only_the_type_its_annotation_names(
    name: str, value: object, expected: str
) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be {re.escape(expected)}"):
        EmulatorConfig(**{name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("admin_token", ""),
        ("proxy_key", ""),
        ("api_keys", frozenset()),
        ("api_keys", frozenset({""})),
    ],
)
def test_an_empty_token_or_key_is_refused(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"^{name} must "):
        EmulatorConfig(**{name: value})


@pytest.mark.parametrize("value", ["  ", " tok", "tok\n", "tök", "to\x01k"])
@pytest.mark.parametrize("name", ["admin_token", "proxy_key", "api_keys"])
def test_a_token_or_key_no_request_could_present_is_refused(name: str, value: str) -> None:
    # each was accepted, and matched no request: the control plane locked for good
    given = frozenset({"ok", value}) if name == "api_keys" else value
    with pytest.raises(ValueError, match=f"^{name} must be printable ASCII"):
        EmulatorConfig(**{name: given})


def test_a_token_with_a_space_inside_is_presentable() -> None:
    assert EmulatorConfig(admin_token="two words").admin_token == "two words"


@pytest.mark.parametrize(
    "url", ["http://localhost:9000", "https://emulator.example/", "http://[::1]:8000"]
)
def test_a_public_url_is_an_origin(url: str) -> None:
    assert EmulatorConfig(public_url=url).public_url == url


@pytest.mark.parametrize(
    "url",
    [
        "notaurl",
        "localhost:8000",
        "ftp://host",
        "http://",
        "http://host/wavespeed",
        "http://host:99999",
        "http://host:port",
        "http://user@host",
        "http://host?x=1",
        "",
    ],
)
def test_a_public_url_that_is_no_origin_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="^public_url must be http\\(s\\)://host\\[:port\\]"):
        EmulatorConfig(public_url=url)


def test_the_environment_is_text_read_as_each_setting_type() -> None:
    config = EmulatorConfig().with_environment(
        {
            "PROVIDER_EMULATOR_VALIDATE_ON_SUBMIT": "0",
            "PROVIDER_EMULATOR_CURATED_ONLY": "true",
            "PROVIDER_EMULATOR_SEED": "12",
            "PROVIDER_EMULATOR_RETENTION": "2.5",
            "PROVIDER_EMULATOR_API_KEYS": "a, b",
            "PROVIDER_EMULATOR_CONTRACTS": os.pathsep.join(["one", "two"]),
            "PROVIDER_EMULATOR_ADMIN_TOKEN": "",  # empty: unset
        }
    )
    assert (config.validate_on_submit, config.curated_only) == (False, True)
    assert (config.seed, config.retention, config.api_keys) == (12, 2.5, {"a", "b"})
    assert config.contracts[-2:] == (Path("one"), Path("two")) and config.admin_token is None


@pytest.mark.parametrize(
    ("variable", "text", "error"),
    [
        ("VALIDATE_ON_SUBMIT", "maybe", "must be true or false, not 'maybe'"),
        ("SEED", "1.5", "must be an integer, not '1.5'"),
        ("RETENTION", "soon", "must be a number, not 'soon'"),
        ("API_KEYS", ",", "must not be an empty key"),
        ("PUBLIC_URL", "notaurl", "must be http(s)://host[:port]"),
        ("CONTRACTS", os.pathsep, "must be a list of paths"),
    ],
)
def test_environment_text_that_is_not_of_the_setting_type_names_the_variable(
    variable: str, text: str, error: str
) -> None:
    name = f"PROVIDER_EMULATOR_{variable}"
    with pytest.raises(ValueError, match=f"^{name} {re.escape(error)}"):
        EmulatorConfig().with_environment({name: text})


def test_python_callers_may_write_values_as_python_writes_them() -> None:
    """A set or list for a frozenset or tuple, text for a path or a progression."""
    config = EmulatorConfig(
        api_keys={"a", "b"}, storage_dir="uploads", contracts=["mine"], progression="polls:1,2"
    )
    assert config.api_keys == frozenset({"a", "b"}) and config.storage_dir == Path("uploads")
    assert config.contracts == (Path("mine"),) and config.progression.mode == "polls"
    with pytest.raises(ValueError, match="api_keys must be a list of strings"):
        EmulatorConfig(api_keys=[1])


@pytest.mark.parametrize("origins", ["localhost:5173", "http://a.test/app", "*, http://a.test"])
def test_cors_origins_are_web_origins(origins: str) -> None:
    with pytest.raises(ValueError, match="cors_origins must be http"):
        EmulatorConfig(cors_origins=origins)
    for fine in ("*", "", "http://a.test, https://b.test:8443"):
        assert EmulatorConfig(cors_origins=fine).cors_origins == fine
