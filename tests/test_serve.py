"""`provider-emulator serve` as a process: its workers, its shared state, the port it binds."""

import gc
import queue
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from emulator import EmulatorConfig, Engine, Progression, cli, serve
from tests.bounded import eventually, stop_process
from tests.command import never_served, serve_with
from tests.redis_server import free_port, refused_port
from tests.scaling.serving import FAL, WAVESPEED, serving
from tests.unwritable import unwritable
from tests.user_contracts import renamed, schema, written


@pytest.mark.parametrize(
    ("argv", "environ"),
    [(["--workers", "2"], {}), ([], {"PROVIDER_EMULATOR_WORKERS": "3"})],
)
def test_several_workers_without_shared_state_are_refused(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
) -> None:
    monkeypatch.setattr("uvicorn.run", never_served)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["serve", *argv]) == 2
    error = capsys.readouterr().err
    assert error.startswith("provider-emulator: --workers ") and error.count("\n") == 1
    assert "--state redis://" in error and "--data-dir" in error


def test_workers_must_be_positive_and_record_and_replay_with_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr("uvicorn.run", never_served)
    assert cli.main(["serve", "--workers", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    shared = ["--workers", "2", "--data-dir", str(tmp_path)]
    assert cli.main(["serve", *shared, "--record", str(tmp_path / "rec")]) == 2
    assert "--workers 1" in capsys.readouterr().err
    assert cli.main(["serve", *shared, "--replay", str(tmp_path)]) == 2
    assert "--replay works in one process" in capsys.readouterr().err


def test_an_unreachable_state_store_stops_serve_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("uvicorn.run", never_served)
    with refused_port() as port:
        url = f"redis://127.0.0.1:{port}/0"
        assert cli.main(["serve", "--port", "0", "--state", url]) == 1
    error = capsys.readouterr().err
    assert error.startswith("provider-emulator: the state store cannot be reached: Redis at ")
    assert error.count("\n") == 1


@pytest.mark.parametrize("flag", ["--storage-dir", "--data-dir"])
def test_a_folder_setting_naming_a_file_stops_serve_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    flag: str,
) -> None:
    """Not a usage error (the value is a path, as asked): the machine's state, as TLS
    files that cannot be made are. It ended in a FileExistsError's traceback."""
    monkeypatch.setattr("uvicorn.run", never_served)
    taken = tmp_path / "afile"
    taken.write_text("x")
    assert cli.main(["serve", "--port", "0", flag, str(taken)]) == 1
    out, err = capsys.readouterr()
    role = "uploads" if flag == "--storage-dir" else "data"
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"provider-emulator: the {role} folder {taken} cannot be made: ")
    assert "File exists" in err


@pytest.mark.parametrize("flag", ["--storage-dir", "--data-dir"])
def test_a_folder_it_cannot_write_stops_serve_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    flag: str,
) -> None:
    """A docker volume mounted where the image has no folder is root's, and the image's
    user could not write it: serve started, and every upload too large for the store was
    a 500. Now serve says so before it starts."""
    monkeypatch.setattr("uvicorn.run", never_served)
    with unwritable(tmp_path / "uploads") as folder:
        assert cli.main(["serve", "--port", "0", flag, str(folder)]) == 1
    out, err = capsys.readouterr()
    role = "uploads" if flag == "--storage-dir" else "data"
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"provider-emulator: the {role} folder {folder} cannot be written: ")
    assert list(folder.iterdir()) == []


def test_workers_rebuild_the_parents_settings_with_its_admin_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], redis_url: str
) -> None:
    """The parent serves an import string; each worker's factory parses the parent's command
    line again, takes the token the parent made, and stages no fault rule of its own. The
    parent's own engine never starts a webhook sender (one would claim deliveries, if only
    for a moment, and hold them for their lease), and is closed before the workers start."""
    from emulator import serve
    from emulator.core.webhooks import WebhookSender

    served: dict = {}
    started = []
    start_thread = WebhookSender._start_thread

    def counted(sender: WebhookSender) -> None:
        started.append(sender)
        start_thread(sender)

    monkeypatch.setattr(WebhookSender, "_start_thread", counted)

    def run(target: object, **options: object) -> None:
        served.update(options, t=target, senders=_senders())

    monkeypatch.setattr("uvicorn.run", run)
    monkeypatch.setenv(serve.WORKER_SETTINGS, "")  # restored after the test
    rule = '{"effect": "http_error", "status": 429, "times": 1}'
    argv = ["serve", "--workers", "2", "--state", redis_url, "--api-key", "k", "--fault", rule]
    argv += ["--max-jobs", "77", "--port", "0"]
    senders = _senders()
    assert cli.main(argv) == 0
    assert (served["t"], served["factory"], served["workers"]) == (
        "emulator.serve:worker_app",
        True,
        2,
    )
    assert served["senders"] == senders and started == []  # the parent's never started
    token = capsys.readouterr().err.split("admin token: ")[1].split()[0]
    first, second = serve.worker_app().state.engine, serve.worker_app().state.engine
    try:
        assert (first.config.admin_token, first.config.max_jobs) == (token, 77)
        assert first.config.api_keys == {"k"} and first.config.state_url == redis_url
        # A worker adds no rule: a second one sees as many as the first (the parent's rule
        # once the engine keeps its rules in the store, none before).
        rules = len(first.faults.rules)
        assert rules <= 1 and len(second.faults.rules) == rules
    finally:  # their senders would poll this test's Redis port after it
        first.close()
        second.close()


