import json

import pytest

from emulator.contracts.validation import Violation
from emulator.core.jobs import Failure
from emulator.providers.fal.errors import (
    REQUEST_ERROR_STATUS,
    failure_response,
    status_error_fields,
)


@pytest.mark.parametrize(("error_type", "status"), sorted(REQUEST_ERROR_STATUS.items()))
def test_request_errors_carry_their_status_body_and_header(error_type: str, status: int) -> None:
    response = failure_response(Failure(error_type, "boom"), "req-1")
    assert response.status_code == status
    assert json.loads(response.body) == {"detail": "boom", "error_type": error_type}
    assert response.headers["x-fal-error-type"] == error_type
    assert response.headers["x-fal-request-id"] == "req-1"
    assert status_error_fields(Failure(error_type, "boom")) == {
        "error": "boom",
        "error_type": error_type,
    }


def test_model_validation_errors_are_pydantic_shaped_and_absent_from_status() -> None:
    failure = Failure(
        "invalid", "Unprocessable Entity", [Violation(("prompt",), "Field required", "missing")]
    )
    response = failure_response(failure, "req-1")
    assert response.status_code == 422
    assert json.loads(response.body) == {
        "detail": [{"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"}]
    }
    assert status_error_fields(failure) == {}
