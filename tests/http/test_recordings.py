"""Reading recordings back: what a replay refuses to start from, naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator import create_app
from emulator.http.recordings import RecordingError, RecordingStore
from emulator.providers.registry import CANONICAL_HOSTS
from emulator.recording import with_recordings

SUBMIT = {
    "surface": "fal/queue",
    "method": "POST",
    "path": "/fal-ai/bitdance",
    "query": "",
    "request": {"headers": {"content-type": "application/json"}, "json": {"prompt": "a cat"}},
    "response": {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "json": {"request_id": "r1", "status": "IN_QUEUE"},
    },
}


def _write(folder: Path, name: str, recording: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(recording))
    return path


def _replay(directory: Path) -> None:
    with_recordings(create_app(), replay=directory)


def test_recordings_are_read_oldest_first_with_their_provider(tmp_path: Path) -> None:
    _write(tmp_path / "fal", "2.json", {**SUBMIT, "path": "/second"})
    _write(tmp_path / "fal", "1.json", SUBMIT)
    recordings = RecordingStore(tmp_path).read(CANONICAL_HOSTS)
    assert [(r.provider, r.path) for r in recordings] == [
        ("fal", "/fal-ai/bitdance"),
        ("fal", "/second"),
    ]


def test_a_folder_without_recordings_is_refused(tmp_path: Path) -> None:
    """A replay of nothing started, and emulated every call unseen (a newcomer's audit)."""
    with pytest.raises(RecordingError, match="holds no recordings") as refused:
        _replay(tmp_path)
    assert "PROVIDER one of fal, wavespeed" in str(refused.value)


def test_one_providers_folder_is_refused_naming_its_parent(tmp_path: Path) -> None:
    _write(tmp_path / "fal", "1.json", SUBMIT)
    with pytest.raises(RecordingError, match="holds no recordings") as refused:
        _replay(tmp_path / "fal")
    assert str(refused.value).endswith(f"read by replaying {tmp_path}")


def test_a_recording_in_another_providers_folder_is_refused_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "wavespeed", "1.json", SUBMIT)
    with pytest.raises(RecordingError) as refused:
        _replay(tmp_path)
    assert str(refused.value) == (
        f"{path}: a recording of fal (surface 'fal/queue') in the folder wavespeed/, "
        f"where fal's are {tmp_path / 'fal'}/"
    )


def test_only_the_providers_folders_are_read(tmp_path: Path) -> None:
    # A project's root held node_modules/.package-lock.json, which a replay of DIR/*/*.json
    # refused as "not a readable recording" (a harness audit)
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / ".package-lock.json").write_text('{"lockfileVersion": 3}')
    _write(tmp_path / "fal", "1.json", SUBMIT)
    recordings = RecordingStore(tmp_path).read(CANONICAL_HOSTS)
    assert [(r.provider, r.path) for r in recordings] == [("fal", "/fal-ai/bitdance")]


def test_a_folder_a_level_too_high_is_refused_naming_the_one_to_replay(tmp_path: Path) -> None:
    # (the wavespeed npm package's own folder holds a package.json: no recording)
    _write(tmp_path / "node_modules" / "wavespeed", "package.json", {"name": "wavespeed"})
    (tmp_path / "node_modules" / ".package-lock.json").write_text('{"lockfileVersion": 3}')
    _write(tmp_path / "recordings" / "fal", "1.json", SUBMIT)
    with pytest.raises(RecordingError, match="holds no recordings") as refused:
        _replay(tmp_path)
    assert str(refused.value).endswith(
        f"those a level down are read by replaying {tmp_path / 'recordings'}"
    )


def test_a_recording_of_an_unknown_surface_is_refused_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "fal", "1.json", {**SUBMIT, "surface": "nope"})
    with pytest.raises(RecordingError, match=f"^{path}: surface 'nope' is none of fal/api, "):
        _replay(tmp_path)


def _edited(part: str, **changes: object) -> dict:
    """SUBMIT with ``changes`` made to its ``part`` (None: that key removed)."""
    edited = {**SUBMIT[part], **changes} if part != "recording" else {**SUBMIT, **changes}
    edited = {name: value for name, value in edited.items() if value is not None}
    return edited if part == "recording" else {**SUBMIT, part: edited}


@pytest.mark.parametrize(
    ("recording", "problem"),
    [
        (_edited("response", json=None, body={"images": []}),
         "its response has the unknown key 'body' (it holds status, headers, json, base64, "
         "omitted)"),
        (_edited("recording", query=None), "the recording has no 'query'"),
        (_edited("recording", notes="mine"), "the recording has the unknown key 'notes'"),
        (_edited("recording", method=["POST"]),
         "the recording's method is not of type str: ['POST']"),
        (_edited("request", headers=None), "its request has no 'headers'"),
        (_edited("response", status=True), "its response's status is not of type int: True"),
        (_edited("response", base64="AAAA"),
         "its response keeps its body more than one way (json and base64)"),
        (_edited("response", json=None, omitted=-1),
         "its response's omitted size -1 is less than 0"),
        (_edited("request", headers={"x-a": "b\nc"}), "its request's headers must be names"),
    ],
)  # fmt: skip
def test_a_recording_of_another_shape_is_refused_naming_it(
    tmp_path: Path, recording: dict, problem: str
) -> None:
    """A response's ``json`` renamed ``body`` was replayed as an empty body, and
    `fal_client.subscribe` returned None (a newcomer's audit)."""
    path = _write(tmp_path / "fal", "1.json", recording)
    with pytest.raises(RecordingError) as refused:
        _replay(tmp_path)
    assert str(refused.value).startswith(f"{path}: not a readable recording: {problem}")
    assert "\n" not in str(refused.value)