def _senders() -> int:
    """How many webhook senders of a shared store run in this process."""
    return sum(thread.name == "webhooks" and thread.is_alive() for thread in threading.enumerate())


def test_one_worker_on_shared_state_serves_as_before(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    served = serve_with(monkeypatch, ["--data-dir", str(tmp_path)])
    assert (served["workers"], served["factory"]) == (1, False)
    assert served["engine"].config.state_url == f"sqlite://{tmp_path.resolve()}/state.db"


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_restart_says_which_settings_the_store_keeps_instead_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    kind: str,
) -> None:
    """What the store keeps wins (docs/deployment.md), and a restart with other values said
    nothing of it (an audit)."""
    if kind == "redis":
        url = request.getfixturevalue("redis_url")
        store, config = ["--state", url], EmulatorConfig(state=url, seed=3)
    else:
        store, config = ["--data-dir", str(tmp_path)], EmulatorConfig(data_dir=tmp_path, seed=3)
    earlier = Engine(config)
    earlier.progression = Progression.parse("wall:0.1,0.2")  # as the control plane sets it
    earlier.close()
    serve_with(monkeypatch, [*store, "--seed", "4", "--progression", "wall:1,6"])
    notices = [line for line in capsys.readouterr().err.splitlines() if "keeps" in line]
    assert notices == [
        "provider-emulator: the state store keeps seed 3, not seed 4 as this start says: "
        'to change it, reset with it (POST /_emulator/reset {"seed": N})',
        "provider-emulator: the state store keeps progression wall:0.1,0.2,0.2, not wall:1,6,0.2 "
        "as this start says: to change it, POST /_emulator/progression",
    ]
    serve_with(monkeypatch, [*store, "--seed", "3", "--progression", "wall:0.1,0.2"])
    assert "keeps" not in capsys.readouterr().err
    serve_with(monkeypatch, store)  # a start that asks for neither: no "as this start says"
    notices = [line for line in capsys.readouterr().err.splitlines() if "keeps" in line]
    assert notices == [
        "provider-emulator: the state store keeps seed 3 (this start leaves the seed at its "
        'default, no seed): to change it, reset with it (POST /_emulator/reset {"seed": N})',
        "provider-emulator: the state store keeps progression wall:0.1,0.2,0.2 (this start "
        f"leaves the progression at its default, {EmulatorConfig().progression}): to change "
        "it, POST /_emulator/progression",
    ]


def test_a_redis_state_without_the_redis_package_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # not installed
    monkeypatch.setattr("uvicorn.run", never_served)
    assert cli.main(["serve", "--port", "0", "--state", "redis://127.0.0.1:6399/0"]) == 2
    assert "pip install 'provider-emulator[redis]'" in capsys.readouterr().err


def test_a_worker_starts_while_its_store_is_down(tmp_path: Path) -> None:
    """uvicorn restarts a worker whenever it must, Redis up or not: the worker's app is
    built all the same (its requests get 503s until the store is back)."""
    from emulator.config import EmulatorConfig
    from emulator.config_file import Settings
    from emulator.serve import build_app
    from tests.redis_server import RedisServer

    down = RedisServer(tmp_path)  # never started
    app = build_app(Settings(EmulatorConfig(state=down.url)))
    app.state.engine.close()


def test_port_0_is_bound_before_start_up_and_served_as_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = serve_with(monkeypatch, ["--port", "0"])
    assert served["port"] != 0 and served["fd"] is not None
    assert served["port"] in served["engine"].webhooks.own_ports  # never a webhook target


def test_workers_learn_the_port_bound_for_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from emulator import serve

    served: dict = {}
    monkeypatch.setattr("uvicorn.run", lambda target, **options: served.update(options))
    monkeypatch.setenv(serve.WORKER_SETTINGS, "")  # restored after the test
    assert cli.main(["serve", "--port", "0", "--workers", "2", "--data-dir", str(tmp_path)]) == 0
    engine = serve.worker_app().state.engine
    assert served["port"] != 0 and engine.webhooks.own_ports == {served["port"]}
    engine.close()


