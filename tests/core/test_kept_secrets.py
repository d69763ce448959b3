"""Random keys the engine keeps: the same for every process on one store, never the seed's."""

from __future__ import annotations

from emulator.core.kept_secrets import KeptSecrets
from emulator.core.store import Store
from tests import shared_stores

stores = shared_stores.stores


def test_every_process_on_a_store_keeps_the_same_key_across_a_flush(
    stores: tuple[Store, Store],
) -> None:
    one, other = stores
    made = KeptSecrets(one)("cdn")
    one.flush()
    assert KeptSecrets(other)("cdn") == made and len(made) == 32
    assert KeptSecrets(other)("realtime") != made


def test_without_a_store_a_process_keeps_one_key_a_name() -> None:
    assert KeptSecrets(None)("cdn") == KeptSecrets(None)("cdn")
    assert KeptSecrets(None)("cdn") != KeptSecrets(None)("realtime")
