"""A live run recorded as a snapshot, offline: a second emulator is the real provider."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from emulator import EmulatorConfig, Progression
from emulator.harness.calls import Exchange, Step
from emulator.harness.live import Inconclusive, LiveSession
from emulator.harness.parity import (
    OLD_LIVE_RECORD,
    canonical,
    find_snapshots,
    live_record_path,
    record_live,
)
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
    record = snapshots / "docs-example.live.json"
    saved = Snapshot.load(record)
    assert saved.document["origin"] == "live" and saved.document == live.document
    assert saved.document["differences"] == documented.document["differences"]
    assert "127.0.0.1" not in record.read_text()
    steps = [Step(**s) for s in saved.document["exchange"]]
    assert [s["status"] for s in saved.document["exchange"]] == [200, 202, 202, 200, 200]
    exchange = Exchange("fal", documented.endpoint, documented.arguments, steps)
    assert compare(documented, exchange) == []
    # the emulator is replayed against both; a live run makes the documented request only
    assert find_snapshots(tmp_path) == [snapshots / DOCS.name, record]
    assert find_snapshots(tmp_path, live_records=False) == [snapshots / DOCS.name]


def _copies(tmp_path: Path, *prompts: str) -> list[Snapshot]:
    """The documented snapshot, in a folder of its own, once per prompt (the first keeps
    its own), as ``<n>.json``."""
    snapshots = tmp_path / "fal/fal-ai/bitdance/snapshots"
    snapshots.mkdir(parents=True)
    text, documented = DOCS.read_text(), Snapshot.load(DOCS).arguments["prompt"]
    for number, prompt in enumerate(prompts):
        (snapshots / f"{number}.json").write_text(text.replace(documented, prompt))
    return [Snapshot.load(snapshots / f"{number}.json") for number in range(len(prompts))]


def _record(snapshots: list[Snapshot], *faults: dict, answered: list | None = None
            ) -> list[Snapshot]:  # fmt: skip
    """``snapshots`` run live against a stand-in provider staging ``faults``; the status
    codes it answered are put in ``answered``."""
    config = EmulatorConfig(seed=30, progression=Progression.parse("polls:1,1"))
    with BackgroundServer(config) as real:
        for fault in faults:
            real.engine.faults.add(fault)
        upstreams = Upstreams.parse(CANONICAL_HOSTS, [real.url])
        try:
            with LiveSession("fal", upstreams=upstreams, environ={"FAL_KEY": "k"},
                             poll_interval=0.01) as session:  # fmt: skip
                return [record_live(session, snapshot) for snapshot in snapshots]
        finally:
            (answered if answered is not None else []).extend(r.status for r in real.engine.record)


def test_each_snapshot_has_a_live_record_of_its_own(tmp_path: Path) -> None:
    # one live.json per folder: the second paid run overwrote the first (a harness audit)
    cat, dog = _copies(tmp_path, "a cat", "a dog")
    _record([cat, dog])
    for snapshot, prompt in ((cat, "a cat"), (dog, "a dog")):
        record = Snapshot.load(live_record_path(snapshot.path))
        assert record.arguments["prompt"] == prompt
        assert record.document["source"] == f"a live run of {snapshot.path.name}"
    folder = cat.path.parent
    assert [p.name for p in find_snapshots(tmp_path)] == ["0.json", "0.live.json",
                                                          "1.json", "1.live.json"]  # fmt: skip
    assert find_snapshots(tmp_path, live_records=False) == [cat.path, dog.path]
    assert live_record_path(folder / "0.live.json") == folder / "0.live.live.json"


def test_an_old_style_live_record_is_read_until_its_snapshot_is_run_live_again(
    tmp_path: Path,
) -> None:
    cat, dog = _copies(tmp_path, "a cat", "a dog")
    (cat_record,) = _record([cat])
    old = cat.path.with_name(OLD_LIVE_RECORD)
    live_record_path(cat.path).rename(old)  # as a live run wrote it before
    # replayed offline like any snapshot, and never run live itself
    assert old in find_snapshots(tmp_path)
    assert find_snapshots(tmp_path, live_records=False) == [cat.path, dog.path]
    with pytest.raises(ValueError, match="a live run's record"):
        record_live(LiveSession("fal", environ={"FAL_KEY": "k"}), Snapshot.load(old))
    _record([dog])  # another snapshot's run keeps it: it records the cat
    assert old.exists()
    _record([cat])  # its own snapshot's replaces it
    assert not old.exists() and live_record_path(cat.path).exists()


def test_a_provider_that_stays_busy_is_inconclusive_and_nothing_is_recorded(
    tmp_path: Path,
) -> None:
    # a 429 was recorded as the live provider's answer, then failed the offline suite
    (cat,) = _copies(tmp_path, "a cat")
    busy = {"effect": "http_error", "status": 429, "retry_after": 0, "method": "POST"}
    said = r"fal answered 429 to the submit of fal-ai/bitdance \(4 times, Retry-After: 0\): "
    answered: list[int] = []
    with pytest.raises(Inconclusive, match=said + "inconclusive, nothing recorded"):
        _record([cat], busy, answered=answered)
    assert answered == [429] * 4  # a submit and 3 more
    assert find_snapshots(tmp_path) == [cat.path]


def test_a_provider_busy_for_a_moment_is_asked_again(tmp_path: Path) -> None:
    (cat,) = _copies(tmp_path, "a cat")
    once = {"effect": "http_error", "status": 503, "retry_after": 0, "times": 1}
    answered: list[int] = []
    (live,) = _record(
        [cat], {**once, "method": "POST"}, {**once, "path": "*/status"}, answered=answered
    )
    assert answered.count(503) == 2
    assert 503 not in [step["status"] for step in live.document["exchange"]]
    assert compare(cat, Exchange("fal", cat.endpoint, cat.arguments,
                                 [Step(**s) for s in live.document["exchange"]])) == []  # fmt: skip


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
