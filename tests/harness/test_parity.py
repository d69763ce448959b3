"""A live run recorded as a snapshot, offline: a second emulator is the real provider."""

from __future__ import annotations

from pathlib import Path

from emulator import EmulatorConfig, Progression
from emulator.harness.calls import Exchange, Step
from emulator.harness.live import LiveSession
from emulator.harness.parity import canonical, record_live
from emulator.harness.snapshots import Snapshot, compare
from emulator.http.upstream import Upstreams
from emulator.providers.registry import CANONICAL_HOSTS
from emulator.server import BackgroundServer

DOCS = Path(__file__).parents[2] / "fixtures/fal/fal-ai/bitdance/snapshots/docs-example.json"


def test_a_live_run_is_recorded_and_matches_the_documented_snapshot(tmp_path: Path) -> None:
    documented = Snapshot.load(DOCS)
    config = EmulatorConfig(seed=30, progression=Progression.parse("polls:2,2"))
    with BackgroundServer(config) as real:
        upstreams = Upstreams.parse(CANONICAL_HOSTS, [real.url])
        with LiveSession("fal", upstreams=upstreams, environ={"FAL_KEY": "k"},
                         poll_interval=0.01) as session:  # fmt: skip
            live = record_live(session, tmp_path / "live.json", documented.endpoint,
                               documented.arguments)  # fmt: skip
    saved = Snapshot.load(tmp_path / "live.json")
    assert saved.document["origin"] == "live" and saved.document == live.document
    assert "127.0.0.1" not in (tmp_path / "live.json").read_text()
    steps = [Step(**s) for s in saved.document["exchange"]]
    assert [s["status"] for s in saved.document["exchange"]] == [200, 202, 202, 200, 200]
    exchange = Exchange("fal", documented.endpoint, documented.arguments, steps)
    assert compare(documented, exchange) == []


def test_canonical_puts_urls_in_the_real_hosts_form() -> None:
    upstreams = Upstreams.parse(CANONICAL_HOSTS, ["http://127.0.0.1:5"])
    step = Step("GET", "http://127.0.0.1:5/fal/queue/a", 200, {},
                {"url": "http://127.0.0.1:5/fal/cdn/files/x.png"})  # fmt: skip
    (real,) = canonical(Exchange("fal", "a", {}, [step]), upstreams).steps
    assert real.url == "https://queue.fal.run/a"
    assert real.body == {"url": "https://v3.fal.media/files/x.png"}
