"""What the servers leave out of uvicorn's log: credentials in request targets, and the
false alarm after a refused WebSocket handshake."""

import logging

import pytest

from emulator.logs import filter_uvicorn_logs


@pytest.fixture
def uvicorn_lines(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    filter_uvicorn_logs()
    filter_uvicorn_logs()  # once however often it is called
    assert len(logging.getLogger("uvicorn.error").filters) == 1
    caplog.set_level(logging.INFO, logger="uvicorn")
    return caplog


def test_a_client_token_in_a_request_target_is_masked(uvicorn_lines) -> None:
    token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"
    target = f"/fal/run/fal-ai/fast-lcm-diffusion/realtime?max_buffering=5&fal_jwt_token={token}"
    # as uvicorn's WebSocket protocol and its access log write them
    logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" %d', "127.0.0.1:5", target, 101)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "POST", target, "1.1", 200
    )
    lines = [record.getMessage() for record in uvicorn_lines.records]
    assert len(lines) == 2 and not any(token in line for line in lines)
    assert all("max_buffering=5&fal_jwt_token=****" in line for line in lines)


def test_a_refused_handshake_is_no_error_in_the_log(uvicorn_lines) -> None:
    errors = logging.getLogger("uvicorn.error")
    errors.info("connection rejected (401 Unauthorized)")
    errors.error("ASGI callable returned without completing handshake.")
    errors.error("Exception in ASGI application\n")  # a real error stays
    assert [r.getMessage() for r in uvicorn_lines.records] == [
        "connection rejected (401 Unauthorized)",
        "Exception in ASGI application\n",
    ]
