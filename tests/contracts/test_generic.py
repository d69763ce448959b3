"""The generic contract (``--unknown-endpoints generic``): one for any id a model can have,
none for an id no model can have."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.contracts.generic import generic_endpoint

#: ids no model can have: malformed, or starting with a path of the provider's own API
NO_MODEL_IDS = [
    "",
    "wavespeed-ai//z-image/turbo",
    "a b/c",
    "a/b/",
    "/a/b",
    "fal-ai/x?y",
    "acme/{request_id}",
]
RESERVED = {
    "wavespeed": ["balance/x", "webhook/x", "model/price/x", "upload/x", "predictions/abc/result"],
    "fal": ["fal-ai/x/requests/abc/status"],
}


@pytest.mark.parametrize("provider", ["fal", "wavespeed"])
def test_an_id_no_model_can_have_has_no_generic_contract(provider: str) -> None:
    for endpoint_id in NO_MODEL_IDS + RESERVED[provider]:
        assert generic_endpoint(provider, endpoint_id) is None, endpoint_id


@given(provider=st.sampled_from(["fal", "wavespeed"]), endpoint_id=st.text(max_size=40))
def test_any_id_a_client_sends_has_a_generic_contract_or_none(
    provider: str, endpoint_id: str
) -> None:
    endpoint = generic_endpoint(provider, endpoint_id)
    assert endpoint is None or endpoint.id == endpoint_id
