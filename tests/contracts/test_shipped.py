"""The shipped documents load unchecked by their digests (`emulator.contracts.shipped`),
which must be current: a shipped document changed without them is checked as it loads."""

from __future__ import annotations

import pytest

from emulator.contracts import documents, loading
from emulator.contracts.shipped import SHIPPED
from tests.contracts.shipped_digests import MODULE, digests, module_text


def test_the_digests_are_those_of_the_shipped_documents() -> None:
    assert MODULE.read_text() == module_text(), (
        "a shipped contract changed: run tests/contracts/shipped_digests.py --write"
    )
    assert len(SHIPPED) == len(digests()) > 10


def test_the_shipped_documents_load_unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(endpoint: documents.Endpoint) -> None:
        raise AssertionError(f"{endpoint.id} was checked")

    monkeypatch.setattr(documents, "check_endpoint", refuse)
    loading._endpoint_at.cache_clear()
    loading._shipped_endpoints.cache_clear()
    assert len(list(loading.load_contracts([loading.DEFAULT_CONTRACTS_DIR]))) == len(SHIPPED)
