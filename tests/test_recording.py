"""Record and replay, offline: a second emulator stands in as the real provider."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Progression, cli, create_app
from emulator.recording import RecordingError, with_recordings
from emulator.server import BackgroundServer
from tests.command import refused, serve_with
from tests.http.recorded import wavespeed_submit_exchange

KEY = "upstream-secret-key"
PROMPT = {"prompt": "a lighthouse at dusk"}


@pytest.fixture(scope="module")
def upstream() -> Iterator[BackgroundServer]:
    config = EmulatorConfig(seed=21, progression=Progression.parse("polls:1,1"),
                            api_keys=frozenset({KEY}))  # fmt: skip
    with BackgroundServer(config) as server:
        yield server


def _app(**options) -> TestClient:
    engine = Engine(EmulatorConfig(seed=5, progression=Progression.parse("polls:1,1")))
    return TestClient(with_recordings(create_app(engine=engine), **options))


def _fal_call(client: TestClient, body: dict, auth: str = f"Key {KEY}") -> tuple[list, dict]:
    headers = {"Authorization": auth}
    submitted = client.post("/fal/queue/fal-ai/bitdance", json=body, headers=headers).json()
    statuses = []
    for _ in range(10):
        statuses.append(client.get(submitted["status_url"], headers=headers).json()["status"])
        if statuses[-1] == "COMPLETED":
            break
    return statuses, client.get(submitted["response_url"], headers=headers).json()


@pytest.fixture(scope="module")
def recorded(upstream: BackgroundServer, tmp_path_factory) -> tuple[Path, dict, bytes]:
    directory = tmp_path_factory.mktemp("recordings")
    client = _app(record=directory, upstream=[upstream.url])
    _, result = _fal_call(client, PROMPT)
    media = client.get(result["images"][0]["url"]).content
    wavespeed = {"Authorization": f"Bearer {KEY}"}
    model = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
    job = client.post(model, json=PROMPT, headers=wavespeed).json()["data"]
    for _ in range(10):
        data = client.get(job["urls"]["get"], headers=wavespeed).json()["data"]
        if data["status"] == "completed":
            break
    return directory, {"fal": result, "wavespeed": data}, media


def test_recording_proxies_to_the_upstream_and_points_urls_back(recorded) -> None:
    _, results, media = recorded
    assert results["fal"]["images"][0]["url"].startswith("http://testserver/fal/cdn/")
    assert media[:3] == b"\xff\xd8\xff"  # the upstream's JPEG, fetched through the proxy


def test_no_credential_is_written_to_disk(recorded) -> None:
    directory, _, _ = recorded
    files = list(directory.rglob("*.json"))
    assert len(files) >= 8
    text = "".join(path.read_text() for path in files)
    assert KEY not in text and "authorization" not in text.lower()
    assert "127.0.0.1" not in text  # stored in the real hosts' form


def test_credentials_the_provider_issues_are_not_written_to_disk(
    upstream: BackgroundServer, tmp_path: Path
) -> None:
    # fal's CDN token (fal_client.upload_file asks for one), its realtime client token and
    # WaveSpeed's webhook secret: a recording is made to be committed, and the secret lets
    # its holder forge the webhooks a handler accepts (a newcomer's audit).
    client = _app(record=tmp_path, upstream=[upstream.url])
    fal, wavespeed = {"Authorization": f"Key {KEY}"}, {"Authorization": f"Bearer {KEY}"}
    issued = [
        client.post("/fal/rest/storage/auth/token?storage_type=fal-cdn-v3", json={},
                    headers=fal).json()["token"],
        client.post("/fal/rest/tokens/", json={"allowed_apps": ["fast-lcm-diffusion"]},
                    headers=fal).json(),
        client.get("/wavespeed/api/v3/webhook/secret", headers=wavespeed).json()["data"]["secret"],
    ]  # fmt: skip
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 3
    text = "".join(path.read_text() for path in files)
    assert all(credential not in text for credential in issued)
    assert "eyJ" not in text and "whsec_" not in text
    assert text.count("REDACTED") >= 3


def test_replay_answers_from_the_recording_through_the_queue(recorded) -> None:
    directory, results, media = recorded
    client = _app(replay=directory)
    statuses, result = _fal_call(client, PROMPT, auth="Key any-key")
    assert statuses == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
    assert result == results["fal"]
    assert client.get(result["images"][0]["url"]).content == media


def test_replay_answers_wavespeed_predictions_with_the_emulators_ids(recorded) -> None:
    directory, results, _ = recorded
    client = _app(replay=directory)
    headers = {"Authorization": "Bearer any"}
    model = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
    job = client.post(model, json={"prompt": "a lighthouse at dusk"}, headers=headers).json()
    seen = []
    for _ in range(10):
        data = client.get(job["data"]["urls"]["get"], headers=headers).json()["data"]
        seen.append(data["status"])
        if data["status"] == "completed":
            break
    assert seen[-1] == "completed" and "processing" in seen
    assert data["outputs"] == results["wavespeed"]["outputs"]
    assert data["id"] == job["data"]["id"] != results["wavespeed"]["id"]


def test_unmatched_requests_are_emulated_or_a_clear_404(recorded) -> None:
    directory, results, _ = recorded
    _, emulated = _fal_call(_app(replay=directory), {"prompt": "something else"}, "Key k")
    assert emulated["images"] and emulated != results["fal"]
    strict = _app(replay=directory, fallback="404")
    answer = strict.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"},
                         headers={"Authorization": "Key k"})  # fmt: skip
    assert answer.status_code == 404
    assert answer.json()["detail"] == (
        "no recording matches POST fal-ai/bitdance with this input"
        " (the nearest recorded input differs in prompt)"
    )
    # in each provider's own format
    wavespeed = strict.post(
        "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image",
        json={"prompt": "x"},
        headers={"Authorization": "Bearer k"},
    )
    assert wavespeed.status_code == 404 and wavespeed.json()["code"] == 404
    assert "no recording matches" in wavespeed.json()["message"]


@pytest.mark.parametrize(
    ("options", "variable", "said"),
    [
        (["--record", "DIR", "--upstream", "http://127.0.0.1:9"], "",
         "recording provider calls into DIR (upstream: http://127.0.0.1:9)"),
        (["--record", "DIR"], "",
         "recording provider calls into DIR (upstream: the providers' real hosts)"),
        # the variable is where the calls go: the line says so, not the real hosts
        (["--record", "DIR"], "http://127.0.0.1:9",
         "recording provider calls into DIR (upstream: http://127.0.0.1:9)"),
        (["--record", "DIR"], "wavespeed=http://127.0.0.1:9",
         "(upstream: fal=its real hosts, wavespeed=http://127.0.0.1:9)"),
        (["--record", "DIR", "--upstream", "fal=http://127.0.0.1:8"], "http://127.0.0.1:9",
         "(upstream: fal=http://127.0.0.1:8, wavespeed=its real hosts)"),  # the flag wins
        (["--replay", "DIR", "--replay-fallback", "404"], "",
         "answering from COUNT recordings in DIR (what none matches: a 404)"),
    ],
)  # fmt: skip
def test_serve_says_it_records_or_replays(
    options: list[str],
    variable: str,
    said: str,
    recorded,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
) -> None:
    folder, _, _ = recorded  # a replay needs recordings; a record run writes none here
    monkeypatch.setattr("uvicorn.run", lambda app, **_: None)
    monkeypatch.setenv("PROVIDER_EMULATOR_UPSTREAM", variable)
    argv = ["serve", "--port", "0", *(str(folder) if o == "DIR" else o for o in options)]
    assert cli.main(argv) == 0
    count = str(len(list(folder.glob("*/*.json"))))
    assert said.replace("DIR", str(folder)).replace("COUNT", count) in capsys.readouterr().err


def test_serve_says_which_recorded_submits_replay_with_an_emulated_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A webhook-driven client's submits have no recorded result: their replay is the
    emulator's output, not the recorded one, and the start says so."""
    (tmp_path / "wavespeed").mkdir()
    recording = wavespeed_submit_exchange("wavespeed-ai/bitdance-14b/text-to-image", PROMPT, "a")
    (tmp_path / "wavespeed" / "1.json").write_text(json.dumps(recording))
    monkeypatch.setattr("uvicorn.run", lambda app, **_: None)
    argv = ["serve", "--port", "0", "--replay", str(tmp_path), "--replay-fallback", "404"]
    assert cli.main(argv) == 0
    assert (
        f"answering from 1 recording in {tmp_path} (what none matches: a 404;"
        " 1 submit recorded without its result: emulated)"
    ) in capsys.readouterr().err


