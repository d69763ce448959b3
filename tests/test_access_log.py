"""The access log `serve --access-log` writes: uvicorn's lines, made without `logging`,
written in batches of whole lines."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from emulator.access_log import BATCH_BYTES, AccessLog, access_log_for
from tests.benchmarks.suite.servers import free_port, wait_for
from tests.bounded import stop_process

DEVNULL = open(os.devnull, "w")  # noqa: SIM115 (a stream with a descriptor, for the session)
TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"


def _lines_within(descriptor: int, wanted: int, seconds: float) -> list[bytes]:
    """The lines a server writes to ``descriptor`` (non-blocking) within ``seconds``."""
    os.set_blocking(descriptor, False)
    data, deadline = b"", time.monotonic() + seconds
    while data.count(b"\n") < wanted and time.monotonic() < deadline:
        try:
            data += os.read(descriptor, 65536)
        except BlockingIOError:
            time.sleep(0.02)
    return data.splitlines()


def test_serve_writes_uvicorns_lines_soon_masked() -> None:
    port = free_port()
    command = [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--access-log"]
    served = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/_emulator/health")
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/fal/run/fal-ai/bitdance?fal_jwt_token={TOKEN}")
        assert served.stdout is not None
        lines = _lines_within(served.stdout.fileno(), 4, seconds=5)  # while it runs
    finally:
        stop_process(served, 10)
    logged = [line for line in lines if line.startswith(b"INFO:     127.0.0.1:")]
    assert logged[0].endswith(b' - "GET /_emulator/health HTTP/1.1" 200 OK')
    assert b' - "GET /fal/run/fal-ai/bitdance?fal_jwt_token=****' in logged[-1]
    assert logged[-1].endswith(b' HTTP/1.1" 401 Unauthorized')
    assert TOKEN.encode() not in logged[-1]


def test_lines_are_written_in_batches_of_whole_lines() -> None:
    reading, writing = os.pipe()

    async def log_lines() -> None:
        log = AccessLog(writing)
        for number in range(200):  # about 50 bytes each: past a batch
            log.info("", "127.0.0.1:1", "GET", f"/{number}", "1.1", 200)
        log.flush()

    asyncio.run(log_lines())
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        lines = pipe.read().splitlines()
    assert [line.split(b'"')[1] for line in lines] == [
        f"GET /{number} HTTP/1.1".encode() for number in range(200)
    ]


def test_a_long_target_is_cut_so_that_its_line_is_written_whole() -> None:
    # A line past a pipe's atomic write may interleave with another worker's.
    reading, writing = os.pipe()

    async def log_line() -> None:
        log = AccessLog(writing)
        log.info("", "127.0.0.1:1", "GET", "/fal/queue/x?pad=" + "y" * 60_000, "1.1", 200)
        log.flush()

    asyncio.run(log_line())
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        (line,) = pipe.read().splitlines()
    assert len(line) < BATCH_BYTES
    assert line.endswith('… (60,017 characters) HTTP/1.1" 200 OK'.encode())


def test_a_batch_is_written_once_it_is_full_and_the_rest_on_time() -> None:
    writes: list[bytes] = []

    class Counted(AccessLog):
        def _write(self, data: bytes) -> None:
            writes.append(data)

    async def log_lines() -> None:
        log = Counted(-1)
        line = ("", "127.0.0.1:1", "GET", "/", "1.1", 200)
        size = len(b'INFO:     127.0.0.1:1 - "GET / HTTP/1.1" 200 OK\n')
        for _ in range(BATCH_BYTES // size):
            log.info(*line)
        assert writes == []  # under a batch: waiting
        log.info(*line)  # past it: all written, a batch at most at once
        assert len(writes) == 2 and sum(map(len, writes)) == size * (BATCH_BYTES // size + 1)
        assert all(len(batch) <= BATCH_BYTES and batch.endswith(b"\n") for batch in writes)
        log.info(*line)
        await asyncio.sleep(0.3)  # past FLUSH_SECONDS
        assert len(writes) == 3

    asyncio.run(log_lines())


@pytest.fixture
def access_logger() -> Iterator[logging.Logger]:
    """uvicorn's access logger, as a server earlier in the process may have left it."""
    logger = logging.getLogger("uvicorn.access")
    handlers, level, disabled = list(logger.handlers), logger.level, logger.disabled
    logger.disabled = False
    try:
        yield logger
    finally:
        logger.handlers, logger.disabled = handlers, disabled
        logger.setLevel(level)


@pytest.mark.parametrize(
    ("handler", "level", "ours"),
    [
        (logging.StreamHandler(DEVNULL), logging.INFO, True),
        (logging.StreamHandler(DEVNULL), logging.WARNING, False),  # it drops them all
        (logging.NullHandler(), logging.INFO, False),  # a set-up of another kind
    ],
)
def test_it_stands_in_for_uvicorns_only_where_that_writes_to_a_stream(
    access_logger: logging.Logger, handler: logging.Handler, level: int, ours: bool
) -> None:
    access_logger.handlers, access_logger.level = [handler], level
    loop = asyncio.new_event_loop()
    try:
        assert isinstance(access_log_for(loop), AccessLog) is ours
    finally:
        loop.close()
