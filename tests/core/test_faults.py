import pytest
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, Fault, FaultError, Progression, create_app

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


@pytest.mark.parametrize("advance", ["nan", "NaN", -1, True, None, [1], "1e999"])
def test_a_manual_clock_moves_only_by_finite_seconds(advance: object) -> None:
    from emulator import ManualClock

    engine = Engine(EmulatorConfig(), clock=ManualClock())
    with TestClient(create_app(engine=engine)) as client:
        answer = client.post("/_emulator/clock", json={"advance": advance})
        assert answer.status_code == 422
        assert client.get("/_emulator/clock").json()["now"] == 0
