import pytest
from starlette.types import Scope

from emulator import EmulatorConfig
from emulator.providers.wavespeed.auth import caller
from emulator.providers.wavespeed.errors import WaveSpeedError


def request(value: str | None) -> Scope:
    return {
        "type": "http",
        "headers": [(b"authorization", value.encode())] if value is not None else [],
    }


def test_bearer_keys() -> None:
    assert caller(request("Bearer abc"), EmulatorConfig()) == "abc"
    assert caller(request("bearer  abc "), EmulatorConfig()) == "abc"


@pytest.mark.parametrize("value", [None, "", "Bearer", "Key abc", "abc"])
def test_refused(value: str | None) -> None:
    with pytest.raises(WaveSpeedError) as refused:
        caller(request(value), EmulatorConfig())
    assert refused.value.status == 401


def test_configured_keys() -> None:
    with pytest.raises(WaveSpeedError):
        caller(request("Bearer other"), EmulatorConfig(api_keys=frozenset({"mine"})))
