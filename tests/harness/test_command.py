"""A command as the client under test (emulator/harness/command.py): the protocol, its
bounds, and the harness's guard over what the command sends (a stdlib Python command
here, which starts in milliseconds; the npm clients are tests/harness/test_js_clients.py)."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from emulator.clients import FAKE_CREDENTIALS
from emulator.harness import ClientRanAway, CommandClient, CommandFailed, Limits, Scenario
from emulator.harness.guard import STILL_CALLING
from emulator.harness.relay import NotInTheHarness
from emulator.harness.session import Session
from emulator.node import HOOK

SCRIPT = Path(__file__).with_name("command_client.py")
PROMPT = {"prompt": "a cat"}


def command(mode: str, *args: str, timeout: float = 5) -> CommandClient:
    return CommandClient([sys.executable, "-S", str(SCRIPT), mode, *args], timeout=timeout)


def test_the_command_reads_the_call_and_gets_the_harness_environment(monkeypatch) -> None:
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=512")
    monkeypatch.setenv("FAL_KEY", "a-real-key-stays-out")
    monkeypatch.setenv("PROVIDER_EMULATOR_UNMATCHED", "pass")  # no request leaves the machine
    given = command("echo")("fal-ai/bitdance", PROMPT)
    assert (given["endpoint"], given["arguments"]) == ("fal-ai/bitdance", PROMPT)
    environment = given["environment"]
    assert environment["PROVIDER_EMULATOR_URL"].startswith("http://127.0.0.1:")
    assert environment["NODE_OPTIONS"] == f'--max-old-space-size=512 --import="{HOOK}"'
    assert environment["FAL_KEY"] == FAKE_CREDENTIALS["FAL_KEY"]
    assert environment["WAVESPEED_API_KEY"] == FAKE_CREDENTIALS["WAVESPEED_API_KEY"]
    assert environment["PROVIDER_EMULATOR_UNMATCHED"] == "fail"


def test_a_failure_is_what_the_command_wrote_to_stderr() -> None:
    with pytest.raises(CommandFailed, match="^a warning first\nthe cause$"):
        command("fails")("fal-ai/bitdance", PROMPT)


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_an_uncaught_error_in_node_is_told_by_its_own_line_first(tmp_path: Path) -> None:
    # Node ends an uncaught error with its version: "CommandFailed: Node.js v20.20.2" was
    # all a newcomer's script (no try/catch) was told with
    script = tmp_path / "throws.mjs"
    script.write_text('throw Object.assign(new TypeError("no field x"), {body: {loc: ["x"]}});')
    with pytest.raises(CommandFailed) as failed:
        CommandClient(["node", str(script)], timeout=30)("fal-ai/bitdance", PROMPT)
    message = str(failed.value)
    assert message.startswith("TypeError: no field x\n") and "Node.js v" not in message
    assert "loc: [ 'x' ]" in message  # the rest of what it wrote: the error's fields too


def test_an_exit_0_without_json_is_a_failure() -> None:
    with pytest.raises(CommandFailed, match="printed no JSON on stdout: 'done, but no JSON"):
        command("silent")("fal-ai/bitdance", PROMPT)


@pytest.mark.slow  # waits out the command's timeout: 2 s
def test_a_command_running_past_its_timeout_is_killed_with_its_children(tmp_path) -> None:
    # 2 s to start its child and say so: 0.5 s was too few for a loaded CI machine, where
    # the command was killed before it had written its child's pid
    pid_file = tmp_path / "child"
    began = time.monotonic()
    with pytest.raises(ClientRanAway, match=f"{STILL_CALLING} 2 s"):
        command("hangs", str(pid_file), timeout=2.0)("fal-ai/bitdance", PROMPT)
    assert time.monotonic() - began < 6.5
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(child)


def test_a_grandchild_that_escapes_the_group_cannot_hold_the_call(tmp_path, monkeypatch) -> None:
    # a grandchild in its own session survives the kill and keeps stdout open: the pipes
    # are given up, the command reaped, and the call still ran away
    monkeypatch.setattr("emulator.harness.command._AFTER_KILL_SECONDS", 0.2)
    pid_file = tmp_path / "child"
    try:
        with pytest.raises(ClientRanAway, match=f"{STILL_CALLING} 0.5 s"):
            command("escapes", str(pid_file), timeout=0.5)("fal-ai/bitdance", PROMPT)
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_without_a_timeout_a_command_gets_its_calls_time_limit(tmp_path) -> None:
    # the harness's limit, and the busy-machine recheck's longer one (it had 5 s whatever)
    client = CommandClient([sys.executable, "-S", str(SCRIPT), "hangs", str(tmp_path / "c")])
    hangs = Scenario("returns_valid_output", PROMPT)
    with Session(client, "fal", "fal-ai/bitdance", limits=Limits(call_timeout=0.3)) as session:
        assert session.run(hangs).ran_away == f"{STILL_CALLING} 0.3 s (killed)"
        assert session.run(hangs, patience=2).ran_away == f"{STILL_CALLING} 0.6 s (killed)"


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet reaped by init, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_its_requests_are_answered_by_the_emulation_through_the_guard() -> None:
    with Session(command("fal"), "fal", "fal-ai/bitdance") as session:
        seen = session.run(Scenario("returns_valid_output", PROMPT))
        assert seen.succeeded, seen.error
        [job_id] = seen.job_ids
        assert seen.output == seen.references[job_id]
        assert [what.kind for _, what in seen.requests] == ["submit", "poll", "result"]
    # the guard's own bounds: the third request is one too many
    limited = Session(command("fal"), "fal", "fal-ai/bitdance", limits=Limits(max_requests=2))
    with limited:
        stopped = limited.run(Scenario("returns_valid_output", PROMPT))
    assert stopped.ran_away == "more than 2 requests in one call"


def test_a_lost_answer_and_a_staged_fault_reach_the_command() -> None:
    with Session(command("fal"), "fal", "fal-ai/bitdance") as session:
        lost = session.run(Scenario("no_duplicate_jobs", PROMPT, lose_submit_answer=True))
        assert isinstance(lost.error, CommandFailed) and "Remote end closed" in str(lost.error)
        assert len(lost.job_ids) == 1  # the job was made; its answer never came
        refused = {"effect": "http_error", "status": 503, "method": "POST", "times": 1}
        faulted = session.run(Scenario("retries_transient_errors", PROMPT, faults=(refused,)))
        assert isinstance(faulted.error, CommandFailed) and "503" in str(faulted.error)


def test_outside_the_harness_nothing_answers_and_the_call_says_so() -> None:
    with pytest.raises(NotInTheHarness, match="call it inside check"):
        command("fal")("fal-ai/bitdance", PROMPT)


@pytest.mark.parametrize(
    ("line", "says"),
    [("", "the command is empty"), ("no-such-program-here x", "no program 'no-such-program-here'"),
     ("node 'client.mjs", "No closing quotation")],
)  # fmt: skip
def test_a_command_that_cannot_run_is_refused_at_once(line: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        CommandClient(line)


def test_a_program_named_by_its_path_must_be_there_and_executable(tmp_path: Path) -> None:
    # each call would fail with FileNotFoundError, under every property
    with pytest.raises(ValueError, match="no program './missing.sh'"):
        CommandClient("./missing.sh")
    script = tmp_path / "client.sh"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(ValueError, match="is not executable"):
        CommandClient([str(script)])
    script.chmod(0o755)
    assert CommandClient("./client.sh", cwd=tmp_path).words == ["./client.sh"]
    with pytest.raises(ValueError, match="no program './client.sh'"):
        CommandClient("./client.sh", cwd=tmp_path / "elsewhere")  # relative to its cwd


def test_a_command_names_itself_in_replay_lines() -> None:
    assert CommandClient("node 'my client.mjs' --fast").target == (
        "--command=node 'my client.mjs' --fast"
    )
