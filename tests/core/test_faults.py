import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Fault, FaultError, Progression, create_app
from emulator.core.faults import FaultBook
from emulator.core.store import Store

#: rules that once were accepted and then broke every matching request (issue 14)
POISON = [
    {"effect": "http_error", "status": "500"},
    {"effect": "delay", "seconds": "1"},
    {"effect": "http_error", "status": 429, "retry_after": "soon"},
    {"effect": "fail", "endpoint": 5},
    {"effect": "fail", "inputs": ["prompt"]},
    {"effect": "http_error", "status": 500, "method": 7},
    {"effect": "fail", "error_type": "bad\r\nx-injected: 1"},
    {"effect": "http_error", "status": 500, "message": ["not", "text"]},
    {"effect": "fail", "times": 1.5},
    {"effect": "fail", "probability": 2},
    {"effect": "progression", "progression": "soon"},
    {"effect": "explode"},
    {},
    ["fail"],
]


@pytest.mark.parametrize("rule", POISON)
def test_a_rule_that_would_break_requests_is_refused_when_added(rule: object) -> None:
    with pytest.raises(FaultError):
        Fault.from_dict(rule)  # type: ignore[arg-type]


#: rules that were accepted and could never fire: a test using one tested nothing
NEVER_FIRE = [
    {"effect": "fail", "times": 0},
    {"effect": "progression", "progression": "wall:inf,1"},
    {"effect": "http_error", "status": 503, "path": "/*/status"},
    {"effect": "http_error", "status": 503, "path": "/fal-ai/bitdance/requests/*/status"},
]


@pytest.mark.parametrize("rule", NEVER_FIRE)
def test_a_rule_that_could_never_fire_is_refused(rule: dict) -> None:
    with pytest.raises(FaultError):
        Fault.from_dict(rule)
    with pytest.raises(FaultError):
        Fault(**rule).check()


def test_refused_rules_leave_requests_working() -> None:
    engine = Engine(EmulatorConfig(progression=Progression.parse("immediate")))
    with TestClient(create_app(engine=engine)) as client:
        for rule in POISON:
            answer = client.post("/_emulator/faults", json=rule)
            assert answer.status_code == 422, rule
            assert isinstance(answer.json()["detail"], str)
        assert engine.faults.rules == []
        run = client.post(
            "/fal/run/fal-ai/bitdance", json={"prompt": "x"}, headers={"Authorization": "Key k"}
        )
        assert run.status_code == 200


@pytest.mark.parametrize(
    ("rule", "served"),
    [
        ({"endpoint": "fal-ai/bitdance"}, True),
        ({"endpoint": "fal-ai/flux/dev"}, True),  # the catalogue's
        ({"endpoint": "fal-ai/flux/*"}, True),
        ({"provider": "wavespeed", "endpoint": "wavespeed-ai/*"}, True),
        ({"endpoint": "fal-ai/no-such-model"}, False),  # a typo: the rule would never fire
        ({"endpoint": "fal-ai/bitdanse"}, False),
        ({"provider": "wavespeed", "endpoint": "fal-ai/bitdance"}, False),
    ],
)
def test_a_rule_for_no_endpoint_served_is_refused(rule: dict, served: bool) -> None:
    engine = Engine(EmulatorConfig())
    if served:
        assert engine.faults.add({"effect": "fail", **rule}).matched == 0
    else:
        with pytest.raises(FaultError, match="served matches"):
            engine.faults.add({"effect": "fail", **rule})
    # with --unknown-endpoints generic, every id is served, either provider's
    generic = Engine(EmulatorConfig(unknown_endpoints="generic"))
    generic.faults.add({"effect": "fail", **rule})


def test_a_rule_for_no_method_is_refused() -> None:
    # "GETT" was taken, and a test staging it passed while it tested nothing
    engine = Engine(EmulatorConfig())
    with pytest.raises(FaultError, match="method 'GETT' is none of GET, HEAD, POST"):
        engine.faults.add({"effect": "http_error", "status": 500, "method": "GETT"})
    assert engine.faults.add({"effect": "http_error", "status": 500, "method": "put"})


def test_a_rule_naming_a_stream_as_an_endpoint_says_what_to_name() -> None:
    # the natural spelling, which an audit reached for first: the stream is no endpoint
    engine = Engine(EmulatorConfig())
    said = "path under endpoint 'fal-ai/bitdance'.*set path: 'fal-ai/bitdance/stream'"
    with pytest.raises(FaultError, match=said):
        engine.faults.add({"effect": "fail", "endpoint": "fal-ai/bitdance/stream"})


@pytest.mark.parametrize("advance", ["nan", "NaN", -1, True, None, [1], "1e999"])
def test_a_manual_clock_moves_only_by_finite_seconds(advance: object) -> None:
    from emulator import ManualClock

    engine = Engine(EmulatorConfig(), clock=ManualClock())
    with TestClient(create_app(engine=engine)) as client:
        answer = client.post("/_emulator/clock", json={"advance": advance})
        assert answer.status_code == 422
        assert client.get("/_emulator/clock").json()["now"] == 0


