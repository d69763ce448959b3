import gc
from dataclasses import replace

from emulator.contracts.documents import Endpoint
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.memo import EndpointMemo

ENDPOINT = next(iter(load_contracts([DEFAULT_CONTRACTS_DIR])))


def test_a_value_is_made_once_per_endpoint() -> None:
    made: list[Endpoint] = []
    memo = EndpointMemo(lambda endpoint: made.append(endpoint) or len(made))
    twin = replace(ENDPOINT)  # equal fields, another endpoint
    assert memo.get(ENDPOINT) == 1 and memo.get(ENDPOINT) == 1
    assert memo.get(twin) == 2
    assert made == [ENDPOINT, twin] and made[1] is twin


def test_a_value_goes_with_its_endpoint() -> None:
    made: list[int] = []
    memo = EndpointMemo(lambda endpoint: made.append(1) or [len(made)])
    for count in range(1, 4):  # endpoints made and dropped, their identities free to come again
        passing: Endpoint = replace(ENDPOINT)
        assert memo.get(passing) == [count]  # never another endpoint's, gone before
        del passing
        gc.collect()
    assert memo.made == {}
