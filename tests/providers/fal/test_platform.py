"""fal's platform parameters on a submit (emulator/providers/fal/platform.py), through the
app in-process."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

BITDANCE = "/fal/queue/fal-ai/bitdance"


def submit(client: TestClient, query: str) -> int:
    return client.post(f"{BITDANCE}?{query}", json={"prompt": "a cat"}).status_code


def test_a_max_queue_length_past_int_s_digits_is_no_limit_not_a_500(client: TestClient) -> None:
    # Python's int() reads at most 4,300 digits; a longer number is past any queue
    assert submit(client, "fal_max_queue_length=" + "9" * 5000) == 200


def test_a_max_queue_length_with_many_leading_zeros_is_its_number(client: TestClient) -> None:
    one = "fal_max_queue_length=" + "0" * 5000 + "1"
    assert [submit(client, one), submit(client, one)] == [200, 429]  # the first waits


@pytest.mark.parametrize("given", ["x", "-1", "%C2%B2"])
def test_a_max_queue_length_not_a_whole_number_is_a_422(client: TestClient, given: str) -> None:
    assert submit(client, f"fal_max_queue_length={given}") == 422
