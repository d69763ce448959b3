"""Media specs in a shared store: any `MediaStore` on it renders what another registered."""

from __future__ import annotations

from emulator.core.store import Store
from emulator.media.cache import MediaStore
from emulator.media.spec import MediaSpec
from tests import shared_stores

stores = shared_stores.stores  # the fixture: every test on memory, SQLite and Redis
session_redis = shared_stores.session_redis

SPEC = MediaSpec("image", 64, 48, "png", "fal-ai/flux/dev", "a fox, é", 7, with_audio=False)


def test_a_spec_registered_in_one_is_found_by_the_other(stores: tuple[Store, Store]) -> None:
    first, second = (MediaStore(store=s, salt="shared") for s in stores)
    media_id = first.register(SPEC)
    assert second.lookup(media_id) == SPEC
    assert second.content(SPEC) == first.content(SPEC)
    assert second.lookup("0" * 32) is None
    # a restarted process on the same store, same salt: the same id, the same spec
    assert MediaStore(store=stores[1], salt="shared").lookup(media_id) == SPEC


def test_the_specs_kept_are_bounded(stores: tuple[Store, Store]) -> None:
    first, second = (MediaStore(store=s, max_specs=100) for s in stores)
    ids = [first.register(MediaSpec("image", 8, 8, "png", "e", "p", seed)) for seed in range(150)]
    assert stores[0].do("zcard", "media:specs") <= 100
    assert second.lookup(ids[-1]) is not None
    assert second.lookup(ids[0]) is None  # the oldest were dropped from the store


def test_an_unreadable_stored_spec_is_unknown(stores: tuple[Store, Store]) -> None:
    stores[0].do("set", "media:spec:" + "1" * 32, '{"kind": "image", "evil": 1}')
    stores[0].do("set", "media:spec:" + "2" * 32, "not json")
    media = MediaStore(store=stores[1])
    assert media.lookup("1" * 32) is None
    assert media.lookup("2" * 32) is None


def test_without_a_store_nothing_is_shared() -> None:
    media = MediaStore()
    assert MediaStore().lookup(media.register(SPEC)) is None
