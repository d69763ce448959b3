"""``serve --workers N`` and several ``serve`` processes on one real redis-server: every
worker answers, with the same admin token; a lost Redis makes them unready (503) and they
recover when it returns; jobs submitted through one worker or process are answered by
another."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.redis_server import RedisServer, redis_server
from tests.scaling.serving import (
    FAL,
    FAL_SUBMIT,
    WAVESPEED,
    WAVESPEED_SUBMIT,
    Serving,
    exchange,
    health_answers,
    serving,
    until,
    worker_pids,
)

PROMPT = {"prompt": "a lighthouse at dusk"}
#: seconds a restarted Redis may take to be answering through the emulator again
RECOVERY_TIMEOUT = 20.0
#: seconds the workers of a parent killed with SIGKILL may take to end (they look each 0.5 s)
WORKERS_GONE_WITHIN = 15.0


def _path(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture(scope="module")
def team_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisServer, Serving]]:
    """Two workers on a Redis of their own, for the key ``team`` only (so the control plane
    needs the parent's admin token), jobs finished at once: one for the tests that neither
    stop its Redis nor stage rules (each start of two workers cost 1.5-2 s of CPU)."""
    folder = tmp_path_factory.mktemp("team-workers")
    flags = ("--workers", "2", "--api-key", "team", "--progression", "immediate")
    with redis_server(folder) as redis, serving(folder, *flags, "--state", redis.url) as server:
        yield redis, server


def test_every_worker_answers_on_one_port_with_the_parents_admin_token(
    team_workers: tuple[RedisServer, Serving],
) -> None:
    redis, server = team_workers
    token = server.stderr.split("admin token: ")[1].split()[0]
    answers: dict[int, tuple[int, int]] = {}
    for _ in range(400):
        (_, health, _), (admin, _, _), (anonymous, _, _) = exchange(
            server.port,
            [
                ("GET", "/_emulator/health", None, None),
                ("GET", "/_emulator/requests", None, {"Authorization": f"Bearer {token}"}),
                ("GET", "/_emulator/requests", None, None),
            ],
        )
        assert health["state"] == {"kind": "redis", "url": redis.url, "ok": True}
        answers[health["pid"]] = (admin, anonymous)
        if len(answers) == 2:
            break
    assert len(answers) == 2 and server.process.pid not in answers
    assert set(answers.values()) == {(200, 401)}


def test_a_lost_redis_makes_every_worker_unready_until_it_returns(
    redis: RedisServer, tmp_path: Path
) -> None:
    with serving(tmp_path, "--workers", "2", "--state", redis.url) as server:
        redis.stop()
        answers = health_answers(server, 2)
        assert {status for status, _ in answers} == {503}
        assert all(body["status"] == "unavailable" for _, body in answers)
        assert all(body["state"]["ok"] is False for _, body in answers)
        pids = {body["pid"] for _, body in answers}
        assert len(pids) == 2
        redis.start()
        until(lambda: worker_pids(server, 2, within=2.0) == pids, RECOVERY_TIMEOUT, server)


def test_a_lost_redis_is_a_503_in_each_providers_format_and_service_resumes(
    redis: RedisServer, tmp_path: Path
) -> None:
    with serving(tmp_path, "--workers", "2", "--state", redis.url) as server:
        assert server.ask("POST", FAL_SUBMIT, PROMPT, FAL)[0] == 200
        redis.stop()
        fal = server.ask("POST", FAL_SUBMIT, PROMPT, FAL)
        wavespeed = server.ask("POST", WAVESPEED_SUBMIT, PROMPT, WAVESPEED)
        assert (fal[0], fal[2].get("retry-after")) == (503, "1")  # fal's ingress page
        assert fal[1] is None and "x-fal-request-id" not in fal[2]
        assert (wavespeed[0], wavespeed[2].get("retry-after")) == (503, "1")
        assert wavespeed[1]["code"] == 503 and "state store" in wavespeed[1]["message"]
        redis.start()
        until(
            lambda: server.ask("POST", WAVESPEED_SUBMIT, PROMPT, WAVESPEED)[0] == 200,
            RECOVERY_TIMEOUT,
            server,
        )


def _follow_fal_job(submitted: dict, elsewhere: Serving) -> None:
    status = elsewhere.ask("GET", _path(submitted["status_url"]), None, FAL)
    assert status[0] == 200, status
    assert status[1]["status"] == "COMPLETED"
    result = elsewhere.ask("GET", _path(submitted["response_url"]), None, FAL)
    assert result[0] == 200
    assert elsewhere.ask("GET", _path(result[1]["images"][0]["url"]))[0] == 200


def _follow_wavespeed_job(submitted: dict, elsewhere: Serving) -> None:
    result = elsewhere.ask("GET", _path(submitted["data"]["urls"]["get"]), None, WAVESPEED)
    assert result[0] == 200, result
    assert result[1]["data"]["status"] == "completed"
    assert elsewhere.ask("GET", _path(result[1]["data"]["outputs"][0]))[0] == 200


def test_two_serve_processes_on_one_redis_are_one_emulator(
    redis: RedisServer, tmp_path: Path
) -> None:
    flags = ("--state", redis.url, "--progression", "immediate")
    with serving(tmp_path, *flags) as first, serving(tmp_path, *flags) as second:
        fal = first.ask("POST", FAL_SUBMIT, PROMPT, FAL)
        wavespeed = second.ask("POST", WAVESPEED_SUBMIT, PROMPT, WAVESPEED)
        assert (fal[0], wavespeed[0]) == (200, 200)
        _follow_fal_job(fal[1], second)
        _follow_wavespeed_job(wavespeed[1], first)
        recorded = first.ask("GET", "/_emulator/requests")[1]
        assert {entry["provider"] for entry in recorded} >= {"fal", "wavespeed"}


def test_jobs_submitted_through_one_worker_are_answered_by_every_other(
    team_workers: tuple[RedisServer, Serving],
) -> None:
    _, server = team_workers
    for _ in range(6):
        fal = server.ask("POST", FAL_SUBMIT, PROMPT, FAL)
        wavespeed = server.ask("POST", WAVESPEED_SUBMIT, PROMPT, WAVESPEED)
        assert (fal[0], wavespeed[0]) == (200, 200)
        # each follow-up on fresh connections: about half land on the other worker
        _follow_fal_job(fal[1], server)
        _follow_wavespeed_job(wavespeed[1], server)


def test_a_fault_rule_from_the_command_line_fires_once_across_workers(
    redis: RedisServer, tmp_path: Path
) -> None:
    rule = '{"effect": "http_error", "status": 429, "times": 1}'
    flags = ("--workers", "2", "--state", redis.url, "--fault", rule)
    with serving(tmp_path, *flags) as server:
        assert len(worker_pids(server, 2)) == 2
        statuses = [server.ask("POST", FAL_SUBMIT, PROMPT, FAL)[0] for _ in range(12)]
        assert sorted(statuses) == [200] * 11 + [429]
        assert len(server.ask("GET", "/_emulator/faults")[1]) == 1


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie left to a parent that does not reap it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_workers_end_with_a_parent_killed_and_a_restart_takes_the_port(
    tmp_path: Path,
) -> None:
    flags = ("--workers", "2", "--data-dir", str(tmp_path / "data"))
    with serving(tmp_path, *flags) as server:
        pids = worker_pids(server, 2)
        assert len(pids) == 2
        server.process.kill()  # SIGKILL: the parent cannot pass it on to its workers
        server.process.wait(10)
        until(lambda: not any(_running(pid) for pid in pids), WORKERS_GONE_WITHIN)
    with serving(tmp_path, *flags, port=server.port) as again:
        assert worker_pids(again, 1)
