import gc
from dataclasses import replace

from emulator.contracts.documents import Endpoint
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.memo import EndpointMemo

ENDPOINT = next(iter(load_contracts([DEFAULT_CONTRACTS_DIR])))


def test_a_value_is_kept_per_endpoint_and_the_first_kept_wins() -> None:
    memo: EndpointMemo[str] = EndpointMemo()
    twin = replace(ENDPOINT)  # equal fields, another endpoint
    assert memo.get(ENDPOINT) is None
    assert memo.setdefault(ENDPOINT, "first") == "first"
    assert memo.setdefault(ENDPOINT, "second") == "first"
    assert memo.get(twin) is None and memo.setdefault(twin, "twin's") == "twin's"


def test_a_value_goes_with_its_endpoint() -> None:
    memo: EndpointMemo[list[int]] = EndpointMemo()
    for _ in range(3):  # endpoints made and dropped, their identities free to come again
        passing: Endpoint = replace(ENDPOINT)
        assert memo.get(passing) is None  # never another endpoint's, gone before
        memo.setdefault(passing, [1])
        del passing
        gc.collect()
    assert memo._values == {}
