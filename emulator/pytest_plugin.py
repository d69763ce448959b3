"""The pytest plugin: a ``provider_emulator`` fixture, configured by a marker.

    @pytest.mark.provider_emulator(seed=7, progression="polls:1,1")
    def test_polling(provider_emulator):
        fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "a cat"})
        assert provider_emulator.requests.filter(path="/status")

Each test gets its own emulator (jobs, media, record); nothing leaks between tests.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the emulator loads with the first test that uses it, not with every
    # pytest run of a project that has it installed (the harness with the first live test)
    from emulator.emulation import Emulation
    from emulator.harness.ledger import Ledger
    from emulator.harness.live import LiveSessions

__all__ = ["live_sessions", "provider_emulator"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("provider-emulator", "runs against the real providers")
    group.addoption("--live", action="store_true", help="run live tests (needs the API keys)")
    group.addoption("--max-spend", type=float, default=0.10, help="USD cap of a live run")
    group.addoption("--upstream", action="append", default=[], help="[PROVIDER=]URL override")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "provider_emulator(**options): options of the provider_emulator fixture "
        "(seed, progression, api_keys, unmatched, contracts, clock, fake_credentials, "
        "config, record, replay, replay_fallback)",
    )
    max_spend = config.getoption("--max-spend")
    if not max_spend > 0:  # refused once, here, rather than by every live test
        raise pytest.UsageError(f"--max-spend must be more than 0 USD (got {max_spend})")
    if not math.isfinite(max_spend):  # inf: no cap at all
        raise pytest.UsageError(f"--max-spend must be a finite amount of USD (got {max_spend})")
    upstream = config.getoption("--upstream")
    if upstream:  # likewise
        from emulator.http.upstream import UpstreamError, Upstreams
        from emulator.providers.registry import CANONICAL_HOSTS

        try:
            Upstreams.parse(CANONICAL_HOSTS, upstream)
        except UpstreamError as error:
            raise pytest.UsageError(f"--upstream: {error}") from None
    if config.getoption("--live"):
        _share_the_ledger(config, max_spend)


#: where the run's ledger is, for pytest-xdist's workers (from their controller)
_LEDGER_INPUT = "provider_emulator_ledger"


def _share_the_ledger(config: pytest.Config, cap: float) -> None:
    """One ledger for the whole run, in a file: the cap is the run's, however many
    processes pytest-xdist runs it in, and the controller prints what they all spent."""
    import tempfile
    from pathlib import Path

    from emulator.harness.ledger import Ledger

    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        path = Path(worker_input[_LEDGER_INPUT])
    else:
        folder = tempfile.TemporaryDirectory(prefix="provider-emulator-ledger-")
        config.add_cleanup(folder.cleanup)
        path = Path(folder.name) / "ledger.jsonl"
    config.stash[_LEDGER] = Ledger(cap=cap, path=path)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """(pytest-xdist, in the controller) Hand each worker the run's ledger."""
    ledger = node.config.stash.get(_LEDGER, None)
    if ledger is not None:
        node.workerinput[_LEDGER_INPUT] = str(ledger.path)


@pytest.fixture
def provider_emulator(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Emulation]:
    """The fal and WaveSpeed APIs answered in-process for the duration of the test. Its
    placeholder keys are set through the test's own ``monkeypatch``, so that they are undone
    in turn with what the test sets itself (else a test's ``setenv("FAL_KEY", …)`` came
    back as the placeholder, for every later test)."""
    from emulator.clients import FAKE_CREDENTIALS
    from emulator.emulation import Emulation, wavespeed_settings

    options = _options(request.node)
    faking = options.pop("fake_credentials", True)
    if faking:
        for name, value in FAKE_CREDENTIALS.items():
            if not os.environ.get(name):
                monkeypatch.setenv(name, value)
    # the SDK's settings are a proxy monkeypatch cannot set: set and put back by hand
    api = wavespeed_settings()
    previous = getattr(api, "api_key", None)
    unset = faking and api is not None and not previous
    if unset:
        setattr(api, "api_key", FAKE_CREDENTIALS["WAVESPEED_API_KEY"])  # noqa: B010
    try:
        try:
            emulation = Emulation(**options, fake_credentials=False)
        except ValueError as error:  # a marker's value refused: one line naming the marker,
            # as an unknown option is, not a traceback through the plugin's internals
            pytest.fail(f"provider_emulator marker: {type(error).__name__}: {error}", pytrace=False)
        with emulation:
            yield emulation
    finally:
        if unset:
            setattr(api, "api_key", previous)  # noqa: B010


@pytest.fixture(autouse=True)
def _marked_tests_are_emulated(request: pytest.FixtureRequest) -> None:
    """A test marked ``provider_emulator`` runs in the emulation whether or not it names
    the fixture: else the marker alone would send its calls to the real APIs."""
    if request.node.get_closest_marker("provider_emulator") is not None:
        request.getfixturevalue("provider_emulator")


def _options(node: pytest.Item) -> dict[str, Any]:
    """The markers' options, a closer marker's over a farther one's (a test's marker keeps
    its class's or module's seed unless it sets one)."""
    options: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers("provider_emulator"))):
        if marker.args:  # ignored, the test would run with other options than it says
            pytest.fail(
                f"provider_emulator takes options by name (seed=7, progression='polls:1,1'), "
                f"not {', '.join(map(repr, marker.args))}",
                pytrace=False,
            )
        unknown = sorted(set(marker.kwargs) - _known_options())
        if unknown:  # else Emulation's TypeError, which names no marker
            pytest.fail(
                f"provider_emulator has no option {', '.join(map(repr, unknown))}; its "
                f"options: {', '.join(sorted(_known_options()))}",
                pytrace=False,
            )
        options.update(marker.kwargs)
    return options


def _known_options() -> set[str]:
    """The options a marker may give: `Emulation`'s."""
    from emulator.emulation import Emulation

    return set(inspect.signature(Emulation).parameters)


@pytest.fixture(scope="session")
def live_sessions(request: pytest.FixtureRequest) -> Iterator[LiveSessions]:
    """`emulator.harness.live.LiveSessions` from --live, --max-spend and --upstream."""
    from emulator.harness.live import LiveSessions

    option = request.config.getoption
    shared = request.config.stash.get(_LEDGER, None)  # with --live only
    sessions = LiveSessions(
        live=option("--live"),
        max_spend=option("--max-spend"),
        upstream=option("--upstream"),
        ledger_path=shared.path if shared is not None else None,
    )
    yield sessions
    sessions.close()


_LEDGER: pytest.StashKey[Ledger] = pytest.StashKey()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    ledger = terminalreporter.config.stash.get(_LEDGER, None)
    if ledger is not None and ledger.entries:
        terminalreporter.write_sep("-", "live spend ledger")
        terminalreporter.write_line(str(ledger))
