"""What the servers leave out of uvicorn's log: credentials in request targets, and the
false alarm after a refused WebSocket handshake."""

import logging
from collections.abc import Iterator

import pytest

from emulator.logs import LOGGED_TARGET_CHARS, filter_uvicorn_logs, masked


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def uvicorn_lines() -> Iterator[_Lines]:
    """What uvicorn's loggers pass to their handlers. A handler of their own: a server
    started earlier in the process configured them not to propagate to pytest's."""
    filter_uvicorn_logs()
    filter_uvicorn_logs()  # once however often it is called
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "uvicorn.access")]
    assert [len(logger.filters) for logger in loggers] == [1, 1]
    lines, levels = _Lines(), [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(lines)
        logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(lines)
            logger.setLevel(level)


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


def test_a_long_request_target_is_cut_in_the_log_its_credentials_masked_first(
    uvicorn_lines,
) -> None:
    # A target may run to the head's bound (64 KiB): each such request wrote it whole.
    target = "/fal/run/fal-ai/bitdance?fal_jwt_token=eyJ.secret-part.sig9&pad=" + "x" * 60_000
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", target, "1.1", 200
    )
    (line,) = [record.getMessage() for record in uvicorn_lines.records]
    assert "secret-part" not in line and "fal_jwt_token=****sig9&pad=xxx" in line
    assert f"… ({len(masked(target)):,} characters) HTTP/1.1" in line
    assert len(line) < LOGGED_TARGET_CHARS + 100


def test_a_token_under_an_encoded_name_is_masked() -> None:
    target = "/fal/run/fal-ai/bitdance?fal%5Fjwt%5Ftoken=eyJ.secret-part.sig9"
    assert masked(target) == "/fal/run/fal-ai/bitdance?fal%5Fjwt%5Ftoken=****sig9"
    assert masked("/fal/run/fal-ai/bitdance?logs=1") == "/fal/run/fal-ai/bitdance?logs=1"


def test_a_refused_handshake_is_no_error_in_the_log(uvicorn_lines) -> None:
    errors = logging.getLogger("uvicorn.error")
    errors.info("connection rejected (401 Unauthorized)")
    errors.error("ASGI callable returned without completing handshake.")
    errors.error("Exception in ASGI application\n")  # a real error stays
    assert [r.getMessage() for r in uvicorn_lines.records] == [
        "connection rejected (401 Unauthorized)",
        "Exception in ASGI application\n",
    ]


def test_a_connection_a_fault_rule_dropped_is_no_error_in_the_log(uvicorn_lines) -> None:
    from emulator.http.exchange import ConnectionDropped

    errors = logging.getLogger("uvicorn.error")
    for error in (ConnectionDropped("staged"), RuntimeError("a bug")):
        try:
            raise error
        except Exception:
            errors.exception("Exception in ASGI application\n")
    (kept,) = uvicorn_lines.records
    assert kept.exc_info is not None and isinstance(kept.exc_info[1], RuntimeError)
