"""A request answered through a `HandlerApp` is recorded from what its route tells (its
status, and the body `read_body` read) unless an exchange rule could answer it; then the
gateway watches its messages. Both record it alike: two emulators alike but for a staged
rule that matches nothing (which keeps every request watched) answer and record every
sequence of requests alike."""

from __future__ import annotations

import asyncio
import json

from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette

from emulator import EmulatorConfig, Engine, ManualClock, Progression, create_app
from emulator.http.recorder import Recorder
from tests.benchmarks.suite.asgi_call import http_scope

FAL = "/fal/queue/fal-ai/bitdance"
WAVESPEED = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
#: a rule that could answer any request (so each is watched), yet matches none
NOTHING_MATCHES = {"effect": "http_error", "status": 500, "key": "nobody"}
#: small limits, so that drawn bodies cross them
MAX_BODY, RECORDED_BODY = 300, 80

_keys = st.sampled_from(["Key owner", "Key owner", "Bearer owner", "Key stranger", ""])
_bodies = st.one_of(
    st.builds(lambda p: json.dumps({"prompt": p}).encode(), st.text(max_size=200)),
    st.sampled_from([b"", b"{", b"[1, 2]", b'{"prompt": NaN}', b'{"seed": -1}', b"\xff\xfe"]),
    st.builds(lambda n: b'{"prompt": "%s"}' % (b"x" * n), st.integers(MAX_BODY - 20, MAX_BODY)),
)
_submits = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["POST"] * 4 + ["PUT", "GET"]),
        "path": st.sampled_from([FAL, FAL, WAVESPEED, WAVESPEED, "/fal/queue/fal-ai/none"]),
        "query": st.sampled_from(["", "", "?fal_webhook=ftp://x", "?webhook=http://[", "?a=1"]),
        "key": _keys,
        "content_type": st.sampled_from(["application/json"] * 3 + ["text/plain"]),
        "body": _bodies,
        "chunks": st.integers(1, 3),  # more than one: streamed without a length
        "gone": st.sampled_from([False, False, False, True]),  # before the last chunk
    }
)
_polls = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "GET", "PUT", "DELETE"]),
        "path": st.sampled_from(["fal result", "fal cancel", "wavespeed result"]),
        "key": _keys,
    }
)


def _emulators() -> list[Starlette]:
    made = []
    for rules in ([], [NOTHING_MATCHES]):
        config = EmulatorConfig(
            seed=3,
            progression=Progression.parse("polls:1,1"),
            max_body_bytes=MAX_BODY,
            api_keys={"owner"},
        )
        engine = Engine(config, clock=ManualClock())
        engine.record.body_bytes = RECORDED_BODY
        for rule in rules:
            engine.faults.add(rule)
        made.append(create_app(engine=engine))
    return made


def _exchange(
    app: Starlette,
    method: str,
    path: str,
    headers: dict[str, str],
    chunks: list[bytes] | None = None,
    *,
    gone: bool = False,
) -> tuple[int, list, bytes]:
    """One request straight into ``app``: its body in ``chunks``, the client gone instead
    of sending the last of them if ``gone``; the answer's status, headers and body."""
    scope = http_scope(method, path, headers)
    messages = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks or [b""]
    ]
    messages[-1] = {"type": "http.disconnect"} if gone else {**messages[-1], "more_body": False}
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return sent[0]["status"], sorted(sent[0]["headers"]), body


def _submit(app: Starlette, step: dict) -> tuple[int, list, bytes]:
    headers = {"content-type": step["content_type"]}
    if step["key"]:
        headers["authorization"] = step["key"]
    body, count = step["body"], step["chunks"]
    if count == 1:
        headers["content-length"] = str(len(body))
    size = -(-len(body) // count) or 1
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    method, path = step["method"], step["path"] + step["query"]
    return _exchange(app, method, path, headers, chunks, gone=step["gone"])


def _poll(app: Starlette, ids: dict[str, str], step: dict) -> tuple[int, list, bytes]:
    headers = {"authorization": step["key"]} if step["key"] else {}
    paths = {
        "fal result": f"/fal/queue/fal-ai/bitdance/requests/{ids['fal']}",
        "fal cancel": f"/fal/queue/fal-ai/bitdance/requests/{ids['fal']}/cancel",
        "wavespeed result": f"/wavespeed/api/v3/predictions/{ids['wavespeed']}/result",
    }
    return _exchange(app, step["method"], paths[step["path"]], headers)


def _first_jobs(app: Starlette) -> dict[str, str]:
    body = [b'{"prompt": "a"}']
    fal = _exchange(app, "POST", FAL, {"authorization": "Key owner"}, body)[2]
    wavespeed = _exchange(app, "POST", WAVESPEED, {"authorization": "Bearer owner"}, body)[2]
    return {"fal": json.loads(fal)["request_id"], "wavespeed": json.loads(wavespeed)["data"]["id"]}


@given(steps=st.lists(st.one_of(_submits, _polls), min_size=1, max_size=8))
def test_a_route_that_tells_is_recorded_as_a_watched_one(steps: list[dict]) -> None:
    emulators = _emulators()
    ids = [_first_jobs(app) for app in emulators]
    assert ids[0] == ids[1]
    watch, watched = Recorder.watch, []

    def counted(self: Recorder, *args: object) -> object:
        watched.append(self.record)
        return watch(self, *args)  # type: ignore[arg-type]

    Recorder.watch = counted  # type: ignore[method-assign]
    try:
        for step in steps:
            answers = []
            for app in emulators:
                app.state.engine.clock.advance(0.5)
                submit = "body" in step
                answers.append(_submit(app, step) if submit else _poll(app, ids[0], step))
            assert answers[0] == answers[1], step
    finally:
        Recorder.watch = watch  # type: ignore[method-assign]
    # The first emulator's requests were never watched; every one of the second's was.
    records = [app.state.engine.record for app in emulators]
    assert watched == [records[1]] * len(steps)
    assert [_recorded(entry) for entry in records[0]] == [_recorded(entry) for entry in records[1]]


def _recorded(entry: object) -> tuple:
    """What the record says of a request, but the times it started and was answered."""
    fields = ("method", "host", "path", "query", "headers", "status", "endpoint", "key")
    return tuple(getattr(entry, name) for name in (*fields, "body", "body_size"))
