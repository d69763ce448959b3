import json

from emulator.contracts.validation import Violation
from emulator.core.jobs import Failure
from emulator.core.timeline import QUEUE_TIMEOUT
from emulator.http.bodies import PayloadError
from emulator.providers.wavespeed.errors import (
    WaveSpeedError,
    answer,
    failure_message,
    task_code,
    validation_error,
)


def test_task_codes_follow_the_docs() -> None:
    assert task_code(Failure("moderated", "m")) == 1200
    assert task_code(Failure("media_not_accessible", "m")) == 1402
    assert task_code(Failure("timeout", "m")) == 5004
    assert task_code(Failure("something-new", "m")) == 5000


def test_a_queue_timeout_is_worded_as_wavespeed_words_5004() -> None:
    # The engine's default words for it are fal's ("… while waiting in the queue"): an audit.
    assert (task_code(QUEUE_TIMEOUT), failure_message(QUEUE_TIMEOUT)) == (5004, "Timeout")
    assert failure_message(QUEUE_TIMEOUT._replace(message="the fault's own")) == "the fault's own"


def test_validation_errors_name_each_field() -> None:
    error = validation_error(
        [Violation(("prompt",), "Field required", "missing"), Violation((), "bad", "x")]
    )
    assert error.status == 400
    assert error.body == {
        "code": 400,
        "message": "Invalid parameters: prompt: Field required; body: bad",
        "data": None,
    }


def test_answer_translates_only_what_it_knows() -> None:
    assert json.loads(answer(WaveSpeedError(404, "gone")).body) == {
        "code": 404,
        "message": "gone",
        "data": None,
    }
    too_deep = answer(PayloadError(422, "too_deep", "nested"))
    assert too_deep.status_code == 400  # WaveSpeed reports bad parameters as 400
    assert answer(PayloadError(413, "too_large", "big")).status_code == 413
    assert answer(ValueError("bug")) is None
