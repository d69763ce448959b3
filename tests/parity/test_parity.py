"""The parity suite: every snapshot's request replayed against the emulator, offline.

Snapshots under ``fixtures/<provider>/<endpoint>/snapshots/`` come from the providers'
documented examples (``"origin": "docs"``) or from live runs. With ``--live`` (and the
provider's key) each snapshot's request also runs against the real provider, under the
``--max-spend`` cap, and is recorded beside it (``docs-example.json`` as
``docs-example.live.json``). A provider that stays busy or down (429, 502-504) makes the
live test inconclusive: skipped with the reason, nothing recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import EmulatorConfig, Progression
from emulator.harness.live import Inconclusive, LiveError
from emulator.harness.parity import find_snapshots, record_live, replay
from emulator.harness.snapshots import Snapshot, SnapshotError, compare
from emulator.server import BackgroundServer

FIXTURES = Path(__file__).parents[2] / "fixtures"
SNAPSHOTS = find_snapshots(FIXTURES)
#: the requests a live run makes: not the records of earlier live runs
REQUESTS = find_snapshots(FIXTURES, live_records=False)


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    # Every state visited once, as a real job passes through them.
    config = EmulatorConfig(seed=12, progression=Progression.parse("polls:1,1"))
    with BackgroundServer(config) as server:
        yield server.url


def _load(path: Path) -> Snapshot:
    """The snapshot at ``path``; one that no longer parses fails its test with one line."""
    try:
        return Snapshot.load(path)
    except SnapshotError as exc:
        pytest.fail(str(exc), pytrace=False)


def test_there_are_snapshots_for_both_providers() -> None:
    providers = {_load(path).provider for path in SNAPSHOTS}
    assert providers == {"fal", "wavespeed"}


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_the_emulator_matches_the_snapshot(path: Path, emulator_url: str) -> None:
    differences = replay(_load(path), emulator_url)
    assert differences == [], "\n".join(differences)


@pytest.mark.parametrize("path", REQUESTS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_the_live_provider_matches_the_snapshot(path: Path, live_sessions) -> None:
    snapshot = _load(path)
    reason = live_sessions.skip_reason(snapshot.provider)
    if reason:
        pytest.skip(reason)
    try:
        session = live_sessions.session(snapshot.provider)
        live = record_live(session, snapshot)
    except Inconclusive as exc:  # the provider was busy or down: no statement of parity
        pytest.skip(str(exc))
    except LiveError as exc:  # refused by the cap, or a rejected key: never a silent pass
        problem = str(exc)
    else:
        problem = None
    if problem:
        pytest.fail(problem, pytrace=False)
    differences = compare(snapshot, _as_exchange(live), observed_by="live provider")
    assert differences == [], "\n".join(differences)


def _as_exchange(snapshot: Snapshot):
    from emulator.harness.calls import Exchange, Step

    steps = [Step(**step) for step in snapshot.document["exchange"]]
    return Exchange(snapshot.provider, snapshot.endpoint, snapshot.arguments, steps)