def test_serve_on_port_0_names_the_port_it_listens_on() -> None:
    command = [sys.executable, "-m", "emulator", "serve", "--port", "0", "--log-level", "warning"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    try:
        serving = re.fullmatch(
            r"provider-emulator: serving on http://127\.0\.0\.1:(\d+)/\n", lines.get(timeout=60)
        )
        assert serving is not None and serving[1] != "0"
        origin = f"http://127.0.0.1:{serving[1]}"
        assert lines.get(timeout=10) == f"provider-emulator: dashboard at {origin}/_emulator/ui\n"
        assert eventually(lambda: _healthy(origin), 30, 0.1)
    finally:
        stop_process(process, 10)  # type: ignore[arg-type]


def _healthy(origin: str) -> bool:
    try:
        return httpx.get(f"{origin}/_emulator/health", timeout=5).json()["status"] == "ok"
    except httpx.TransportError:
        return False


def test_a_port_in_use_stops_serve_before_it_says_it_serves(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("uvicorn.run", never_served)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--port", str(port)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        err
        == f"provider-emulator: cannot listen on 127.0.0.1 port {port}: Address already in use\n"
    )


def test_an_address_not_of_this_machine_stops_serve_before_it_says_it_serves(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("uvicorn.run", never_served)
    # TEST-NET-1 (RFC 5737): no interface here has it; binding it sends nothing anywhere
    assert cli.main(["serve", "--host", "192.0.2.1", "--port", "0"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("provider-emulator: cannot listen on 192.0.2.1 port 0: ")


def test_a_port_given_is_bound_by_serve_and_served_as_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    served = serve_with(monkeypatch, ["--port", str(port)])
    assert served["port"] == port and served["fd"] is not None


def test_the_served_socket_sends_small_answers_at_once() -> None:
    """uvicorn takes a socket handed over by descriptor for a Unix one and leaves Nagle's
    algorithm on: without TCP_NODELAY on the listener (which accepted connections inherit)
    each kept-alive answer waited ~40 ms for an ACK (the benchmark's 734 polls a second)."""
    import socket

    from emulator.serve import listener

    with listener("127.0.0.1", 0) as bound:
        assert bound.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        bound.listen()  # as uvicorn does
        with socket.create_connection(bound.getsockname(), timeout=5):
            accepted, _ = bound.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_serve_resumes_the_collector_once_its_app_is_built() -> None:
    """`python -m emulator` loads with it paused (__main__.py): a server left without it
    would keep every cycle of garbage its requests make."""
    thresholds = gc.get_threshold()
    gc.disable()
    try:
        serve._freeze_startup_objects()
        assert gc.isenabled() and gc.get_threshold() == serve.GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        gc.enable()


@pytest.mark.slow
def test_a_users_backtracking_pattern_leaves_serve_answering(tmp_path: Path) -> None:
    # ^(a+)+$ against 34 a's and a "!": Python's re held the process for years, deaf to
    # every request and to SIGTERM (an audit); matched in linear time, each is refused
    bomb, bombing = "^(a+)+$", {"prompt": "a" * 34 + "!"}
    for provider in ("fal", "wavespeed"):
        document = renamed(provider, "acme/bomb")
        schema(document, "Input")["properties"]["prompt"]["pattern"] = bomb
        written(tmp_path / "contracts", provider, document)
    contracts = ("--contracts", str(tmp_path / "contracts"), "--progression", "immediate")
    with serving(tmp_path, *contracts) as server:
        ran = server.ask("POST", "/fal/run/acme/bomb", bombing, FAL)
        queued = server.ask("POST", "/fal/queue/acme/bomb", bombing, FAL)[1]
        result = server.ask("GET", queued["response_url"].split(str(server.port), 1)[1], None, FAL)
        submitted = server.ask("POST", "/wavespeed/api/v3/acme/bomb", bombing, WAVESPEED)
        health = server.ask("GET", "/_emulator/health")
    assert [ran[0], result[0], submitted[0], health[0]] == [422, 422, 400, 200]
    assert ran[1]["detail"][0]["type"] == "string_pattern_mismatch"
    assert (
        submitted[1]["message"]
        == f"Invalid parameters: prompt: String should match pattern '{bomb}'"
    )


def test_an_ipv6_address_is_bracketed_in_the_urls_serve_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served = serve_with(monkeypatch, ["--host", "::1"])
    served["engine"].close()
    out = capsys.readouterr().out
    # printed as http://::1:PORT/, which no browser or client opens
    origin = re.search(r"^provider-emulator: serving on (http://\[::1\]:\d+)/$", out, re.M)
    assert origin is not None, out
    assert f"provider-emulator: dashboard at {origin[1]}/_emulator/ui\n" in out
