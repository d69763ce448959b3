"""fal's platform headers and the answers clients read, with the real fal_client (issue 18)."""

import fal_client
import httpx
import pytest
import wavespeed

from emulator import Progression, emulate

BITDANCE = "fal-ai/bitdance"


def test_start_timeout_on_the_queue_ends_in_fals_504_without_a_retry() -> None:
    with emulate(progression="wall:30,1") as emulation:
        with pytest.raises(fal_client.client.FalClientHTTPError) as failed:
            fal_client.subscribe(BITDANCE, arguments={"prompt": "x"}, start_timeout=1.1)
        assert failed.value.status_code == 504
        result = emulation.requests.filter(method="GET", status=504)
        assert result.call_count == 1  # the result, fetched once: no retry
        submitted = emulation.calls(BITDANCE)
        assert submitted.call_count == 1
        assert submitted.last.headers["x-fal-request-timeout"] == "1.1"


def test_start_timeout_on_a_sync_run_answers_504_user_and_is_not_retried() -> None:
    with emulate() as emulation:
        emulation.add_fault("starve")
        with pytest.raises(fal_client.client.FalClientHTTPError) as failed:
            fal_client.run(BITDANCE, arguments={"prompt": "x"}, start_timeout=1.1)
        assert failed.value.status_code == 504
        assert emulation.calls(BITDANCE).call_count == 1
        answered = emulation.requests.filter(status=504).last
        assert answered.path == f"/fal/run/{BITDANCE}"


def test_low_priority_waits_behind_normal_in_queue_position() -> None:
    with emulate(progression=Progression(mode="wall", queue=10, run=1, jitter=0, queue_position=4)):
        normal = fal_client.submit(BITDANCE, arguments={"prompt": "a"})
        low = fal_client.submit(BITDANCE, arguments={"prompt": "b"}, priority="low")
        positions = [handle.status().position for handle in (normal, low)]
        assert positions == [4, 8]


def test_high_priority_goes_ahead_of_normal() -> None:
    """fal's generic queue spec lists ``high`` too; the clients do not send it."""
    wall = Progression(mode="wall", queue=10, run=1, jitter=0, queue_position=4)
    with emulate(progression=wall), httpx.Client() as client:
        headers = {"Authorization": "Key k", "X-Fal-Queue-Priority": "high"}
        submitted = client.post(
            f"https://queue.fal.run/{BITDANCE}", json={"prompt": "x"}, headers=headers
        ).json()
        assert submitted["queue_position"] == 2
        headers["X-Fal-Queue-Priority"] = "urgent"
        refused = client.post(f"https://queue.fal.run/{BITDANCE}", json={}, headers=headers)
        assert refused.status_code == 422


def test_a_full_queue_answers_429_counting_its_keys_own_requests() -> None:
    # The queue counts its key's own requests: a client of its own sends key k (the module's
    # client keeps the first key it read, which an earlier test may have set).
    fal = fal_client.SyncClient(key="k")
    with emulate(progression="wall:30,1") as emulation:
        other = fal_client.SyncClient(key="other")  # another key's queue is its own
        for n in range(2):
            other.submit(BITDANCE, arguments={"prompt": f"other {n}"})
        first = httpx.post(
            f"https://queue.fal.run/{BITDANCE}?fal_max_queue_length=2",
            json={"prompt": "first"},
            headers={"Authorization": "Key k"},
        )
        assert first.status_code == 200
        fal.submit(BITDANCE, arguments={"prompt": "second"})
        with httpx.Client() as client:
            answer = client.post(
                f"https://queue.fal.run/{BITDANCE}?fal_max_queue_length=2",
                json={"prompt": "x"},
                headers={"Authorization": "Key k"},
            )
        assert answer.status_code == 429 and "holds 2" in answer.json()["detail"]
        assert len(emulation.jobs) == 4  # the other key's two and k's two


def test_every_queue_answer_names_the_request() -> None:
    with emulate(progression="immediate"), httpx.Client() as client:
        headers = {"Authorization": "Key k"}
        submitted = client.post(
            f"https://queue.fal.run/{BITDANCE}", json={"prompt": "x"}, headers=headers
        )
        request_id = submitted.json()["request_id"]
        status = client.get(submitted.json()["status_url"], headers=headers)
        result = client.get(submitted.json()["response_url"], headers=headers)
        assert {submitted.headers["x-fal-request-id"], status.headers["x-fal-request-id"]} == {
            request_id
        }
        assert result.headers["x-fal-billable-units"] == "1"


def test_run_with_get_takes_its_input_from_the_query() -> None:
    with emulate():
        output = fal_client.run(BITDANCE, arguments={}, method="GET", path="?prompt=a+cat")
        assert output["prompt"] == "a cat"


def test_a_content_policy_refusal_as_fal_reports_it() -> None:
    with emulate() as emulation:
        emulation.add_fault("fail", error_type="content_policy_violation")
        with pytest.raises(fal_client.client.FalClientHTTPError) as failed:
            fal_client.subscribe(BITDANCE, arguments={"prompt": "x"})
        assert failed.value.status_code == 422
        detail = failed.value.response.json()["detail"][0]
        assert (detail["type"], detail["loc"]) == ("content_policy_violation", ["body", "prompt"])


def test_wavespeed_task_codes_carry_their_meaning() -> None:
    with emulate() as emulation:
        emulation.add_fault("fail", code=1200)
        with pytest.raises(RuntimeError, match="moderation"):
            wavespeed.run("wavespeed-ai/bitdance-14b/text-to-image", {"prompt": "x"})
