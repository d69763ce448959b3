"""Where fal's types cannot mean what they say, the catalogue's guess, marked as one:
``Record<string, never>`` (no field at all) is an open object."""

from __future__ import annotations

import fal_client
import pytest

from emulator import emulate
from emulator.contracts.catalogue import shipped_catalogue

OPENAI_COMPATIBLE = [
    "openrouter/router/openai/v1/chat/completions",
    "openrouter/router/openai/v1/embeddings",
    "openrouter/router/openai/v1/responses",
]


@pytest.mark.parametrize("endpoint_id", OPENAI_COMPATIBLE)
def test_an_openai_compatible_endpoint_takes_any_field(endpoint_id: str) -> None:
    """Every field was refused (422 ``extra_forbidden`` on ``model``): an audit."""
    body = {"model": "google/gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}
    with emulate():
        assert fal_client.run(endpoint_id, arguments=body) == {}


def test_the_open_object_is_marked_as_a_guess() -> None:
    catalogue = shipped_catalogue()
    for endpoint_id in OPENAI_COMPATIBLE:
        endpoint = catalogue.endpoint(endpoint_id)
        assert endpoint is not None
        for schema in (endpoint.input_schema, endpoint.output_schema):
            opened = endpoint.resolve(schema)
            assert opened["additionalProperties"] is True
            assert "Record<string, never>" in opened["x-emulator-guess"]
