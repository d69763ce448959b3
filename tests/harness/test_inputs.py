"""The inputs the harness draws: valid ones the emulator makes an output of, and an input
beyond the emulator's limits never counted against the client."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import UnsatisfiedAssumption

from emulator import EmulatorConfig
from emulator.contracts.served import served_contracts
from emulator.harness import HELD, Options, check
from emulator.harness.context import Context
from emulator.harness.job_checks import judge_output
from emulator.harness.scenario import Scenario
from emulator.harness.session import Observation
from emulator.harness.surfaces import SURFACES

from . import official

FLUX = served_contracts(EmulatorConfig()).get("fal", "fal-ai/flux/dev")
#: valid by fal's catalogue types (sizes are plain numbers), refused by the emulator
BEYOND = {"prompt": "a cat", "image_size": {"width": 512, "height": 0}}
REFUSAL = httpx.HTTPStatusError(
    "422: images of 1 to 16777216 pixels, not 512x0 (emulator_limit)",
    request=httpx.Request("POST", "https://queue.fal.run/fal-ai/flux/dev"),
    response=httpx.Response(422),
)


def _context() -> Context:
    def nothing(url: str) -> httpx.Response:
        raise AssertionError(f"no fetch expected: {url}")

    return Context("fal", FLUX, SURFACES["fal"], nothing)


def _refused(value: dict) -> Observation:
    return Observation(Scenario("returns_valid_output", value), error=REFUSAL)


def test_an_input_beyond_the_emulator_is_no_verdict_on_a_replay() -> None:
    assert FLUX.input_validator.is_valid(BEYOND)
    assert judge_output(_context(), _refused(BEYOND)) == []


def test_a_refusal_the_client_passes_on_is_no_verdict_either() -> None:
    # within the limits the harness knows, refused by the emulator (at render time, or
    # under an emulation's smaller limits): the client passed the emulator_limit on
    assert judge_output(_context(), _refused({"prompt": "a cat"})) == []


def test_a_valid_input_that_fails_otherwise_is_still_the_clients_failure() -> None:
    seen = Observation(Scenario("returns_valid_output", {"prompt": "a cat"}), error=OSError("x"))
    assert judge_output(_context(), seen) == ["a valid input failed: OSError: x"]


def test_a_clients_error_of_many_lines_is_one_line_of_the_report() -> None:
    error = httpx.HTTPStatusError(
        "Client error '404 Not Found' for url 'https://x/status'\n"
        "For more information check: https://developer.mozilla.org/en-US/docs/Web/HTTP/404",
        request=httpx.Request("GET", "https://x/status"),
        response=httpx.Response(404),
    )
    seen = Observation(Scenario("returns_valid_output", {"prompt": "x"}), error=error)
    (problem,) = judge_output(_context(), seen)
    assert "\n" not in problem and problem.endswith("/404")
    long = Observation(seen.scenario, error=OSError("x" * 300))
    (cut,) = judge_output(_context(), long)
    assert cut.endswith("x…") and len(cut) == len("a valid input failed: OSError: ") + 200


@given(st.just(BEYOND))
def test_an_input_beyond_the_emulator_is_discarded_in_a_property_run(value: dict) -> None:
    with pytest.raises(UnsatisfiedAssumption):
        judge_output(_context(), Observation(Scenario("returns_valid_output", value)))


@pytest.mark.slow
def test_a_wavespeed_media_field_not_named_url_gets_a_readable_medium() -> None:
    # kling's input picture is "image": a junk string there failed the official SDK
    report = check(
        official.wavespeed_run,
        provider="wavespeed",
        endpoint="kwaivgi/kling-v2.1-i2v-standard",
        properties=["returns_valid_output"],
        options=Options(max_examples=10),
    )
    assert [o.status for o in report.outcomes] == [HELD], report.text()


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", ["fal-ai/flux/dev", "fal-ai/stable-audio"])
def test_the_official_client_returns_valid_output_on_catalogue_endpoints(endpoint: str) -> None:
    report = check(
        official.fal_subscribe,
        provider="fal",
        endpoint=endpoint,
        properties=["returns_valid_output"],
        options=Options(max_examples=30, seed=1),
    )
    assert [o.status for o in report.outcomes] == [HELD], report.text()
