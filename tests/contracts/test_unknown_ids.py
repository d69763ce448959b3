"""The advice on a model id no contract knows: once per id, for a bounded number of ids."""

from __future__ import annotations

import logging

import pytest

from emulator.contracts.unknown_ids import ADVISED, UnknownIds


def test_each_unknown_id_is_advised_of_once_naming_what_answers_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unknown = UnknownIds()
    with caplog.at_level(logging.WARNING, logger="emulator"):
        for _ in range(3):
            unknown.note("wavespeed", "google/nano-banana/text-to-image")
        unknown.note("fal", "google/nano-banana/text-to-image")
        unknown.note("wavespeed", "a b/c")  # no model's id: mistyped, not missing
        unknown.note("fal", "fal-ai/x/requests/abc/status")
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2
    assert "wavespeed model 'google/nano-banana/text-to-image'" in lines[0]
    assert "--unknown-endpoints generic" in lines[0] and "docs/contracts.md" in lines[0]


def test_a_client_trying_ids_in_a_loop_fills_no_log(caplog: pytest.LogCaptureFixture) -> None:
    unknown = UnknownIds()
    with caplog.at_level(logging.WARNING, logger="emulator"):
        for index in range(3 * ADVISED):
            unknown.note("fal", f"acme/model-{index}")
    assert len(caplog.records) == ADVISED + 1
    assert "not advised of one by one" in caplog.records[-1].getMessage()
