"""A live run recorded as a snapshot, offline: a second emulator is the real provider."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from emulator import EmulatorConfig, Progression
from emulator.harness.calls import Exchange, Step
from emulator.harness.live import LiveSession
from emulator.harness.parity import LIVE_RECORD, canonical, find_snapshots, record_live
from emulator.harness.snapshots import Snapshot, compare
from emulator.http.upstream import Upstreams
from emulator.providers.registry import CANONICAL_HOSTS
from emulator.server import BackgroundServer

DOCS = Path(__file__).parents[2] / "fixtures/fal/fal-ai/bitdance/snapshots/docs-example.json"


def test_a_live_run_is_recorded_and_matches_the_documented_snapshot(tmp_path: Path) -> None:
    snapshots = tmp_path / "fal/fal-ai/bitdance/snapshots"
    snapshots.mkdir(parents=True)
    shutil.copy(DOCS, snapshots / DOCS.name)
    documented = Snapshot.load(snapshots / DOCS.name)
    config = EmulatorConfig(seed=30, progression=Progression.parse("polls:2,2"))
    with BackgroundServer(config) as real:
        upstreams = Upstreams.parse(CANONICAL_HOSTS, [real.url])
        with LiveSession("fal", upstreams=upstreams, environ={"FAL_KEY": "k"},
                         poll_interval=0.01) as session:  # fmt: skip
            live = record_live(session, documented)
            # a live record is not a request: run again, it would pay twice and overwrite
            with pytest.raises(ValueError, match="a live run's record"):
                record_live(session, live)
    saved = Snapshot.load(snapshots / LIVE_RECORD)
    assert saved.document["origin"] == "live" and saved.document == live.document
    assert saved.document["differences"] == documented.document["differences"]
    assert "127.0.0.1" not in (snapshots / LIVE_RECORD).read_text()
    steps = [Step(**s) for s in saved.document["exchange"]]
    assert [s["status"] for s in saved.document["exchange"]] == [200, 202, 202, 200, 200]
    exchange = Exchange("fal", documented.endpoint, documented.arguments, steps)
    assert compare(documented, exchange) == []
    # the emulator is replayed against both; a live run makes the documented request only
    assert find_snapshots(tmp_path) == [snapshots / DOCS.name, snapshots / LIVE_RECORD]
    assert find_snapshots(tmp_path, live_records=False) == [snapshots / DOCS.name]


def test_a_difference_names_who_answered_it() -> None:
    documented = Snapshot.load(DOCS)
    steps = [Step(**s) for s in documented.document["exchange"]]
    steps[0] = Step(**{**documented.document["exchange"][0], "status": 201})
    exchange = Exchange("fal", documented.endpoint, documented.arguments, steps)
    (line,) = compare(documented, exchange, observed_by="live provider")
    assert line.endswith("(snapshot 200, live provider 201)"), line


def test_canonical_puts_urls_in_the_real_hosts_form() -> None:
    upstreams = Upstreams.parse(CANONICAL_HOSTS, ["http://127.0.0.1:5"])
    step = Step("GET", "http://127.0.0.1:5/fal/queue/a", 200, {},
                {"url": "http://127.0.0.1:5/fal/cdn/files/x.png"})  # fmt: skip
    (real,) = canonical(Exchange("fal", "a", {}, [step]), upstreams).steps
    assert real.url == "https://queue.fal.run/a"
    assert real.body == {"url": "https://v3.fal.media/files/x.png"}
