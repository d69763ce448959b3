"""``provider-emulator conformance``: exit codes, the printed report, the JSON report and
the one-line replay."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.cli import main
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR

BASE = ["conformance", "--provider", "fal", "--endpoint", "fal-ai/bitdance"]
WAVESPEED = "wavespeed-ai/bitdance-14b/text-to-image"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*BASE[:1], *args, *BASE[1:]])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_holding_property_exits_0_and_writes_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    code, out, _ = run(
        capsys,
        "tests.harness.gallery:careful",
        "--property", "returns_valid_output",
        "--max-examples", "3",
        "--report", str(report),
    )  # fmt: skip
    assert code == 0
    assert "returns_valid_output         held" in out
    saved = json.loads(report.read_text())
    assert saved["ok"] and saved["properties"]["returns_valid_output"]["status"] == "held"


def test_a_failure_exits_1_with_a_replay_that_replays_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys,
        "tests.harness.gallery:ignores_retry_after",
        "--property", "retries_transient_errors",
        "--max-examples", "10",
        "--seed", "3",
    )  # fmt: skip
    assert code == 1
    assert "retries_transient_errors     FAILED" in out and "minimal scenario:" in out
    replay = out.split("replay:\n", 1)[1].strip().splitlines()[0]
    words = shlex.split(replay)
    assert words[:2] == ["provider-emulator", "conformance"]
    assert main(words[1:]) == 1
    replayed = capsys.readouterr().out
    assert "[1 run," in replayed and "Retry-After: 1" in replayed


@pytest.mark.slow  # three runs waiting on slow answers: 3 s
def test_a_slow_answer_lasts_as_asked_and_its_replay_keeps_the_settings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The hasty client gives up after 1 s (and returns {}): the default 2.5 s answer finds
    # that, a 0.3 s one does not reach it; a client with a 10 s timeout needs more than the
    # default, and a call's limit past that, for its own timeout to be seen at all.
    hasty = ["tests.harness.gallery:empty_on_timeout", "--property", "survives_slow_answers"]
    assert run(capsys, *hasty, "--slow-answer", "0.3")[0] == 0
    code, out, _ = run(capsys, *hasty, "--slow-answer", "1.5", "--call-timeout", "4")
    assert code == 1 and "after a 1.5 s wait for" in out
    words = shlex.split(out.split("replay:\n", 1)[1].strip().splitlines()[0])
    assert words[-6:-2] == ["--call-timeout", "4.0", "--slow-answer", "1.5"]
    assert json.loads(words[-1])["faults"][0]["seconds"] == 1.5
    assert main(words[1:]) == 1
    assert "after a 1.5 s wait for" in capsys.readouterr().out


def _scenario(**fields: object) -> str:
    return json.dumps({"property": "returns_valid_output", "input": {"prompt": ""}, **fields})


#: a hand-edited fault rule: a lasting 503 at no exchange of the endpoint's
_ELSEWHERE = {"effect": "http_error", "status": 503, "times": 20, "path": "elsewhere/*"}
_NO_OUTAGE = "--replay of gives_up_during_outage must stage one of its outages"
_NO_TRANSIENT = "--replay of retries_transient_errors must stage one transient error"
_NO_SLOW = "--replay of survives_slow_answers must stage one slow answer"
_ELSEWHERE_SAID = "stages a fault at * elsewhere/*, which is none of the call's exchanges (GET"
#: a slow answer at fal's status poll, as its replay lines stage it
_SLOW = {"effect": "delay", "seconds": 2.5, "times": 1, "method": "GET",
         "path": "*/requests/*/status"}  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere:generate"], "cannot import nowhere:generate"),
        (["tests.harness.gallery"], "is not MODULE:CALLABLE"),
        (["tests.harness.gallery:GALLERY"], "is not callable"),
        (["tests.harness.gallery:careful", "--max-examples", "0"], "at least 1"),
        (["tests.harness.gallery:careful", "--replay", "{}"], "not a scenario"),
        (["tests.harness.gallery:careful", "--replay", _scenario(property="nope")],
         "names no property of the harness: 'nope'"),
        (["tests.harness.gallery:careful", "--replay", _scenario(progression="bogus")],
         "cannot read progression 'bogus'"),
        (["tests.harness.gallery:careful", "--replay", _scenario(faults=[{"effect": "zzz"}])],
         "effect: 'zzz' is not one of"),
        (["tests.harness.gallery:careful", "--replay", _scenario(seed="x")],
         "seed must be a whole number"),
        (["tests.harness.gallery:careful", "--replay", _scenario(extra=1)],
         "--replay is not a scenario: unknown field 'extra': a scenario has property, input,"),
        (["tests.harness.gallery:careful", "--replay", _scenario(faults=5)],
         "--replay is not a scenario: faults must be a list of fault rules (JSON objects), "
         "not 5"),
        (["tests.harness.gallery:careful", "--replay", _scenario(lose_submit_answer="yes")],
         "--replay is not a scenario: lose_submit_answer must be true or false, not 'yes'"),
        (["tests.harness.gallery:careful", "--replay", _scenario(broken_field=5)],
         "--replay is not a scenario: broken_field must be a field's name (text) or null, "
         "not 5"),
        (["tests.harness.gallery:careful", "--property", "stops_polling_when_done",
          "--replay", _scenario()], "--replay replays returns_valid_output, but --property"),
        (["tests.harness.gallery:careful", "--replay", _scenario(input="x")],
         "input must be a JSON object, not 'x'"),
        (["tests.harness.gallery:careful", "--replay", _scenario(input={"promptx": 1})],
         "--replay's input is not one fal-ai/bitdance accepts (prompt: Field required)"),
        (["tests.harness.gallery:careful", "--replay",
          _scenario(property="gives_up_during_outage", faults=[])], _NO_OUTAGE),
        (["tests.harness.gallery:careful", "--replay",
          _scenario(property="gives_up_during_outage", faults=[_ELSEWHERE])], _ELSEWHERE_SAID),
        (["tests.harness.gallery:careful", "--replay",
          _scenario(property="retries_transient_errors", faults=[])], _NO_TRANSIENT),
        (["tests.harness.gallery:careful", "--replay",
          _scenario(property="retries_transient_errors", faults=[_ELSEWHERE] * 2)],
         _ELSEWHERE_SAID),
        (["tests.harness.gallery:careful", "--replay",
          _scenario(property="survives_slow_answers", faults=[])], _NO_SLOW),
        (["tests.harness.gallery:careful", "--replay",
          _scenario(property="survives_slow_answers", faults=[_SLOW, _SLOW])], _NO_SLOW),
        (["tests.harness.gallery:careful", "--replay",
          _scenario(property="survives_slow_answers", faults=[{**_SLOW, "seconds": 0}])],
         _NO_SLOW),
        ([], "name the client: MODULE:CALLABLE, or --command 'COMMAND'"),
        # (both said "name the client: …", as if neither was given)
        (["tests.harness.gallery:careful", "--command", "node x.mjs"],
         "MODULE:CALLABLE (tests.harness.gallery:careful) and --command exclude each other"),
        (["--command", "no-such-program-here"], "--command: no program 'no-such-program-here'"),
        (["--command", "node 'x.mjs"], "--command: No closing quotation"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("webhook", [False, True])
@pytest.mark.parametrize("where", ["missing/report.json", "."])
def test_a_report_that_cannot_be_written_is_a_usage_error_before_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str, webhook: bool
) -> None:
    """It ran every property first, then ended in a traceback with exit 1, as a failure
    does, and no report (a review)."""
    report = tmp_path / where
    target = ["tests.harness.test_webhooks:trusting", "--webhook-handler"] if webhook else [
        "tests.harness.gallery:careful", "--endpoint", "fal-ai/bitdance",
        "--property", "returns_valid_output", "--max-examples", "1"]  # fmt: skip
    code = main(["conformance", *target, "--provider", "fal", "--report", str(report)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith(f"provider-emulator conformance: cannot write --report {report}: ")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_replay_written_for_another_provider_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fals = {"effect": "http_error", "status": 503, "times": 2, "method": "POST",
            "path": "fal-ai/bitdance"}  # fmt: skip
    replay = _scenario(property="retries_transient_errors", faults=[fals])
    code = main(["conformance", "tests.harness.gallery:careful", "--provider", "wavespeed",
                 "--endpoint", WAVESPEED, "--replay", replay])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip() == (
        "provider-emulator conformance: --replay of retries_transient_errors stages a fault at "
        "POST fal-ai/bitdance, which is none of the call's exchanges (GET predictions/*, POST "
        f"{WAVESPEED}): was it written for another provider or endpoint than wavespeed's "
        f"{WAVESPEED}?"
    )


def test_a_module_that_fails_as_it_loads_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fails_as_it_loads.py").write_text('raise RuntimeError("no settings file")\n')
    monkeypatch.chdir(tmp_path)  # where `python -m` would find the user's module
    code, out, err = run(capsys, "fails_as_it_loads:generate")
    assert code == 2 and out == ""
    assert err.strip().endswith(
        "cannot import fails_as_it_loads:generate: RuntimeError: no settings file"
    )
    assert "Traceback" not in err


def test_an_unknown_endpoint_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conformance", "tests.harness.gallery:careful", "--provider", "fal",
                 "--endpoint", "fal-ai/nope"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "no fal contract for 'fal-ai/nope'" in err


def test_a_catalogue_endpoint_can_be_checked(capsys: pytest.CaptureFixture[str]) -> None:
    # a drawn input may ask for 16 1024² PNGs, each downloaded: on a machine loaded many
    # times over (a CI run at load 13) that took more than the default 5 s a call
    code = main(["conformance", "tests.harness.gallery:careful", "--provider", "fal",
                 "--endpoint", "fal-ai/flux/dev", "--max-examples", "2",
                 "--property", "returns_valid_output", "--call-timeout", "60"])  # fmt: skip
    assert code == 0 and "returns_valid_output         held" in capsys.readouterr().out


def test_an_unknown_property_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, "tests.harness.gallery:careful", "--property", "is_fast")
    assert exited.value.code == 2 and "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--call-timeout", "-1"),
        ("--call-timeout", "nan"),
        ("--call-timeout", "inf"),
        ("--max-polls-per-second", "0"),
    ],
)
def test_limits_must_be_more_than_zero(
    capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, "tests.harness.gallery:careful", option, value)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert f"argument {option}: must be a finite number more than 0" in err
    assert len(err.strip().splitlines()) == 1


def test_an_endpoint_of_your_own_is_checked_and_replayed_with_its_contracts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the harness knew only the shipped endpoints: an added one was "no fal contract" (an
    # audit), and the replay lines it printed for one failed so
    bitdance = DEFAULT_CONTRACTS_DIR / "fal" / "fal-ai" / "bitdance.json"
    mine = tmp_path / "mine.json"
    mine.write_text(bitdance.read_text().replace("fal-ai/bitdance", "acme/sketch"))
    args = ["conformance", "tests.harness.gallery:ignores_retry_after", "--provider", "fal",
            "--endpoint", "acme/sketch", "--property", "retries_transient_errors",
            "--max-examples", "10", "--seed", "3"]  # fmt: skip
    assert main([*args, "--contracts", str(mine)]) == 1
    replay = capsys.readouterr().out.split("replay:\n", 1)[1].strip().splitlines()[0]
    assert f"--contracts {mine}" in replay and main(shlex.split(replay)[1:]) == 1
    assert "[1 run," in capsys.readouterr().out
    monkeypatch.setenv("PROVIDER_EMULATOR_CONTRACTS", str(mine))  # as `serve` reads it
    assert main([*args, "--max-examples", "1"]) == 1


def test_a_setting_of_the_environment_that_cannot_be_read_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the environment is read as `serve` reads it (for its contracts): a bad value was a
    # traceback
    monkeypatch.setenv("PROVIDER_EMULATOR_MAX_JOBS", "abc")
    code, out, err = run(capsys, "tests.harness.gallery:careful")
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.strip().endswith("PROVIDER_EMULATOR_MAX_JOBS must be an integer, not 'abc'")


def test_a_webhook_handler_is_checked_with_a_line_per_delivery(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "webhooks.json"
    code = main(["conformance", "tests.harness.test_webhooks:trusting", "--provider", "fal",
                 "--webhook-handler", "--report", str(report)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[0].endswith(":trusting, a fal webhook handler, given each kind of delivery:")
    assert [line.split()[:3] for line in lines[1:]] == [
        ["signed", "accepted", "ok"],
        ["forged", "accepted", "FAILED:"],
        ["replayed", "accepted", "FAILED:"],
        ["late", "accepted", "FAILED:"],
        ["impostor", "accepted", "FAILED:"],
        ["compact", "accepted", "ok"],
    ]
    assert "signature was not checked" in lines[2]
    written = json.loads(report.read_text())
    assert [row["ok"] for row in written["verdicts"]] == [True, False, False, False, False, True]


def test_a_verifying_webhook_handler_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conformance", "tests.harness.test_webhooks:verifying_fal_handler",
                 "--provider", "fal", "--webhook-handler", "--key", "k"])  # fmt: skip
    out, _ = capsys.readouterr()
    assert code == 0, out
    assert out.count(" ok\n") == 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--endpoint", "fal-ai/bitdance"], "--endpoint is for checking a generate"),
        (["--property", "returns_valid_output"], "--property is for checking a generate"),
    ],
)
def test_a_webhook_check_refuses_a_generates_options(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = main(["conformance", "tests.harness.test_webhooks:trusting", "--provider", "fal",
                 "--webhook-handler", *args])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and message in err and len(err.splitlines()) == 1


def test_a_generate_needs_an_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conformance", "tests.harness.gallery:careful", "--provider", "fal"])
    _, err = capsys.readouterr()
    assert code == 2 and "--endpoint is required" in err


COMMAND = shlex.join([sys.executable, "-S", str(Path(__file__).with_name("command_client.py"))])


def test_a_command_is_checked_and_its_failure_replays(capsys: pytest.CaptureFixture[str]) -> None:
    holds = ["--property", "returns_valid_output", "--max-examples", "2"]
    code, out, _ = run(capsys, "--command", f"{COMMAND} fal", *holds)
    assert code == 0 and f"--command={COMMAND} fal against fal fal-ai/bitdance:" in out
    assert "returns_valid_output         held" in out
    code, out, _ = run(capsys, "--command", f"{COMMAND} fails", *holds)
    assert code == 1 and "a valid input failed: CommandFailed: a warning first the cause" in out
    replay = shlex.split(out.split("replay:\n", 1)[1].strip().splitlines()[0])
    assert main(replay[1:]) == 1 and "[1 run," in capsys.readouterr().out


def test_the_timing_options_say_what_they_do_and_their_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["conformance", "--help"])
    options = capsys.readouterr().out.partition("options:")[2]
    entries = [entry.split() for entry in options.split("\n  -")[1:]]
    helps = {words[0]: " ".join(words) for words in entries}
    for option, default in [("-call-timeout", "5"), ("-max-polls-per-second", "20"),
                            ("-slow-answer", "2.5")]:  # fmt: skip
        assert helps[option].endswith(f"(default: {default})"), helps[option]


@pytest.mark.slow  # a process of its own, through a property's runs: 6 s
def test_the_command_ends_at_its_verdict_though_the_client_left_a_poller_asleep() -> None:
    """fal_client's pool joins its workers as the process exits, and the poller a sync
    `subscribe` with a `client_timeout` leaves behind sleeps on (fenced off from the
    network): the command went on for as long after its verdict."""
    client = "tests.harness.official:fal_subscribe_polling_hourly"
    words = ["--property", "cancels_abandoned_jobs", "--max-examples", "1"]
    command = [sys.executable, "-m", "emulator", *BASE[:1], client, *words, *BASE[1:]]
    root = Path(__file__).parents[2]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=root)
    assert done.returncode == 0, done.stderr
    assert "cancels_abandoned_jobs       held" in done.stdout
