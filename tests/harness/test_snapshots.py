"""Normalisation keeps identity; comparison reports what is not declared; bad files fail."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from emulator.harness.calls import Exchange, Step
from emulator.harness.snapshots import Snapshot, SnapshotError, compare, normalise, snapshot_of

ID, OTHER = "0a1b2c3d-aaaa", "ffff-9999"
BASE = f"https://queue.fal.run/fal-ai/x/requests/{ID}"


def _exchange(request_id: str = ID, width: int = 1024, seed: int = 7) -> Exchange:
    base = BASE.replace(ID, request_id)
    steps = [
        Step("POST", "https://queue.fal.run/fal-ai/x", 200, {"content-type": "application/json"},
             {"status": "IN_QUEUE", "request_id": request_id, "status_url": base + "/status",
              "response_url": base, "queue_position": 3}),
        Step("GET", base + "/status", 202, {}, {"status": "IN_QUEUE", "queue_position": 2}),
        Step("GET", base + "/status", 202, {}, {"status": "IN_QUEUE", "queue_position": 1}),
        Step("GET", base + "/status", 200, {},
             {"status": "COMPLETED", "metrics": {"inference_time": 1.5}}),
        Step("GET", base, 200, {"x-fal-request-id": request_id},
             {"images": [{"url": f"https://v3.fal.media/files/{request_id}.png", "width": width,
                          "file_size": 1234}], "seed": seed}),
    ]  # fmt: skip
    return Exchange("fal", "fal-ai/x", {"prompt": "p"}, steps)


def _snapshot(tmp_path: Path, differences: list | None = None) -> Snapshot:
    snapshot = snapshot_of(_exchange(), tmp_path / "s.json", origin="live", source="test")
    snapshot.document["differences"] = differences or []
    return snapshot


def test_the_same_id_becomes_the_same_placeholder_everywhere(tmp_path: Path) -> None:
    steps = _snapshot(tmp_path).document["exchange"]
    assert steps[0]["body"]["request_id"] == "<request-id:1>"
    assert steps[0]["body"]["status_url"].endswith("/requests/<request-id:1>/status")
    assert steps[-1]["body"]["images"][0]["url"] == "<media-url:1>"
    assert steps[-1]["body"]["seed"] == "<seed>" and steps[0]["body"]["queue_position"] == (
        "<queue-position>"
    )
    assert len(steps) == 4  # repeated polls of one status collapse into the first


def test_different_ids_stay_different() -> None:
    both = normalise({"a": {"request_id": ID}, "b": {"request_id": OTHER}, "c": f"x/{OTHER}"})
    assert both == {"a": {"request_id": "<request-id:1>"}, "b": {"request_id": "<request-id:2>"},
                    "c": "x/<request-id:2>"}  # fmt: skip


def test_a_run_with_other_ids_seeds_and_timings_is_equal(tmp_path: Path) -> None:
    assert compare(_snapshot(tmp_path), _exchange(request_id=OTHER, seed=99)) == []


def test_an_undeclared_difference_is_reported_with_its_path(tmp_path: Path) -> None:
    (difference,) = compare(_snapshot(tmp_path), _exchange(width=512))
    assert difference.startswith("$['exchange'][3]['body']['images'][0]['width']: values_changed")
    assert "snapshot 1024, emulator 512" in difference


def test_a_declared_difference_is_ignored(tmp_path: Path) -> None:
    declared = [{"path": "$.exchange[3].body.images[*].width", "reason": "sizes differ"}]
    assert compare(_snapshot(tmp_path, declared), _exchange(width=512)) == []


def test_a_status_code_difference_is_reported(tmp_path: Path) -> None:
    exchange = _exchange()
    exchange.steps[1].status = 200
    assert compare(_snapshot(tmp_path), exchange) == [
        "$['exchange'][1]['status']: values_changed (snapshot 202, emulator 200)"
    ]


def test_a_snapshot_round_trips_through_its_file(tmp_path: Path) -> None:
    snapshot = _snapshot(tmp_path)
    snapshot.save()
    assert Snapshot.load(snapshot.path).document == json.loads(json.dumps(snapshot.document))
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


_VALID = (
    '{"request": {"provider": "fal", "endpoint": "fal-ai/x", "arguments": {}}, "exchange": '
    '[{"method": "POST", "url": "u", "status": 200, "headers": {}, "body": {}}], '
    '"differences": []}'
)


def test_a_valid_snapshot_loads(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(_VALID)
    assert Snapshot.load(path).endpoint == "fal-ai/x"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{", "cannot read the snapshot"),
        ('{"request": {}}', "no 'exchange'"),
        (_VALID.replace('"differences": []', '"differences": [{"path": "$.a"}]'),
         "a path and a reason"),
        (_VALID.replace('"differences": []', '"differences": [{"path": "$[", "reason": "r"}]'),
         "bad JSON path"),
        (_VALID.replace('"differences": []', '"differences": null'), "not a list"),
        (_VALID.replace('"fal"', '"foo"'), "provider 'foo' is none of fal, wavespeed"),
        (_VALID.replace('"endpoint": "fal-ai/x"', '"endpoint": 3'), "names no endpoint"),
        ('{"request": "x", "exchange": []}', "provider None is none of"),
        (_VALID.replace('"arguments": {}', '"arguments": []'), "arguments are not an object"),
        (_VALID.replace('"exchange": [', '"exchange": ["x", '), "step 0 of its exchange is not"),
        (_VALID.replace('"status": 200, ', ''), "step 0 of its exchange lacks status"),
        (_VALID.replace(', "body": {}', ''), "step 0 of its exchange lacks body"),
        ('{"request": {"provider": "fal", "endpoint": "e"}, "exchange": []}', "not a list of"),
    ],
)  # fmt: skip
def test_a_snapshot_that_no_longer_parses_is_one_clear_error(
    tmp_path: Path, text: str, words: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(SnapshotError, match=words) as raised:
        Snapshot.load(path)
    assert "\n" not in str(raised.value)


def test_normalising_does_not_touch_its_input() -> None:
    original = {"request_id": ID, "seed": 3}
    kept = copy.deepcopy(original)
    normalise(original)
    assert original == kept


@pytest.mark.parametrize(
    "path", ["$", "$.exchange", "$.exchange[*]", "$.exchange[1]", "$.exchange[*].body", "$..*",
             "$.exchange[0].headers", "$.exchange[*].body.*", "$.exchange[*].*.*",
             "$.exchange[*].*", "$.exchange[9]", "$.exchange[1].headers.*"]
)  # fmt: skip
def test_a_declared_difference_may_not_hide_a_whole_step(tmp_path: Path, path: str) -> None:
    snapshot = _snapshot(tmp_path, [{"path": path, "reason": "everything differs"}])
    snapshot.save()
    with pytest.raises(SnapshotError, match="name the fields that differ"):
        Snapshot.load(snapshot.path)


@pytest.mark.parametrize(
    "path", ["$.exchange[*].body.images[*].width", "$..seed", "$.exchange[1:4].body[a,b]",
             "$.exchange[1].status", "$.exchange[*].headers.etag"]
)  # fmt: skip
def test_a_declared_difference_that_names_fields_is_taken(tmp_path: Path, path: str) -> None:
    snapshot = _snapshot(tmp_path, [{"path": path, "reason": "these differ"}])
    snapshot.save()
    assert Snapshot.load(snapshot.path).document["differences"][0]["path"] == path


def test_a_declared_difference_may_name_a_steps_status_code(tmp_path: Path) -> None:
    snapshot = _snapshot(tmp_path, [{"path": "$.exchange[1].status", "reason": "r"}])
    snapshot.save()
    exchange = _exchange()
    exchange.steps[1].status = 200
    assert compare(Snapshot.load(snapshot.path), exchange) == []


def _polled(exchange: Exchange, *statuses: str) -> Exchange:
    """``exchange`` with its status polls replaced by one poll of each of ``statuses``."""
    submit, *polls, result = exchange.steps
    template = polls[0]
    steps = [Step(template.method, template.url, 202, {}, {"status": s}) for s in statuses]
    steps[-1].status = 200
    return Exchange(exchange.provider, exchange.endpoint, exchange.arguments,
                    [submit, *steps, result])  # fmt: skip


def _queued_then_running(tmp_path: Path) -> Snapshot:
    return snapshot_of(
        _polled(_exchange(), "IN_QUEUE", "IN_PROGRESS", "COMPLETED"),
        tmp_path / "s.json",
        origin="docs",
        source="test",
    )


@pytest.mark.parametrize(
    "statuses", [("IN_PROGRESS", "COMPLETED"), ("COMPLETED",), ("IN_QUEUE", "COMPLETED")]
)
def test_a_passing_status_one_run_did_not_poll_is_timing(
    tmp_path: Path, statuses: tuple[str, ...]
) -> None:
    # a real job may start, or finish, before its first poll
    assert compare(_queued_then_running(tmp_path), _polled(_exchange(), *statuses)) == []
    # and the other way round: a snapshot that saw fewer statuses than the run
    fewer = snapshot_of(_polled(_exchange(), *statuses), tmp_path / "f.json", origin="live",
                        source="test")  # fmt: skip
    full = _polled(_exchange(), "IN_QUEUE", "IN_PROGRESS", "COMPLETED")
    assert compare(fewer, full) == []


def test_a_difference_after_a_skipped_status_is_reported_at_the_snapshots_step(
    tmp_path: Path,
) -> None:
    (difference,) = compare(
        _queued_then_running(tmp_path), _polled(_exchange(width=512), "COMPLETED")
    )
    assert difference.startswith("$['exchange'][4]['body']['images'][0]['width']")


def test_an_unknown_status_or_a_missing_end_is_still_reported(tmp_path: Path) -> None:
    snapshot = _queued_then_running(tmp_path)
    odd = compare(snapshot, _polled(_exchange(), "PENDING", "COMPLETED"))
    assert any("PENDING" in line for line in odd), odd
    ended_short = _polled(_exchange(), "IN_QUEUE", "IN_PROGRESS", "COMPLETED")
    del ended_short.steps[-2:]
    missing = compare(snapshot, ended_short)  # the COMPLETED poll and the result
    assert len(missing) == 2 and all("iterable_item_removed" in line for line in missing)
