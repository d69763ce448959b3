"""JavaScript clients under the harness: the real, unmodified @fal-ai/client in a script
that speaks the --command protocol (tests/js/harness_fal.mjs), reaching the harness's
emulation through the Node hook. Slow: a Node start-up and the client's own waits a call."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from emulator.harness import FAILED, CommandClient, Options, Scenario, check

from ..clients.conftest import JS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
]
OPTIONS = Options(max_examples=2)
# keeps_calls_apart's runs of two steps after their two calls at once (not six): each call
# starts Node (0.45 CPU-s here), and calls in flight together, what the property is about,
# are in every run's first step; its six steps are the Python tests' (test_gallery.py).
CALLS_APART = replace(OPTIONS, machine_steps=2)


def fal_script(mode: str) -> CommandClient:
    return CommandClient(["node", "harness_fal.mjs", mode], cwd=JS)


def test_a_careful_javascript_client_holds_the_main_properties() -> None:
    held = ["returns_valid_output", "surfaces_validation_errors", "stops_polling_when_done",
            "polls_politely", "keeps_calls_apart"]  # fmt: skip
    report = check(fal_script("careful"), provider="fal", endpoint="fal-ai/bitdance",
                   properties=held, options=CALLS_APART)  # fmt: skip
    assert report.ok, report.text()


def test_a_javascript_client_that_swallows_errors_is_caught() -> None:
    report = check(fal_script("swallows_errors"), provider="fal", endpoint="fal-ai/bitdance",
                   properties=["surfaces_validation_errors"], options=OPTIONS)  # fmt: skip
    outcome = report.outcome("surfaces_validation_errors")
    assert outcome.status == FAILED
    assert outcome.problems == ["returned a success for an input the provider rejects"]
    assert outcome.replay.startswith(
        "provider-emulator conformance '--command=node harness_fal.mjs swallows_errors'"
    )


def test_the_lost_submit_answer_makes_fals_javascript_client_submit_twice() -> None:
    # As fal_client in Python: @fal-ai/client retries a submit whose connection dropped
    # (docs/harness.md). The guard's lost answer reaches a command client as it reaches an
    # in-process one.
    report = check(fal_script("careful"), provider="fal", endpoint="fal-ai/bitdance",
                   properties=["no_duplicate_jobs"], options=OPTIONS)  # fmt: skip
    assert report.outcome("no_duplicate_jobs").problems == ["one call created 2 billable jobs"]


def docs_example(folder: Path) -> CommandClient:
    """docs/harness.md's ``client.mjs``, exactly as the page gives it, in ``folder`` beside
    the tests' npm clients."""
    page = (Path(__file__).parents[2] / "docs" / "harness.md").read_text()
    blocks = re.findall(r"^```javascript\n(.*?)^```", page, flags=re.M | re.S)
    (script,) = [block for block in blocks if block.startswith("// client.mjs")]
    (folder / "client.mjs").write_text(script)
    (folder / "node_modules").symlink_to(JS / "node_modules")
    return CommandClient("node client.mjs", cwd=folder)


def test_the_docs_example_client_surfaces_failures_and_field_errors(tmp_path: Path) -> None:
    # A newcomer's copy failed both, by default (an audit): @fal-ai/client retries a 504
    # result for 7 s, past the 5 s limit, and the example printed only error.message.
    client = docs_example(tmp_path)
    timed_out = {"effect": "fail", "error_type": "request_timeout"}
    replay = Scenario("surfaces_job_failure", {"prompt": ""}, faults=(timed_out,))
    failure = check(client, provider="fal", endpoint="fal-ai/bitdance",
                    properties=["surfaces_job_failure"], replay=replay)  # fmt: skip
    assert failure.ok, failure.text()
    invalid = check(client, provider="fal", endpoint="fal-ai/bitdance",
                    properties=["surfaces_validation_errors"], options=OPTIONS)  # fmt: skip
    assert invalid.ok, invalid.text()
