"""The probes of a check's properties share their runs."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from emulator.harness import HELD, Options, Scenario, check
from emulator.harness.session import Session

from .gallery import careful


def test_a_scenario_several_properties_probe_is_run_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each property probed the simplest input itself (at once and with a job that takes
    # polls): the same call up to eleven times in a check
    ran: Counter[str] = Counter()
    run = Session.run

    def noted(session: Session, scenario: Scenario, **kwargs: object) -> object:
        ran[replace(scenario, property="").to_json()] += 1
        return run(session, scenario, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Session, "run", noted)
    names = ["tolerates_optional_fields", "surfaces_validation_errors", "gives_up_during_outage"]
    report = check(careful, provider="fal", endpoint="fal-ai/bitdance", properties=names,
                   options=Options(max_examples=1))  # fmt: skip
    assert [outcome.status for outcome in report.outcomes] == [HELD] * 3, report.text()
    polled = Scenario("", {"prompt": ""}, "polls:1,2").to_json()
    assert ran[polled] == 1, ran
    # a property's own examples run afresh, its probes' cases too (each outage: once
    # probed, once judged), as their judges read the emulation their run left
    outages = [scenario for scenario in ran if '"times":20' in scenario]
    assert len(outages) >= 2 and all(ran[outage] == 2 for outage in outages), ran
