"""Which keys hold the most of a shared budget, however many keys there are."""

from random import Random

from emulator.core.holdings import Holdings


def test_the_keys_holding_the_most_come_first_and_ties_by_key() -> None:
    holdings = Holdings()
    for key, items, size in (("a", 2, 10), ("b", 3, 5), ("c", 2, 40), ("b", -1, -1)):
        holdings.change(key, items, size)
    assert holdings.most(3, by_bytes=False) == ["a", "b", "c"]  # 2 each now
    assert holdings.most(2, by_bytes=True) == ["c", "a"]
    assert (holdings.total_items, holdings.total_bytes) == (6, 54)


def test_a_key_that_holds_nothing_is_forgotten() -> None:
    holdings = Holdings()
    holdings.change("a", 1, 7)
    holdings.change("a", -1, -7)
    assert holdings.items == {} and holdings.most(1, by_bytes=True) == []


def test_over_names_the_key_to_take_from_items_first() -> None:
    holdings = Holdings()
    holdings.change("many", 5, 5)
    holdings.change("big", 1, 100)
    assert holdings.over(10, 1000) is None
    assert holdings.over(5, 1000) == "many"
    assert holdings.over(10, 50) == "big"


def test_after_many_changes_the_answers_are_right_and_the_heaps_small() -> None:
    holdings, random = Holdings(), Random(7)
    for _ in range(5_000):
        key = f"k{random.randrange(10)}"
        held = holdings.items.get(key, 0)
        change = random.choice([1, 1, -1]) if held else 1
        holdings.change(key, change, change * 3)
        expected = sorted(holdings.items, key=lambda k: (-holdings.items[k], k))[:3]
        assert holdings.most(3, by_bytes=False) == expected
        assert holdings.most(3, by_bytes=True) == expected  # 3 bytes an item
    assert len(holdings._by_items) <= 2 * len(holdings.items) + 64


def test_level_takes_from_the_keys_holding_the_most_down_to_the_next() -> None:
    holdings = Holdings()
    for key, items in (("a", 10), ("b", 8), ("c", 3), ("d", 1)):
        holdings.change(key, items, items * 10)
    assert holdings.level(2, by_bytes=False) == (["a"], 8)
    # a and b down to 6 give up 6: c, holding 3, gives nothing
    assert holdings.level(5, by_bytes=False) == (["a", "b"], 6)
    assert holdings.level(130, by_bytes=True) == (["a", "b", "c"], (210 - 130) // 3)
    assert holdings.level(100, by_bytes=False) == (["a", "b", "c", "d"], 0)
    assert holdings.level(2, by_bytes=False) == (["a"], 8)  # asking changed nothing