def test_an_exchange_reads_its_body_only_for_a_rule_on_inputs_that_could_fire(
    any_store: Store | None,
) -> None:
    book = FaultBook(store=any_store)
    book.add({"effect": "http_error", "status": 500, "endpoint": "acme/video"})
    assert not book.wants_inputs("exchange", "fal", "acme/video")
    book.add({"effect": "http_error", "status": 429, "endpoint": "acme/video", "inputs": {"a": 1}})
    book.add({"effect": "fail", "inputs": {"a": 1}})  # a job's: its input is read anyway
    book.add({"effect": "reset", "provider": "wavespeed", "inputs": {"a": 1}})
    assert book.wants_inputs("exchange", "fal", "acme/video")
    assert not book.wants_inputs("exchange", "fal", "zeta/video")
    assert book.wants_inputs("exchange", "wavespeed", "zeta/video")


def test_the_first_rule_added_fires_whether_it_names_its_endpoint_or_a_pattern(
    any_store: Store | None,
) -> None:
    book = FaultBook(store=any_store)
    for n in range(20):  # rules for other endpoints, looked past
        book.add({"effect": "http_error", "status": 500, "endpoint": f"acme/other-{n}"})
    pattern = book.add({"effect": "http_error", "status": 502, "endpoint": "acme/*"})
    named = book.add({"effect": "http_error", "status": 503, "endpoint": "acme/video"})
    request = {"provider": "fal", "endpoint": "acme/video", "method": "GET", "path": "/x"}
    assert book.pick("exchange", **request) is pattern
    assert book.could_fire("exchange", "zeta/video") and not book.could_fire("job", "acme/video")
    book.remove(pattern.id)
    assert book.could_fire("exchange", "acme/video")
    assert not book.could_fire("exchange", "zeta/video")
    assert book.pick("exchange", **request) is named
    assert book.pick("job", **request) is None
    assert book.pick("exchange", **{**request, "endpoint": "zeta/video"}) is None


def test_rules_are_counted_and_removed_and_cleared_with_the_seed(any_store: Store | None) -> None:
    book = FaultBook(3, store=any_store)
    first = book.add({"effect": "fail", "times": 2})
    second = book.add({"effect": "nsfw", "nth": 2})
    assert (first.id, second.id) == ("fault-1", "fault-2")
    request = {"provider": "fal", "endpoint": "acme/image", "key": "k"}
    assert [book.pick("job", **request) for _ in range(3)] == [first, first, None]
    assert [(rule.matched, rule.fired) for rule in book.rules] == [(3, 2), (1, 0)]
    assert book.remove(first.id) and not book.remove(first.id)
    assert [rule.id for rule in book.rules] == [second.id]
    book.clear(9)
    assert (book.rules, book.seed, book.has("job")) == ([], 9, False)
    assert book.add({"effect": "cancel"}).id == "fault-1"  # ids restart, as under a seed


def test_a_probability_is_decided_by_the_seed_the_rule_and_the_match(
    any_store: Store | None,
) -> None:
    decisions = []
    for _ in range(2):
        book = FaultBook(7, store=any_store)
        book.clear(7)
        book.add({"effect": "fail", "probability": 0.5})
        decisions.append([book.pick("job", provider="fal", endpoint="a") for _ in range(40)])
    fired = [rule is not None for rule in decisions[0]]
    assert 5 < sum(fired) < 35  # some fired, some did not: decided, not fixed
    assert fired == [rule is not None for rule in decisions[1]]


def test_a_sparse_output_rule_leaves_out_every_field_the_schema_does_not_require() -> None:
    answers = []
    for _ in range(2):  # under one seed, the same outputs: the same rule, a fresh start
        engine = Engine(EmulatorConfig(seed=5, progression=Progression.parse("immediate")))
        engine.faults.add({"effect": "sparse_output", "times": 1})
        with TestClient(create_app(engine=engine), headers={"Authorization": "Key k"}) as client:
            body = {"prompt": "a cat", "num_images": 2}
            runs = [client.post("/fal/run/fal-ai/bitdance", json=body) for _ in range(2)]
            answers.append([run.json() for run in runs])
    assert answers[0] == answers[1]
    sparse, whole = answers[0]
    assert [set(image) for image in sparse["images"]] == [{"url"}, {"url"}]
    assert set(sparse) == {"prompt", "images", "seed", "has_nsfw_concepts"}  # all required
    assert {"file_size", "width", "content_type"} <= set(whole["images"][0])  # the rule is spent
    engine.contracts.get("fal", "fal-ai/bitdance").output_validator.validate(sparse)