def test_the_upstream_variable_without_record_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The flag without --record is refused; the variable may be set for other runs."""
    served = serve_with(monkeypatch, [], PROVIDER_EMULATOR_UPSTREAM="http://127.0.0.1:9")
    assert served["port"] > 0


def test_an_unreachable_upstream_is_a_502_and_nothing_is_recorded(tmp_path: Path) -> None:
    """In the provider's own error format: WaveSpeed's paths answered fal's ``{"detail"}``,
    there alone outside the envelope (a review)."""
    client = _app(record=tmp_path, upstream=["http://127.0.0.1:9"])
    answer = client.post(
        "/fal/queue/fal-ai/bitdance", json=PROMPT, headers={"Authorization": "Key k"}
    )
    assert answer.status_code == 502 and "unreachable" in answer.json()["detail"]
    wavespeed = {"Authorization": "Bearer k"}
    for method, path in [
        ("POST", "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"),
        ("GET", "/wavespeed/api/v3/predictions/abc/result"),
    ]:
        answer = client.request(method, path, json=PROMPT, headers=wavespeed)
        envelope = answer.json()
        assert (answer.status_code, envelope["code"], envelope["data"]) == (502, 502, None)
        assert envelope["message"].startswith("upstream http://127.0.0.1:9/wavespeed/api/v3/")
        assert envelope["message"].endswith(" unreachable: All connection attempts failed")
    assert not list(tmp_path.rglob("*.json"))


def test_unreadable_recordings_are_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "fal").mkdir()
    (tmp_path / "fal" / "1.json").write_text(json.dumps({"surface": "fal/queue"}))
    with pytest.raises(RecordingError, match=r"1\.json: not a readable recording"):
        with_recordings(create_app(), replay=tmp_path)
    with pytest.raises(RecordingError, match="no recordings at"):
        with_recordings(create_app(), replay=tmp_path / "missing")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--replay", "{tmp}/missing"], "no recordings at"),
        (["--replay", "{tmp}"], "holds no recordings"),
        (["--record", "{tmp}/file.txt/sub"], "cannot record into"),
        (["--record", "{tmp}/a", "--replay", "{tmp}/b"], "cannot be used together"),
        (["--record", "{tmp}/a", "--upstream", "ftp://x"], "not an http(s) URL"),
        # an option of one mode without it did nothing, unseen (a newcomer's audit)
        (["--replay-fallback", "404"], "--replay-fallback 404 needs --replay"),
        (["--upstream", "http://127.0.0.1:9"], "--upstream needs --record"),
        (["--record", "{tmp}/a", "--record-media-cap", "-5"],
         "--record-media-cap must be at least 0, not -5"),
    ],
)  # fmt: skip
def test_serve_refuses_bad_recording_options_in_one_line(
    argv: list[str],
    words: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "file.txt").write_text("")
    argv = ["serve", "--port", "0", *(word.replace("{tmp}", str(tmp_path)) for word in argv)]
    err = refused(monkeypatch, capsys, argv, {})
    assert words in err and err.count("\n") == 1


def test_an_in_process_replay_of_no_recording_is_refused(tmp_path: Path) -> None:
    """It emulated every call, and the tests it was to check passed (a newcomer's audit)."""
    from emulator import emulate

    with pytest.raises(RecordingError, match="holds no recordings"):
        emulate(replay=tmp_path)


def test_in_process_record_and_replay_together_are_refused_by_their_arguments(
    tmp_path: Path,
) -> None:
    # it said "--record and --replay cannot be used together": flags emulate() has not
    from emulator import emulate

    with pytest.raises(RecordingError) as refused:
        emulate(record=tmp_path / "a", replay=tmp_path / "b")
    assert str(refused.value) == (
        "record= and replay= cannot be used together: record into one directory, or replay from one"
    )


def test_an_in_process_replay_can_answer_what_no_recording_matches_with_a_404(
    recorded,
) -> None:
    """The strict replay CI wants existed for serve only (a newcomer's audit)."""
    import fal_client

    from emulator import Emulation

    directory, results, _ = recorded
    with Emulation(replay=directory, replay_fallback="404"):
        assert (
            fal_client.subscribe("fal-ai/bitdance", arguments=PROMPT)["seed"]
            == (results["fal"]["seed"])
        )
        with pytest.raises(fal_client.FalClientHTTPError, match="no recording matches") as lost:
            fal_client.subscribe("fal-ai/bitdance", arguments={"prompt": "something else"})
        assert lost.value.status_code == 404


@pytest.mark.parametrize(
    ("options", "words"),
    [({"replay_fallback": "404"}, "^the replay fallback 404 needs replay= "),
     ({"replay": ".", "replay_fallback": "405"}, "must be 'emulate' or '404' .*, not '405'"),
     # an int: it was "must be emulate or 404, not 404"
     ({"replay": ".", "replay_fallback": 404}, r"or '404' \(a string\), not 404$")],
)  # fmt: skip
def test_a_replay_fallback_that_cannot_work_is_refused(options: dict, words: str) -> None:
    from emulator import emulate

    with pytest.raises(RecordingError, match=words):
        emulate(**options)


@pytest.mark.parametrize(
    ("options", "words"),
    [({"upstream": ["http://127.0.0.1:9"]}, "upstream= needs record= "),
     ({"record": "unused", "media_cap": -5}, "media_cap must be at least 0, not -5")],
)  # fmt: skip
def test_recording_options_in_process_are_refused_by_their_arguments(
    options: dict, words: str
) -> None:
    # they named serve's flags (--upstream, --record-media-cap), which in-process has not
    with pytest.raises(ValueError, match=f"^{words}"):
        with_recordings(create_app(), **options)


def _recorded_subscribes(
    folder: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> list[dict[str, Any]]:
    """``count`` subscribes of `PROMPT` by the real fal_client, recorded in-process into
    ``folder`` from a served emulator standing in for fal (each went there)."""
    import fal_client

    from emulator import Emulation

    config = EmulatorConfig(seed=8, progression=Progression.parse("immediate"))
    with BackgroundServer(config) as real, monkeypatch.context() as patched:
        patched.setenv("PROVIDER_EMULATOR_UPSTREAM", real.url)
        with Emulation(record=folder):
            recorded = [fal_client.subscribe("fal-ai/bitdance", arguments=PROMPT)
                        for _ in range(count)]  # fmt: skip
        assert len(real.engine.jobs) == count
    return recorded


def test_in_process_record_then_replay_with_the_real_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fal_client

    from emulator import Emulation

    (recorded,) = _recorded_subscribes(tmp_path, monkeypatch, 1)
    with Emulation(replay=tmp_path, progression="polls:1,1"):
        replayed = fal_client.subscribe("fal-ai/bitdance", arguments=PROMPT)
    assert replayed == recorded


def test_calls_of_one_input_replay_its_recordings_in_order_then_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both replayed calls returned the second recording (a newcomer's audit)."""
    import fal_client

    from emulator import Emulation

    recorded = _recorded_subscribes(tmp_path, monkeypatch, 2)
    assert recorded[0] != recorded[1]  # drawn afresh for each job
    with Emulation(replay=tmp_path, progression="polls:1,1") as emulation:
        # a submit refused (a staged 503) and sent again by the client plays nothing
        emulation.add_fault("http_error", status=503, method="POST", times=1)
        replayed = [fal_client.subscribe("fal-ai/bitdance", arguments=PROMPT) for _ in "123"]
        assert len(emulation.requests.filter(method="POST", status=503)) == 1
    assert replayed == [*recorded, recorded[1]]


def test_a_wavespeed_sync_mode_call_replays_its_recorded_prediction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was never replayed: its answer carries the result, and no poll followed to find
    it by (a newcomer's audit)."""
    import wavespeed

    from emulator import Emulation
    from emulator.providers.wavespeed.envelopes import task_id

    model, arguments = "wavespeed-ai/bitdance-14b/text-to-image", {"prompt": "sync"}
    config = EmulatorConfig(seed=8, progression=Progression.parse("immediate"))
    with BackgroundServer(config) as real:
        monkeypatch.setenv("PROVIDER_EMULATOR_UPSTREAM", real.url)
        with Emulation(record=tmp_path):
            recorded = wavespeed.Client().run(model, arguments, enable_sync_mode=True)
    monkeypatch.delenv("PROVIDER_EMULATOR_UPSTREAM")
    with Emulation(replay=tmp_path, progression="polls:1,1") as emulation:
        replayed = wavespeed.Client().run(model, arguments, enable_sync_mode=True)
        (job,) = list(emulation.jobs)  # an emulator job, which a later poll finds too
        polled = wavespeed.Client().get_result(task_id(job))["data"]
    assert replayed["outputs"] == recorded["outputs"] == polled["outputs"]
    assert polled["id"] == task_id(job)
    # as serve's jobs move, by the wall clock: the sync wait must hear its client stay
    with Emulation(replay=tmp_path, progression="wall:0.1,0.1,0"):
        waited = wavespeed.Client().run(model, arguments, enable_sync_mode=True)
        emulated = wavespeed.Client().run(model, {"prompt": "other"}, enable_sync_mode=True)
    assert waited["outputs"] == recorded["outputs"] and emulated["outputs"]
    strict = _app(replay=tmp_path, fallback="404")  # the audit's serve --replay-fallback 404
    answer = strict.post(f"/wavespeed/api/v3/{model}", json={**arguments, "enable_sync_mode": True},
                         headers={"Authorization": "Bearer k"})  # fmt: skip
    (output,) = answer.json()["data"]["outputs"]  # pointing at the client's host
    assert output.rsplit("/", 1)[1] == recorded["outputs"][0].rsplit("/", 1)[1]


_CDN_PAGE = {
    "surface": "fal/cdn",
    "method": "GET",
    "path": "/files/page",
    "query": "",
    "request": {"headers": {}},
    "response": {
        "status": 200,
        "headers": {"content-type": "text/html"},
        "base64": "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    },
}


def test_a_replayed_file_is_served_as_the_cdn_serves_its_files(tmp_path: Path) -> None:
    """A recorded text/html file ran as a page of the dashboard's origin."""
    (tmp_path / "fal").mkdir()
    (tmp_path / "fal" / "1.json").write_text(json.dumps(_CDN_PAGE))
    client = TestClient(with_recordings(create_app(), replay=tmp_path))
    served = client.get("/fal/cdn/files/page")
    assert served.status_code == 200
    assert served.headers["content-security-policy"] == "sandbox"
    assert served.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "response",
    [
        {"status": 99, "headers": {}},  # no status: the connection was dropped, unanswered
        {"status": 200, "headers": {"x-a": "b\r\nset-cookie: c=d"}},
        {"status": 200, "headers": [["x-a", "b"]]},
        {"status": 200, "headers": {"x-a": 5}},
        {"status": 200, "headers": {}, "base64": "not base64!"},
    ],
)
def test_a_recording_that_cannot_be_sent_is_refused_naming_its_file(
    tmp_path: Path, response: dict
) -> None:
    (tmp_path / "fal").mkdir()
    (tmp_path / "fal" / "7.json").write_text(json.dumps({**_CDN_PAGE, "response": response}))
    with pytest.raises(RecordingError, match=r"7\.json: not a readable recording"):
        with_recordings(create_app(), replay=tmp_path)


@pytest.mark.slow  # a server stands in for WaveSpeed, and the SDK's submit and polls
def test_a_refused_wavespeed_submit_replays_as_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its recorded 400 was answered "no recording matches" with the 404 fallback: only a
    submit that made a job was played (a harness audit)."""
    import wavespeed

    from emulator import Emulation

    model, invalid = "wavespeed-ai/bitdance-14b/text-to-image", {"prompt": "x", "size": "1*1"}
    config = EmulatorConfig(seed=8, progression=Progression.parse("immediate"))
    with BackgroundServer(config) as real:
        monkeypatch.setenv("PROVIDER_EMULATOR_UPSTREAM", real.url)
        with Emulation(record=tmp_path), pytest.raises(RuntimeError) as recorded:
            wavespeed.Client().run(model, invalid)
    monkeypatch.delenv("PROVIDER_EMULATOR_UPSTREAM")
    with Emulation(replay=tmp_path, replay_fallback="404") as emulation:
        with pytest.raises(RuntimeError) as replayed:
            wavespeed.Client().run(model, invalid)
        assert not emulation.jobs
    # the recorded envelope (its JSON written again: spacing aside)
    (_, sent), (_, played) = (str(e.value).split("HTTP 400: ") for e in (recorded, replayed))
    assert json.loads(played) == json.loads(sent)
    assert json.loads(sent)["message"].startswith("Invalid parameters: size: ")
