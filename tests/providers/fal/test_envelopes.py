from hypothesis import given
from hypothesis import strategies as st

from emulator import EmulatorConfig, Engine
from emulator.contracts.documents import Endpoint
from emulator.core.lifecycle import Phase
from emulator.core.timeline import Look
from emulator.http.responses import encode_json
from emulator.providers.fal.envelopes import request_urls, submit_answer

ENGINE = Engine(EmulatorConfig(seed=1))
ENDPOINTS = sorted(ENGINE.contracts.of("fal"), key=lambda endpoint: endpoint.id)


@given(
    base=st.sampled_from(["http://127.0.0.1:8000/fal/queue", "https://queue.fal.run"])
    | st.text(),  # a public URL may hold anything: quotes, backslashes, controls, non-ASCII
    endpoint=st.sampled_from(ENDPOINTS),
    position=st.integers(0, 10**6),
)
def test_a_submit_answer_is_the_encoded_body_byte_for_byte(
    base: str, endpoint: Endpoint, position: int
) -> None:
    job = ENGINE.submit(endpoint, {"prompt": "x"}, "k", queued=False)
    body = {
        "status": "IN_QUEUE",
        "request_id": job.id,
        **request_urls(base, job),
        "queue_position": position,
    }
    look = Look(Phase.QUEUED, 0.5, position)
    assert submit_answer(base, job, look) == encode_json(body)
