import pytest

from emulator.providers.fal.paths import (
    RequestPath,
    alias,
    app_path,
    names_endpoint,
    parse_request_path,
    wants_logs,
)


@pytest.mark.parametrize(
    ("endpoint_id", "expected"),
    [
        ("fal-ai/bitdance", "fal-ai/bitdance"),
        ("fal-ai/bytedance/seedream/v4/text-to-image", "fal-ai/bytedance"),
        ("workflows/acme/flow/x", "workflows/acme/flow"),
        ("123-myapp", "123/myapp"),
    ],
)
def test_app_path_follows_the_clients_rule(endpoint_id: str, expected: str) -> None:
    assert app_path(endpoint_id) == expected


def test_alias() -> None:
    assert alias("fal-ai/flux/dev") == "flux"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("fal-ai/bytedance/requests/r1", RequestPath("fal-ai/bytedance", "r1", "result")),
        ("fal-ai/bytedance/requests/r1/status", RequestPath("fal-ai/bytedance", "r1", "status")),
        ("a/b/c/requests/r1/status/stream", RequestPath("a/b/c", "r1", "stream")),
        ("a/b/requests/r1/cancel/", RequestPath("a/b", "r1", "cancel")),
        ("a/b", None),
        ("a/b/requests/", None),
        ("a/b/requests/r1/other", None),
        ("requests/r1", None),
    ],
)
def test_parse_request_path(path: str, expected: RequestPath | None) -> None:
    assert parse_request_path(path) == expected


def test_a_request_path_names_an_endpoint_by_its_id_or_its_app_path() -> None:
    endpoint = "fal-ai/flux/dev"
    assert names_endpoint("fal-ai/flux/dev", endpoint) and names_endpoint("fal-ai/flux", endpoint)
    assert not names_endpoint("fal-ai/flux-pro", endpoint)
    assert not names_endpoint("fal-ai", endpoint)


@pytest.mark.parametrize(
    ("query", "asked"),
    [
        (b"logs=1", True),
        (b"a=b&logs=TRUE", True),
        (b"logs=0", False),
        (b"", False),
        (b"logs", False),
    ],
)
def test_logs_are_asked_for_by_the_query(query: bytes, asked: bool) -> None:
    assert wants_logs(query) is asked
