"""The servers the benchmark starts serve as its figures say they do."""

from __future__ import annotations

import subprocess
import urllib.request

from tests.benchmarks.suite.servers import emulator_command, free_port, wait_for
from tests.bounded import stop_process


def test_the_access_log_server_writes_a_line_per_request() -> None:
    # it ran at `--log-level warning`, which drops access lines: its figure, the access
    # log's cost, was that of a log writing nothing
    port = free_port()
    served = subprocess.Popen(
        emulator_command(port, "--access-log"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/_emulator/health")
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health?seen=1", timeout=10)
    finally:
        stop_process(served, 10)
    assert served.stdout is not None
    assert b'"GET /_emulator/health?seen=1 HTTP/1.1" 200' in served.stdout.read()
