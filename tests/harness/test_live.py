"""Live mode, tested offline: a second emulator stands in as the real provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator import EmulatorConfig, Progression
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.harness.calls import Step, retry_wait
from emulator.harness.live import (
    Inconclusive,
    LiveError,
    LiveSession,
    LiveSessions,
    SpendCapExceeded,
    live_problem,
)
from emulator.harness.pricing import cheapest, estimate, price_of, smallest_arguments
from emulator.http.upstream import UpstreamError, Upstreams
from emulator.providers.registry import CANONICAL_HOSTS
from emulator.server import BackgroundServer

CONTRACTS = load_contracts([DEFAULT_CONTRACTS_DIR])
KEYS = {"FAL_KEY": "upstream-fal", "WAVESPEED_API_KEY": "upstream-wavespeed"}


@pytest.fixture(scope="module")
def upstream() -> Iterator[BackgroundServer]:
    config = EmulatorConfig(
        seed=3, progression=Progression.parse("polls:1,1"), api_keys=frozenset(KEYS.values())
    )
    with BackgroundServer(config) as server:
        yield server


def _session(
    server: BackgroundServer, provider: str, cap: float = 0.10, **keys: str
) -> LiveSession:
    return LiveSession(
        provider,
        upstreams=Upstreams.parse(CANONICAL_HOSTS, [server.url]),
        max_spend=cap,
        contracts=CONTRACTS,
        environ={**KEYS, **keys},
        timeout=20,
        poll_interval=0.01,
    )


def test_without_opt_in_or_key_live_runs_are_skipped_with_a_reason() -> None:
    assert "pass --live" in live_problem("fal", False, KEYS)
    assert "FAL_KEY is not set" in live_problem("fal", True, {})
    assert live_problem("wavespeed", True, KEYS) is None
    with pytest.raises(LiveError, match="pass --live"):
        LiveSessions(live=False, environ=KEYS).session("fal")


def test_an_unknown_provider_is_named_with_the_providers() -> None:
    # it was a bare KeyError: 'fall', from skip_reason and session alike
    sessions = LiveSessions(live=True, max_spend=0.1, upstream=[], environ=KEYS)
    for asked in (sessions.skip_reason, sessions.session):
        with pytest.raises(ValueError, match="unknown provider 'fall': one of fal, wavespeed"):
            asked("fall")
    sessions.close()


def test_a_blank_key_is_no_key() -> None:
    # a key of spaces sent a live run to the network, to be rejected there (a harness audit)
    blank = {**KEYS, "WAVESPEED_API_KEY": " \t"}
    assert "WAVESPEED_API_KEY is not set" in live_problem("wavespeed", True, blank)
    with pytest.raises(LiveError, match="WAVESPEED_API_KEY is not set"):
        LiveSessions(live=True, environ=blank).session("wavespeed")
    with pytest.raises(LiveError, match="WAVESPEED_API_KEY is not set"):
        LiveSession("wavespeed", environ=blank)


@pytest.mark.parametrize("cap", [0, -1.0, float("nan")])
def test_a_cap_of_zero_is_refused(cap: float) -> None:
    with pytest.raises(LiveError, match="more than 0 USD"):
        LiveSession("fal", max_spend=cap, environ=KEYS)


def test_an_infinite_cap_is_no_cap() -> None:
    with pytest.raises(LiveError, match="a finite amount of USD"):
        LiveSessions(live=True, max_spend=float("inf"), environ=KEYS)
    with pytest.raises(LiveError, match="a finite amount of USD"):
        LiveSession("fal", max_spend=float("inf"), environ=KEYS)


def test_a_fal_call_runs_through_the_queue_and_is_charged(upstream: BackgroundServer) -> None:
    with _session(upstream, "fal") as session:
        arguments = smallest_arguments(CONTRACTS.get("fal", "fal-ai/bitdance"))
        exchange = session.run("fal-ai/bitdance", arguments)
        assert exchange.statuses()[0] == "IN_QUEUE" and exchange.statuses()[-1] == "COMPLETED"
        assert exchange.steps[-1].status == 200 and exchange.steps[-1].body["images"]
        assert "x-fal-request-id" in exchange.steps[-1].headers
        assert session.ledger().spent == 0.01  # the contract's published $0.01 per image


def test_a_wavespeed_call_polls_until_completed(upstream: BackgroundServer) -> None:
    with _session(upstream, "wavespeed") as session:
        model = "wavespeed-ai/bitdance-14b/text-to-image"
        exchange = session.run(model, smallest_arguments(CONTRACTS.get("wavespeed", model)))
        assert exchange.statuses()[-1] == "completed"


def test_a_call_that_could_cross_the_cap_is_refused_before_it_is_made(
    upstream: BackgroundServer,
) -> None:
    with _session(upstream, "fal", cap=0.03) as session:
        session.run("fal-ai/bitdance", {"prompt": "a", "num_images": 2})
        before = len(upstream.engine.record)
        with pytest.raises(SpendCapExceeded, match=r"refused: fal-ai/bitdance .* \$0\.0200"):
            session.run("fal-ai/bitdance", {"prompt": "a", "num_images": 2})
        assert len(upstream.engine.record) == before  # nothing reached the provider
        ledger = session.ledger()
        assert (ledger.spent, ledger.refused) == (0.02, 1)
        assert "1 calls, estimated $0.0200 of a $0.03 cap (1 refused)" in str(ledger)


def test_authorize_then_run_books_the_call_once(upstream: BackgroundServer) -> None:
    # docs/live.md's snippet: authorize (a question), then run (books it and makes it)
    with _session(upstream, "fal", cap=0.015) as session:
        jobs = len(upstream.engine.jobs)
        assert session.authorize("fal-ai/bitdance", {"prompt": "a cat"}) == 0.01
        assert session.authorize("fal-ai/bitdance", {"prompt": "a cat"}) == 0.01
        assert session.ledger().entries == []
        session.run("fal-ai/bitdance", {"prompt": "a cat"})
        assert len(upstream.engine.jobs) == jobs + 1
        ledger = session.ledger()
        assert (len(ledger.entries), ledger.spent, ledger.refused) == (1, 0.01, 0)
        assert "1 calls, estimated $0.0100 of a $0.015 cap (0 refused)" in str(ledger)
        with pytest.raises(SpendCapExceeded):  # the next one no longer fits: said, not booked
            session.authorize("fal-ai/bitdance", {"prompt": "a cat"})
        assert len(session.ledger().entries) == 1


@pytest.fixture
def busy() -> Iterator[BackgroundServer]:
    """A stand-in provider of its own, for a test to stage faults on."""
    config = EmulatorConfig(seed=3, progression=Progression.parse("polls:1,1"))
    with BackgroundServer(config) as server:
        yield server


def test_a_submit_refused_for_a_moment_is_made_again_and_billed_once(
    busy: BackgroundServer,
) -> None:
    # a 429 was the live provider's answer, and booked at $0.01 (a harness audit); a cap
    # of one call still allows the retry: the refused submit was billed nothing
    busy.engine.faults.add(
        {"effect": "http_error", "status": 429, "retry_after": 0, "times": 1, "method": "POST"}
    )
    with _session(busy, "fal", cap=0.015) as session:
        exchange = session.run("fal-ai/bitdance", {"prompt": "a cat"})
        assert exchange.steps[0].status == 200 and exchange.statuses()[-1] == "COMPLETED"
        entries = session.ledger().entries
    assert [(e.allowed, e.unbilled) for e in entries] == [
        (True, "fal answered 429"),
        (True, ""),
    ]
    assert (session.ledger().spent, len(busy.engine.jobs)) == (0.01, 1)


def test_a_submit_refused_for_good_is_released_from_the_ledger(busy: BackgroundServer) -> None:
    with _session(busy, "wavespeed") as session:
        model = "wavespeed-ai/bitdance-14b/text-to-image"
        exchange = session.run(model, {"prompt": "a cat", "size": "1*1"})  # made no job
        assert [step.status for step in exchange.steps] == [400]
        assert session.ledger().spent == 0
        assert session.ledger().entries[0].unbilled == "wavespeed answered 400"


@pytest.mark.parametrize("refusal", [401, 403])
def test_a_submit_whose_key_is_refused_is_released_and_said_so(
    busy: BackgroundServer, refusal: int
) -> None:
    # a 401 or 403 made no job, and stayed booked against the cap (a harness review)
    busy.engine.faults.add({"effect": "http_error", "status": refusal, "method": "POST"})
    with _session(busy, "fal", cap=0.015) as session:
        with pytest.raises(LiveError, match=rf"^fal rejected FAL_KEY \({refusal}\)$"):
            session.run("fal-ai/bitdance", {"prompt": "a cat"})
        ledger = session.ledger()
    assert [(e.allowed, e.unbilled) for e in ledger.entries] == [
        (True, f"fal rejected FAL_KEY ({refusal})")
    ]
    assert (ledger.spent, len(busy.engine.jobs)) == (0, 0)
    assert ledger.fits(0.01)  # the cap of one call still allows it
    assert f"  not billed: fal rejected FAL_KEY ({refusal})\n" in str(ledger)


def test_a_poll_whose_key_is_refused_stays_billed(busy: BackgroundServer) -> None:
    busy.engine.faults.add({"effect": "http_error", "status": 401, "path": "*/status"})
    with _session(busy, "fal") as session:
        with pytest.raises(LiveError, match=r"fal rejected FAL_KEY \(401\)"):
            session.run("fal-ai/bitdance", {"prompt": "a cat"})
        assert session.ledger().spent == 0.01  # the job was made


def test_a_provider_still_busy_after_the_retries_is_inconclusive(busy: BackgroundServer) -> None:
    busy.engine.faults.add(
        {"effect": "http_error", "status": 503, "retry_after": 0, "method": "POST"}
    )
    with _session(busy, "wavespeed") as session:
        model = "wavespeed-ai/bitdance-14b/text-to-image"
        said = rf"wavespeed answered 503 to the submit of {model} \(4 times, Retry-After: 0\)"
        said += ": inconclusive"
        with pytest.raises(Inconclusive, match=said + r", nothing recorded \(not billed\)"):
            session.run(model, {"prompt": "a cat"})
        assert session.ledger().spent == 0 and len(session.ledger().entries) == 4


def test_a_poll_still_refused_after_the_retries_is_inconclusive_and_billed(
    busy: BackgroundServer,
) -> None:
    busy.engine.faults.add(
        {"effect": "http_error", "status": 429, "retry_after": 0, "path": "*/status"}
    )
    with _session(busy, "fal") as session:
        said = r"fal answered 429 to a poll of its fal-ai/bitdance job \(Retry-After: 0\): "
        with pytest.raises(Inconclusive, match=said + r".* \(billed: the job was made\)"):
            session.run("fal-ai/bitdance", {"prompt": "a cat"})
        assert session.ledger().spent == 0.01
    polls = [r for r in busy.engine.record if r.path.endswith("/status")]
    assert [r.status for r in polls] == [429] * 4  # a poll, and 3 more


def test_a_key_the_provider_rejects_is_one_clear_error(upstream: BackgroundServer) -> None:
    with _session(upstream, "fal", FAL_KEY="wrong") as session:
        with pytest.raises(LiveError, match=r"fal rejected FAL_KEY \(401\)"):
            session.verify_key()
        assert session.ledger().entries == []


def test_the_shared_ledger_caps_every_provider_together(upstream: BackgroundServer) -> None:
    sessions = LiveSessions(live=True, max_spend=0.015, upstream=[upstream.url], environ=KEYS)
    sessions.session("fal").run("fal-ai/bitdance", {"prompt": "a"})
    with pytest.raises(SpendCapExceeded):
        sessions.session("wavespeed").authorize(
            "wavespeed-ai/bitdance-14b/text-to-image", {"prompt": "a"}
        )
    sessions.close()


def test_a_rejected_key_is_probed_once_a_run(upstream: BackgroundServer) -> None:
    # every live test of the provider probed the key again, each failing on its own
    sessions = LiveSessions(live=True, upstream=[upstream.url], environ={**KEYS, "FAL_KEY": "x"})
    probes = len(upstream.engine.record)
    for _ in range(3):
        with pytest.raises(LiveError, match=r"fal rejected FAL_KEY \(401\)"):
            sessions.session("fal")
    assert len(upstream.engine.record) == probes + 1
    sessions.close()


def test_prices_come_from_the_contract_else_a_conservative_default() -> None:
    bitdance = CONTRACTS.get("fal", "fal-ai/bitdance")
    seedance = CONTRACTS.get("fal", "fal-ai/bytedance/seedance/v1/pro/fast/image-to-video")
    assert (price_of(bitdance).usd, price_of(bitdance).per) == (0.01, "image")
    assert estimate(bitdance, {"prompt": "a", "num_images": 3}) == 0.03
    assert estimate(seedance, {"prompt": "a", "image_url": "u"}) == 1.0  # 5 s default
    assert estimate(seedance, {"prompt": "a", "image_url": "u", "num_frames": 49}) == 0.6


def test_the_cheapest_endpoint_and_the_smallest_sizes_are_preferred() -> None:
    assert cheapest(CONTRACTS.of("fal")).id == "fal-ai/bitdance"
    seedream = smallest_arguments(
        CONTRACTS.get("fal", "fal-ai/bytedance/seedream/v4/text-to-image")
    )
    assert seedream["image_size"] == {"width": 960, "height": 960}
    seedance = smallest_arguments(
        CONTRACTS.get("fal", "fal-ai/bytedance/seedance/v1/pro/fast/image-to-video")
    )
    assert (seedance["duration"], seedance["resolution"]) == ("2", "480p")
    assert smallest_arguments(CONTRACTS.get("wavespeed", "bytedance/seedream-v4"))["size"] == (
        "1024*1024"
    )


def test_upstream_overrides_are_checked() -> None:
    upstreams = Upstreams.parse(CANONICAL_HOSTS, ["fal=http://127.0.0.1:9"])
    assert upstreams.base("fal/queue") == "http://127.0.0.1:9/fal/queue"
    assert upstreams.base("wavespeed") == "https://api.wavespeed.ai"
    env = Upstreams.parse(CANONICAL_HOSTS, environ={"PROVIDER_EMULATOR_UPSTREAM": "http://h:1"})
    assert env.base("wavespeed") == "http://h:1/wavespeed"
    for bad in ("ftp://x", "nobody=http://x", "fal=x"):
        with pytest.raises(UpstreamError):
            Upstreams.parse(CANONICAL_HOSTS, [bad])


def test_an_estimate_counts_outputs_and_seconds_under_any_of_their_names() -> None:
    # fashn's num_samples was not counted, so a cap authorised four images as one; frames
    # were always read at 24 a second (an audit)
    from emulator import EmulatorConfig
    from emulator.contracts.served import served_contracts

    catalogue = served_contracts(EmulatorConfig())
    fashn = catalogue.get("fal", "fal-ai/fashn/tryon/v1.5")
    inputs = {"model_image": "u", "garment_image": "u"}
    assert estimate(fashn, {**inputs, "num_samples": 4}) == 4 * estimate(fashn, inputs)
    animatediff = catalogue.get("fal", "fal-ai/fast-animatediff/text-to-video")
    at_8 = estimate(animatediff, {"prompt": "a", "num_frames": 32, "fps": 8})
    assert at_8 == 2 * estimate(animatediff, {"prompt": "a", "num_frames": 32, "fps": 16}) > 0


@pytest.mark.parametrize(
    ("status", "retry_after", "attempt", "wait"),
    [
        (429, "2", 0, 2.0),
        (503, None, 0, 1.0),  # no Retry-After: 1, 2, 4 s
        (502, None, 2, 4.0),
        (504, "Wed, 21 Oct 2026 07:28:00 GMT", 1, 2.0),  # a date: as if there were none
        (429, "3600", 0, None),  # longer than a live run waits: given up at once
        (429, "nan", 0, None),
        (500, "1", 0, None),  # not a transient answer
        (200, None, 0, None),
    ],
)
def test_a_transient_answer_is_waited_out_within_bounds(
    status: int, retry_after: str | None, attempt: int, wait: float | None
) -> None:
    headers = {"retry-after": retry_after} if retry_after else {}
    assert retry_wait(Step("GET", "u", status, headers, None), attempt) == wait
