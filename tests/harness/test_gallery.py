"""Every property can fail: each deliberately wrong client is flagged by its property."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from emulator import emulate
from emulator.harness import FAILED, HELD, NOT_APPLICABLE, Options, check
from tests.contracts.test_validation import closed_document

from .gallery import GALLERY, CarefulClient, Wrong

ENDPOINT = "fal-ai/bitdance"
# A slow answer past the hasty client's 1 s timeout is all a slow answer needs to be here:
# the default 2.5 s made every run of the careful client wait 3 s more.
FAST = Options(
    max_examples=8, shrink_seconds=2.0, slow_answer=1.5, target="tests.harness.gallery:Wrong"
)
# For "no other property flags it": every property runs, each on its forced scenarios (every
# failure kind, transient error and media fault on the simplest input) and a few draws.
WHOLE_SUITE = replace(FAST, max_examples=3)


# Mistakes whose calls take their time (retrying until stopped, polling until giving up):
# 2 s each, so slow; the slow test_each_mistake_is_flagged_by_no_other_property flags them too.
TAKE_THEIR_TIME = {"retries_forever", "never_cancels"}


@pytest.mark.parametrize(
    "mistake",
    [
        pytest.param(mistake, marks=pytest.mark.slow if mistake in TAKE_THEIR_TIME else ())
        for mistake in sorted(GALLERY)
    ],
)
def test_each_mistake_is_flagged_by_its_property(mistake: str) -> None:
    name = GALLERY[mistake]
    report = check(
        Wrong(mistake), provider="fal", endpoint=ENDPOINT, properties=[name], options=FAST
    )
    outcome = report.outcome(name)
    assert outcome.status == FAILED, report.text()
    assert outcome.replay.startswith("provider-emulator") and outcome.problems
    # a scenario, or (for the multi-call state machine) the steps that failed
    assert outcome.scenario is not None or "the steps:" in outcome.problems


@pytest.mark.slow
def test_the_careful_client_holds_every_property() -> None:
    report = check(CarefulClient(), provider="fal", endpoint=ENDPOINT, options=WHOLE_SUITE)
    assert report.ok, report.text()
    assert report.outcome("webhook_verification").status == NOT_APPLICABLE
    assert {o.status for o in report.outcomes} <= {HELD, NOT_APPLICABLE}


@pytest.mark.slow
@pytest.mark.parametrize("mistake", sorted(GALLERY))
def test_each_mistake_is_flagged_by_no_other_property(mistake: str) -> None:
    report = check(Wrong(mistake), provider="fal", endpoint=ENDPOINT, options=WHOLE_SUITE)
    assert [o.name for o in report.failed] == [GALLERY[mistake]], report.text()


def test_a_contract_that_declares_no_field_is_broken_by_an_undeclared_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "closed.json").write_text(json.dumps(closed_document()))
    with emulate(contracts=[tmp_path]) as emulation:
        report = check(
            CarefulClient(),
            provider="fal",
            endpoint="openrouter/router/openai/v1/embeddings",
            properties=["surfaces_validation_errors"],
            options=FAST,
            emulation=emulation,
        )
    assert report.outcome("surfaces_validation_errors").status == HELD, report.text()
