import pytest
from starlette.types import Scope

from emulator import EmulatorConfig
from emulator.providers.fal.auth import caller
from emulator.providers.fal.errors import FalError


def request(header: str | None) -> Scope:
    headers = [(b"authorization", header.encode())] if header is not None else []
    return {"type": "http", "headers": headers}


@pytest.mark.parametrize(
    ("header", "identity"),
    [
        ("Key abc", "abc"),
        ("Key id:secret", "id:secret"),
        ("Bearer jwt", "jwt"),
        ("key  spaced ", "spaced"),
    ],
)
def test_accepted_forms(header: str, identity: str) -> None:
    assert caller(request(header), EmulatorConfig()) == identity


@pytest.mark.parametrize("header", [None, "", "Key", "Basic x", "abc"])
def test_refused_forms(header: str | None) -> None:
    with pytest.raises(FalError) as refused:
        caller(request(header), EmulatorConfig())
    assert refused.value.status == 401


def test_configured_keys() -> None:
    config = EmulatorConfig(api_keys=frozenset({"good"}))
    assert caller(request("Key good"), config) == "good"
    with pytest.raises(FalError) as refused:
        caller(request("Key bad"), config)
    assert refused.value.body == {"detail": "No user found for Key ID and Secret"}
