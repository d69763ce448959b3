"""Every shared store answers every operation as Redis does: memory, SQLite, Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.core.redis_store import BREAK
from emulator.core.store import Op, Store, StoreUnavailable, open_store
from tests.redis_server import RedisServer


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
    elif request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'state.db'}"
    else:
        url = "memory://"
    opened = open_store(url)
    yield opened
    opened.flush()
    opened.close()


def test_strings_and_counters(store: Store) -> None:
    assert store.do("get", "a") is None
    assert store.batch([("set", "a", "x"), ("setnx", "a", "y"), ("get", "a")]) == [
        True,
        False,
        b"x",
    ]
    assert store.do("incr", "n", 1) == 1
    assert store.do("incr", "n", 5) == 6
    assert store.do("delete", "a", "n") == 2
    assert store.do("get", "n") is None


def test_hashes(store: Store) -> None:
    store.do("hset", "h", {"a": "1", "b": b"\x00\xff"})
    assert store.do("hgetall", "h") == {"a": b"1", "b": b"\x00\xff"}
    assert store.do("hincrby", "h", "a", 2) == 3
    assert store.batch([("hsetnx", "h", "c", "z"), ("hsetnx", "h", "c", "w")]) == [True, False]
    assert store.do("hget", "h", "c") == b"z"
    assert store.do("hdel", "h", "a") == 1
    assert sorted(store.do("hgetall", "h")) == ["b", "c"]
    assert store.do("hgetall", "missing") == {}


def test_sorted_sets_order_by_score_then_member(store: Store) -> None:
    for member, score in [("c", 2.0), ("a", 1.0), ("b", 2.0), ("d", 3.5)]:
        store.do("zadd", "z", member, score)
    assert store.do("zrange", "z", 0, -1) == ["a", "b", "c", "d"]
    assert store.do("zrange", "z", -2, -1) == ["c", "d"]
    assert store.do("zrange", "z", 1, 2) == ["b", "c"]
    assert store.do("zrangebyscore", "z", 2.0, 10) == ["a", "b", "c"]
    assert store.do("zrangebyscore", "z", 2.0, 1) == ["a"]
    assert store.do("zcard", "z") == 4
    assert store.do("zscore", "z", "d") == 3.5
    assert store.batch([("zrem", "z", "a"), ("zrem", "z", "a")]) == [True, False]


def test_lists(store: Store) -> None:
    store.do("rpush", "l", "a", "b", "c", "d")
    assert store.do("lrange", "l", 0, -1) == [b"a", b"b", b"c", b"d"]
    assert store.do("lrange", "l", -2, -1) == [b"c", b"d"]
    store.do("ltrim", "l", -3, -1)
    assert store.do("lrange", "l", 0, -1) == [b"b", b"c", b"d"]
    assert store.do("llen", "l") == 3


def test_announcements_move_the_version(store: Store) -> None:
    before = store.version("rules")
    store.announce("rules")
    assert store.version("rules") != before


def test_flush_forgets_everything(store: Store) -> None:
    store.batch([("set", "a", "1"), ("hset", "h", {"f": "v"}), ("rpush", "l", "x")])
    store.flush()
    assert store.batch([("get", "a"), ("hgetall", "h"), ("llen", "l")]) == [None, {}, 0]


def test_a_kept_secret_is_random_the_same_for_all_and_outlives_a_flush(store: Store) -> None:
    first = store.kept_secret("a")
    assert len(first) == 32 and store.kept_secret("a") == first != store.kept_secret("b")
    store.flush()
    assert store.kept_secret("a") == first


@pytest.mark.slow  # starts a Redis and waits out the store's 1 s break
def test_a_redis_that_is_down_is_unavailable_not_an_error(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    store = open_store(server.url)  # nothing listens there
    with pytest.raises(StoreUnavailable, match="Redis at redis://127.0.0.1"):
        store.do("get", "a")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="Redis at redis://127.0.0.1"):
        store.do("get", "a")  # within the break: refused at once, Redis not asked
    assert time.monotonic() - started < BREAK
    server.start()
    try:
        time.sleep(BREAK)
        assert store.do("incr", "a", 1) == 1  # after the break it asks again: recovered
    finally:
        server.stop()


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="redis://"):
        open_store("postgres://x")


def test_a_flush_keeps_the_versions_moving_on(store: Store) -> None:
    store.announce("rules")
    before = store.version("rules")
    store.flush()
    store.announce("rules")
    assert store.version("rules") > before  # a version cached before is never seen again


def test_lpop_takes_each_item_once(store: Store) -> None:
    store.do("rpush", "l", "a", "b")
    assert [store.do("lpop", "l") for _ in range(3)] == [b"a", b"b", None]


def test_a_tally_is_forgotten_once_back_at_zero(store: Store) -> None:
    assert store.batch([("tally", "t", 5), ("tally", "t", -2)]) == [5, 3]
    assert store.do("get", "t") == b"3"
    assert store.do("tally", "t", -3) == 0
    assert store.do("get", "t") is None  # nothing left of a count back at zero
    assert store.do("tally", "t", 4) == 4


def test_a_ztally_counts_a_member_and_forgets_it_at_zero(store: Store) -> None:
    assert store.batch([("ztally", "z", "a", 5), ("ztally", "z", "b", 2)]) == [5, 2]
    assert store.do("zrange", "z", 0, -1) == ["b", "a"]  # ranked by what each holds
    assert store.guarded(("zrem", "z", "b"), [("ztally", "z", "a", -5)]) == [0]
    assert store.do("zcard", "z") == 0  # nothing left of a member back at zero
    assert store.do("ztally", "z", "a", 4) == 4 and store.do("zscore", "z", "a") == 4


def test_a_guarded_batch_runs_whole_or_not_at_all(store: Store) -> None:
    store.batch([("zadd", "due", "a#0", 1.0), ("hset", "h", {"f": "1"})])
    taken = store.guarded(
        ("zrem", "due", "a#0"),
        [("zadd", "due", "a#1", 2.0), ("hgetall", "h"), ("rpush", "l", "x", "y")],
    )
    assert taken == [1, {"f": b"1"}, 2]
    assert store.do("zrange", "due", 0, -1) == ["a#1"]
    # the guard no longer holds: nothing else runs
    assert store.guarded(("zrem", "due", "a#0"), [("zadd", "due", "b#0", 0.0)]) is None
    assert store.do("zrange", "due", 0, -1) == ["a#1"]
    moved = store.guarded(
        ("zrem", "due", "a#1"),
        [("hset", "h", {"f": "2", "g": b"\x00"}), ("delete", "l"), ("tally", "t", 3)],
    )
    assert moved == [1, 1, 3]
    assert store.do("hgetall", "h") == {"f": b"2", "g": b"\x00"}
    assert store.do("zcard", "due") == 0 and store.do("llen", "l") == 0
    store.do("zadd", "due", "c#0", 1.0)
    assert store.guarded(("zrem", "due", "c#0"), [("tally", "t", -3), ("llen", "l")]) == [0, 0]
    assert store.do("get", "t") is None  # a tally back at zero is forgotten there too


def test_a_guarded_incr_takes_the_same_default_step_as_a_batch(store: Store) -> None:
    store.do("zadd", "due", "a#0", 1.0)
    assert store.guarded(("zrem", "due", "a#0"), [("incr", "n"), ("incr", "n", 2)]) == [1, 3]
    assert store.do("get", "n") == b"3"


def test_a_guarded_hmget_answers_as_a_batch_does_missing_fields_included(store: Store) -> None:
    store.batch([("zadd", "due", "a#0", 1.0), ("hset", "h", {"f": b"\x00", "g": "2"})])
    read: Op = ("hmget", "h", "g", "missing", "f")
    assert store.do(*read) == [b"2", None, b"\x00"]
    assert store.guarded(("zrem", "due", "a#0"), [read, ("hmget", "none", "f")]) == [
        [b"2", None, b"\x00"],
        [None],
    ]


def test_a_guarded_set_answers_as_a_batch_does(store: Store) -> None:
    store.do("zadd", "due", "a#0", 1.0)
    assert store.guarded(("zrem", "due", "a#0"), [("set", "k", b"\x00v")]) == [True]
    assert store.do("get", "k") == b"\x00v"


def test_a_guarded_batch_takes_commands_of_many_words(store: Store) -> None:
    # Lua's unpack gives a script at most some 8,000 values at once
    store.do("zadd", "due", "a#0", 1.0)
    items = [str(number) for number in range(20_001)]
    fields = {f"f{number}": number for number in range(9_001)}
    taken = store.guarded(
        ("zrem", "due", "a#0"), [("rpush", "l", *items), ("hset", "h", fields), ("hdel", "h", "f0")]
    )
    assert taken == [20_001, 9_001, 1]
    assert store.do("lrange", "l", 0, -1) == [item.encode() for item in items]
    assert len(store.do("hgetall", "h")) == 9_000


def test_a_guarded_hmget_of_many_fields_answers_every_field_in_order(store: Store) -> None:
    # The script runs a long command in parts and adds their answers: an hmget's are lists
    store.batch([("zadd", "due", "a#0", 1.0), ("hset", "h", {"f0": "0", "f8000": "8000"})])
    fields = [f"f{number}" for number in range(9_001)]
    taken = store.guarded(("zrem", "due", "a#0"), [("hmget", "h", *fields)])
    assert taken is not None
    assert len(taken[0]) == 9_001
    assert (taken[0][0], taken[0][8_000], taken[0].count(None)) == (b"0", b"8000", 8_999)


def test_a_guarded_set_keeps_big_binary_values_as_a_batch_does(store: Store) -> None:
    value = bytes(range(256)) * 8192  # 2 MiB, every byte value
    store.do("zadd", "due", "a", 1.0)
    assert store.guarded(("zrem", "due", "a"), [("set", "big", value)]) == [True]
    assert store.do("get", "big") == value
