"""fal's status polls answered quickly (`FalApi.quick_status`, before the gateway builds the
layers a handler needs) are the handler's answers, byte for byte, with the same effect on
the job: two emulators alike but for a staged exchange rule that matches nothing (which
keeps every request on the handler's path) answer every sequence of requests alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace

from hypothesis import example, given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator import (
    EmulatorConfig,
    Engine,
    ManualClock,
    Progression,
    RecordedRequest,
    create_app,
)
from emulator.providers.fal.routes import FalApi

ENDPOINT = "fal-ai/bytedance/seedream/v4/text-to-image"
#: a rule that could answer any request (so each is left to its handler), yet matches none
NOTHING_MATCHES = {"effect": "http_error", "status": 500, "key": "nobody"}

#: a status poll of the owner's first job, most fields most often as a client sends them
_request = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET"] * 5 + ["HEAD", "POST", "PUT"]),
        "key": st.sampled_from(["Key owner"] * 4 + ["Key other", "Key stranger", "Basic x", ""]),
        "app": st.sampled_from([ENDPOINT, ENDPOINT, "fal-ai/bytedance", "fal-ai/flux/dev"]),
        "job": st.sampled_from([0, 0, 0, 1, "unknown"]),
        "action": st.sampled_from(["/status"] * 4 + ["/status/", "", "/cancel"]),
        "query": st.sampled_from(["", "?logs=0", "?logs=1", "?logs=true&x=1", "?a=b&logs=no"]),
        "host": st.sampled_from(["testserver", "queue.fal.run", "[zz"]),
        "origin": st.sampled_from([None, None, "http://localhost:5173"]),
        "advance": st.sampled_from([0.0, 0.0, 0.7, 3.0]),
    }
)
#: the step every field of which is the common one, but its query: it wants the logs (a
#: job's log shows once it runs)
_WITH_LOGS = {
    "method": "GET",
    "key": "Key owner",
    "app": ENDPOINT,
    "job": 0,
    "action": "/status",
    "query": "?logs=1",
    "host": "testserver",
    "origin": None,
    "advance": 0.0,
}


@contextmanager
def _emulators(progression: str) -> Iterator[list[tuple[TestClient, ManualClock]]]:
    made = []
    # each client entered: one event loop thread for all its requests, not one a request
    # (two thirds of the property's time here)
    with ExitStack() as clients:
        for rules in ([], [NOTHING_MATCHES]):
            clock = ManualClock()
            config = EmulatorConfig(
                seed=7, progression=Progression.parse(progression), api_keys={"owner", "other"}
            )
            engine = Engine(config, clock=clock)
            for rule in rules:
                engine.faults.add(rule)
            made.append((clients.enter_context(TestClient(create_app(engine=engine))), clock))
        yield made


def _submit(client: TestClient, prompt: str) -> str:
    headers = {"authorization": "Key owner"}
    answer = client.post(f"/fal/queue/{ENDPOINT}", json={"prompt": prompt}, headers=headers)
    return str(answer.json()["request_id"])


def _send(client: TestClient, ids: list[str], step: dict) -> tuple[int, list, bytes]:
    job = ids[step["job"]] if isinstance(step["job"], int) else "0" * 32
    headers = {"host": step["host"]}
    if step["key"]:
        headers["authorization"] = step["key"]
    if step["origin"]:
        headers["origin"] = step["origin"]
    path = f"/{step['app']}/requests/{job}{step['action']}{step['query']}"
    if step["host"] != "queue.fal.run":  # the emulator's own address: the surface's prefix
        path = "/fal/queue" + path
    answer = client.request(step["method"], path, headers=headers)
    return answer.status_code, sorted(answer.headers.items()), answer.content


@example(steps=[{**_WITH_LOGS, "query": ""}] * 3 + [_WITH_LOGS], progression="polls:2,2")
@given(
    steps=st.lists(_request, min_size=1, max_size=16),
    progression=st.sampled_from(["polls:2,2", "wall:1,2", "immediate"]),
)
def test_quick_answers_are_the_handlers(steps: list[dict], progression: str) -> None:
    quick = FalApi.quick_status
    answered: dict[int, list[bool]] = {}

    def counted(self: FalApi, scope: dict, path: str) -> object:
        made = quick(self, scope, path)
        answered.setdefault(id(self), []).append(made is not None)
        return made

    FalApi.quick_status = counted  # type: ignore[method-assign]
    try:
        with _emulators(progression) as emulators:
            quick_one = emulators[0][0]
            ids = [[_submit(client, prompt) for prompt in ("a", "b")] for client, _ in emulators]
            assert ids[0] == ids[1]
            for step in steps:
                answers = []
                for client, clock in emulators:
                    clock.advance(step["advance"])
                    answers.append(_send(client, ids[0], step))
                assert answers[0] == answers[1], step
            records = [list(client.app.state.engine.record) for client, _ in emulators]
            assert [_recorded(e) for e in records[0]] == [_recorded(e) for e in records[1]]
    finally:
        FalApi.quick_status = quick  # type: ignore[method-assign]
    # The emulator with the rule is never asked (the reference); the other answers quickly
    # exactly when a step should be.
    assert set(answered) <= {id(_api(quick_one))}
    assert any(any(made) for made in answered.values()) == any(map(_is_quick, steps))


def _api(client: TestClient) -> FalApi:
    """The `FalApi` behind a test client's app."""
    (queue,) = [r for r in client.app.routes if getattr(r, "path", "") == "/fal/queue/{path:path}"]
    return queue.app.handler.__self__


def _recorded(entry: RecordedRequest) -> tuple:
    """What the record says of a request, but the times it started and was answered."""
    fields = ("method", "host", "path", "query", "headers", "status", "endpoint", "key")
    return (*(getattr(entry, name) for name in fields), entry.body, entry.body_size)


def _is_quick(step: dict) -> bool:
    return (
        step["method"] == "GET"
        and step["key"] == "Key owner"
        and step["app"] != "fal-ai/flux/dev"
        and step["job"] != "unknown"
        and step["action"].startswith("/status")
        and "logs=1" not in step["query"]
        and "logs=true" not in step["query"]
    )


def test_a_key_no_longer_accepted_is_refused_its_own_jobs_status() -> None:
    engine = Engine(EmulatorConfig(api_keys={"owner"}, progression=Progression.parse("polls:5,5")))
    with TestClient(create_app(engine=engine)) as client:
        request_id = _submit(client, "a")
        path = f"/fal/queue/{ENDPOINT}/requests/{request_id}/status"
        assert client.get(path, headers={"authorization": "Key owner"}).status_code == 202
        engine.config = replace(engine.config, api_keys=frozenset({"someone else"}))
        refused = client.get(path, headers={"authorization": "Key owner"})
    assert refused.status_code == 401
    assert refused.json()["detail"] == "No user found for Key ID and Secret"
